using System;
using System.IO;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace ML.DeepExtensions.Networks;

/// <summary>
/// Packages of this family (<c>ML.DeepExtensions.Vision</c>, <c>ML.DeepExtensions.Text</c>, …) register their layer kinds
/// and architectures from a <c>[ModuleInitializer]</c>. A network naming something such a package registers can be read in
/// a process that never touched the package: the registries load the assembly by the simple name the network records
/// and run its module initializer.
/// </summary>
internal static class PackageAssemblies
{
    /// <summary>Loads the assembly by simple name and runs its module initializer (where packages register); null or the failure.</summary>
    public static string? RunModuleInitializerOf(string assemblyName)
    {
        try
        {
            var assembly = Assembly.Load(new AssemblyName(assemblyName));
            RuntimeHelpers.RunModuleConstructor(assembly.ManifestModule.ModuleHandle);
            return null;
        }
        catch (Exception ex) when (ex is FileNotFoundException or FileLoadException or BadImageFormatException or ArgumentException)
        {
            return ex.Message;
        }
    }
}
