// Training tests are CPU-bound on small machines; running them one at a time keeps timings and thread use predictable.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
