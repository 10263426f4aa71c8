// The audio package's access to ML.NET internals, declared once, with the core's attribute class (seen through
// InternalsVisibleTo). CoreCLR honours IgnoresAccessChecksTo; compilation sees the internals through publicized
// reference copies (eng/PublicizeMLInternals.targets). See DESIGN.md §3.1.
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Core")]
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Data")]
