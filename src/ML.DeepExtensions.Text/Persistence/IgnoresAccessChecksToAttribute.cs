using ML.DeepExtensions.Text.Persistence;

// The core package declares the same internal attribute and lets this assembly see its internals (CS0436):
// this assembly keeps its own, so it does not depend on the core's internals for its access rights.
#pragma warning disable CS0436
// CoreCLR honours this attribute: code in this assembly may use internal members of the named assemblies.
// Compilation sees them through publicized reference copies (eng/PublicizeMLInternals.targets). See DESIGN.md §3.1.
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Core")]
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Data")]
[assembly: Microsoft.ML.LoadableClass(typeof(ML.DeepExtensions.Text.Tokenization.TokenizingTransformer), typeof(TokenizerFormat), null,
    typeof(Microsoft.ML.SignatureLoadModel), "Tokenizing Transformer", TokenizerFormat.LoaderSignature)]
#pragma warning restore CS0436

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
