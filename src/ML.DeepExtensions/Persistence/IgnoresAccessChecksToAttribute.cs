using ML.DeepExtensions.Persistence;

// CoreCLR honours this attribute: code in this assembly may use internal members of the named assemblies.
// Compilation sees them through publicized reference copies (eng/PublicizeMLInternals.targets). See DESIGN.md §3.1.
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Core")]
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Data")]
[assembly: Microsoft.ML.LoadableClass(typeof(ML.DeepExtensions.Scoring.NeuralNetworkTransformer), typeof(ModelFormat), null,
    typeof(Microsoft.ML.SignatureLoadModel), "Neural Network Transformer", ModelFormat.LoaderSignature)]

namespace System.Runtime.CompilerServices
{
    /// <summary>Lets this assembly use internals of <see cref="AssemblyName"/> at run time.</summary>
    [AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
    internal sealed class IgnoresAccessChecksToAttribute : Attribute
    {
        public IgnoresAccessChecksToAttribute(string assemblyName) => AssemblyName = assemblyName;

        public string AssemblyName { get; }
    }
}
