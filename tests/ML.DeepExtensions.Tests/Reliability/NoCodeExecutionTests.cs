using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using ML.DeepExtensions.Pretrained;
using Xunit;
using Xunit.Abstractions;

namespace ML.DeepExtensions.Tests.Reliability;

/// <summary>
/// Issue 10, "no code execution from files". A <c>.pt</c> file is a pickle, and Python's unpickler calls whatever global a
/// pickle names (<c>__reduce__</c>). TorchSharp.PyBridge reads pickles with Razorvine.Pickle, which builds only the classes
/// registered with it (PyBridge registers tensors and <c>OrderedDict</c>) and turns any other global into an inert
/// dictionary — so these payloads, which run a command under CPython (checked here when python3 is installed), must be
/// rejected as invalid files without running anything. Model zips and the other weight formats contain no code at all.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class NoCodeExecutionTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("mldx-pickle-").FullName;
    private readonly ITestOutputHelper _output;

    public NoCodeExecutionTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    public static TheoryData<string, string, bool> Payloads => new()
    {
        // module, callable, nested as a state-dict value (else the whole pickle)
        { "posix", "system", false },
        { "posix", "system", true },
        { "os", "system", false },
        { "builtins", "eval", false },
        { "builtins", "exec", true },
        { "subprocess", "check_call", false },
        { "torch._utils", "_rebuild_tensor_v2", false }, // a registered name called with a command instead of a storage
    };

    [Theory]
    [MemberData(nameof(Payloads))]
    public void PickleWithAReducePayload_IsRejectedWithoutRunningIt(string module, string callable, bool nested)
    {
        var marker = Path.Combine(_directory, $"ran-{module}-{callable}-{nested}");
        var command = $"touch '{marker}'";
        var argument = callable switch
        {
            "eval" => $"__import__('os').system(\"{command}\")",
            "exec" => $"import os; os.system(\"{command}\")",
            _ => command,
        };
        var payload = new Action<TorchPickle>(p =>
        {
            p.Global(module, callable);
            if (callable == "check_call")
                p.Mark().Mark().String("touch").String(marker).Op((byte)'l').Tuple(); // (["touch", marker],)
            else
                p.Mark().String(argument).Tuple();
            p.Reduce();
        });
        byte[] pickle;
        if (nested)
        {
            pickle = TorchPickle.StateDict("0.weight", payload);
        }
        else
        {
            var p = new TorchPickle();
            payload(p);
            pickle = p.Stop();
        }
        var path = Path.Combine(_directory, $"{module}-{callable}-{nested}.pt");
        TorchPickle.WriteArchive(path, pickle, new Dictionary<string, Action<Stream>>());

        var ex = Record.Exception(() => PretrainedWeights.FromPyTorch(path).Describe());

        _output.WriteLine(ex?.Message ?? "(no exception)");
        Assert.IsType<PretrainedWeightsException>(ex);
        Assert.False(File.Exists(marker), "the pickle's payload ran");

        if (module != "torch._utils" && PythonUnpickles(path, marker))
            _output.WriteLine($"CPython's pickle.load ran the same payload (created {marker}): the payload is live");
    }

    /// <summary>Whether CPython (when installed) runs the payload: proves the pickle would execute code in Python.</summary>
    private bool PythonUnpickles(string path, string marker)
    {
        var start = new ProcessStartInfo("python3") { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("import pickle, sys, zipfile\ntry:\n    pickle.loads(zipfile.ZipFile(sys.argv[1]).read('archive/data.pkl'))\nexcept Exception as e:\n    print(e)");
        start.ArgumentList.Add(path);
        try
        {
            using var process = Process.Start(start)!;
            process.WaitForExit(30_000);
            _output.WriteLine(process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd());
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // no python3 here
        }
        var ran = File.Exists(marker);
        File.Delete(marker);
        return ran;
    }
}
