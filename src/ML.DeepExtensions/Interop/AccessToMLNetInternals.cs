// The core package's access to ML.NET internals, declared once. CoreCLR honours IgnoresAccessChecksTo: code in this
// assembly may use internal members of the named assemblies; compilation sees them through publicized reference
// copies (eng/PublicizeMLInternals.targets). See DESIGN.md §3.1. The packages built on the core (Vision, Text) declare
// their own access with this same attribute class (they see it through InternalsVisibleTo) in their Interop/ folder.
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Core")]
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Data")]

namespace System.Runtime.CompilerServices
{
    /// <summary>Lets an assembly use internals of <see cref="AssemblyName"/> at run time.</summary>
    [AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
    internal sealed class IgnoresAccessChecksToAttribute : Attribute
    {
        public IgnoresAccessChecksToAttribute(string assemblyName) => AssemblyName = assemblyName;

        public string AssemblyName { get; }
    }
}
