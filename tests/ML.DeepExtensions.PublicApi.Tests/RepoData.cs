using System;
using System.IO;

namespace ML.DeepExtensions.PublicApi.Tests;

/// <summary>Finds the real data committed under data/ (see data/README.md) from the test's output folder.</summary>
internal static class RepoData
{
    public static string Path(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate) || Directory.Exists(candidate))
                return candidate;
        }
        throw new FileNotFoundException($"'{relative}' not found above {AppContext.BaseDirectory}.");
    }

    /// <summary>A fresh temporary directory, deleted when disposed.</summary>
    public static TemporaryDirectory Temporary() => new(Directory.CreateTempSubdirectory("mldx-public-api-").FullName);

    public sealed class TemporaryDirectory(string path) : IDisposable
    {
        public string File(string name) => System.IO.Path.Combine(path, name);

        public void Dispose() => Directory.Delete(path, recursive: true);
    }
}
