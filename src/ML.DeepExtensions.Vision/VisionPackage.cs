namespace ML.DeepExtensions.Vision;

// Package skeleton: content arrives with issue 3.
internal static class VisionPackage
{
}
