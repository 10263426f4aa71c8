// Publicizer: writes a compile-only copy of a .NET assembly whose internal surface is public.
//
//   Publicizer <input.dll> <output.dll> [--force] [--exclude <Namespace.TypeName>]...
//
// What is changed (everything else is left as it was, including virtual/abstract/sealed-ness):
//   * types:   internal -> public; nested internal / private protected / protected internal -> public
//   * methods (so also property and event accessors), fields:
//              internal / private protected / protected internal -> public
//   * private and protected members/types stay as they are: nothing needs them, and opening private
//     ones would make e.g. an event's private backing field (same name as the event) clash with it,
//     and add CS0108 hiding warnings (errors here) in our derived classes.
//   * skipped: compiler-generated names ('<' in the name: closures, state machines, backing
//     fields, <PrivateImplementationDetails>, <Module>), types marked [CompilerGenerated] or
//     [Microsoft.CodeAnalysis.Embedded] (compiler-injected polyfill attributes), and internal types
//     in System.* / Microsoft.CodeAnalysis namespaces (polyfills that would become ambiguous with
//     the framework's own public types).
//   * --exclude keeps the named top-level type (and its nested types) as it is: for an internal type whose
//     name would otherwise clash with one of ours (CS0104 where both namespaces are imported).
//   * the strong-name flag is cleared (the copy is unsigned) and [ReferenceAssembly] is added, so
//     that the runtime refuses to execute the copy should it ever be deployed by mistake.
//
// Consequence for code compiled against the copy: an override of an ML.NET `private protected` or
// `protected internal` member is written `public override` (the runtime accepts the wider access
// thanks to IgnoresAccessChecksTo); `protected` members stay `protected override`.
//
// The output is written only when it is missing or older than the input or than this tool (always
// with --force), to a temporary file first that is then moved into place, so that concurrent builds
// never see a half-written file.

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Mono.Cecil;

namespace Publicizer;

internal static class Program
{
    private static int Main(string[] args)
    {
        var positional = new List<string>();
        var excluded = new HashSet<string>(StringComparer.Ordinal);
        bool force = false;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--force")
            {
                force = true;
            }
            else if (args[i] == "--exclude" && i + 1 < args.Length)
            {
                excluded.Add(args[++i]);
            }
            else if (args[i].StartsWith("--", StringComparison.Ordinal))
            {
                positional.Clear();
                break;
            }
            else
            {
                positional.Add(args[i]);
            }
        }

        if (positional.Count != 2)
        {
            Console.Error.WriteLine("usage: Publicizer <input.dll> <output.dll> [--force] [--exclude <Namespace.TypeName>]...");
            return 2;
        }

        string input = Path.GetFullPath(positional[0]);
        string output = Path.GetFullPath(positional[1]);
        if (!File.Exists(input))
        {
            Console.Error.WriteLine($"Publicizer: error: input '{input}' does not exist.");
            return 1;
        }

        if (!force && IsUpToDate(input, output))
        {
            Console.WriteLine($"Publicizer: '{output}' is up to date.");
            return 0;
        }

        try
        {
            var stats = Publicize(input, output, excluded);
            Console.WriteLine(
                $"Publicizer: {Path.GetFileName(input)} -> {output} " +
                $"({stats.Types} types, {stats.Methods} methods, {stats.Fields} fields made public; {stats.Excluded} types excluded).");
            return 0;
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"Publicizer: error: failed to publicize '{input}': {ex}");
            return 1;
        }
    }

    private static bool IsUpToDate(string input, string output)
    {
        if (!File.Exists(output))
        {
            return false;
        }

        DateTime outputTime = File.GetLastWriteTimeUtc(output);
        DateTime toolTime = File.GetLastWriteTimeUtc(typeof(Program).Assembly.Location);
        return outputTime > File.GetLastWriteTimeUtc(input) && outputTime > toolTime;
    }

    private sealed class Stats
    {
        public int Types;
        public int Methods;
        public int Fields;
        public int Excluded;
    }

    private static Stats Publicize(string input, string output, IReadOnlySet<string> excluded)
    {
        var stats = new Stats();
        using var resolver = new DefaultAssemblyResolver();
        resolver.AddSearchDirectory(Path.GetDirectoryName(input)!);

        // Read the whole file into memory so that the input is never locked.
        using var source = new MemoryStream(File.ReadAllBytes(input));
        using var module = ModuleDefinition.ReadModule(
            source,
            new ReaderParameters { ReadingMode = ReadingMode.Immediate, AssemblyResolver = resolver, ReadSymbols = false });

        foreach (TypeDefinition type in module.GetTypes())
        {
            if (IsSkippedType(type))
            {
                continue;
            }

            if (excluded.Contains(OuterMost(type).FullName))
            {
                stats.Excluded++;
                continue;
            }

            if (PublicizeType(type))
            {
                stats.Types++;
            }

            foreach (MethodDefinition method in type.Methods)
            {
                if (IsCompilerGeneratedName(method.Name) || !IsInternalish(method.Attributes & MethodAttributes.MemberAccessMask))
                {
                    continue;
                }

                method.Attributes = (method.Attributes & ~MethodAttributes.MemberAccessMask) | MethodAttributes.Public;
                stats.Methods++;
            }

            foreach (FieldDefinition field in type.Fields)
            {
                if (IsCompilerGeneratedName(field.Name) || !IsInternalish(field.Attributes & FieldAttributes.FieldAccessMask))
                {
                    continue;
                }

                field.Attributes = (field.Attributes & ~FieldAttributes.FieldAccessMask) | FieldAttributes.Public;
                stats.Fields++;
            }
        }

        module.Attributes &= ~ModuleAttributes.StrongNameSigned;
        AddReferenceAssemblyAttribute(module);

        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        string temp = output + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            module.Write(temp);
            File.Move(temp, output, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }

        return stats;
    }

    // Member access values are the same for methods and fields:
    // 1 private, 2 private protected (FamANDAssem), 3 internal (Assembly), 4 protected (Family),
    // 5 protected internal (FamORAssem), 6 public.
    private static bool IsInternalish(MethodAttributes access) =>
        access is MethodAttributes.Assembly or MethodAttributes.FamANDAssem or MethodAttributes.FamORAssem;

    private static bool IsInternalish(FieldAttributes access) =>
        access is FieldAttributes.Assembly or FieldAttributes.FamANDAssem or FieldAttributes.FamORAssem;

    private static bool PublicizeType(TypeDefinition type)
    {
        TypeAttributes visibility = type.Attributes & TypeAttributes.VisibilityMask;
        TypeAttributes wanted;
        if (type.IsNested)
        {
            if (visibility is not (TypeAttributes.NestedAssembly or TypeAttributes.NestedFamANDAssem or TypeAttributes.NestedFamORAssem))
            {
                return false;
            }

            wanted = TypeAttributes.NestedPublic;
        }
        else
        {
            if (visibility != TypeAttributes.NotPublic)
            {
                return false;
            }

            wanted = TypeAttributes.Public;
        }

        type.Attributes = (type.Attributes & ~TypeAttributes.VisibilityMask) | wanted;
        return true;
    }

    private static bool IsSkippedType(TypeDefinition type)
    {
        for (TypeDefinition? t = type; t is not null; t = t.DeclaringType)
        {
            if (IsCompilerGeneratedName(t.Name) || HasAttribute(t, "System.Runtime.CompilerServices.CompilerGeneratedAttribute")
                || HasAttribute(t, "Microsoft.CodeAnalysis.EmbeddedAttribute"))
            {
                return true;
            }
        }

        TypeDefinition outer = OuterMost(type);
        string ns = outer.Namespace ?? string.Empty;
        bool polyfillNamespace = ns == "System" || ns.StartsWith("System.", StringComparison.Ordinal)
            || ns == "Microsoft.CodeAnalysis" || ns.StartsWith("Microsoft.CodeAnalysis.", StringComparison.Ordinal);

        // A polyfill is an internal top-level type (and everything nested in it) in a framework namespace.
        return polyfillNamespace && (outer.Attributes & TypeAttributes.VisibilityMask) == TypeAttributes.NotPublic;
    }

    private static TypeDefinition OuterMost(TypeDefinition type)
    {
        while (type.DeclaringType is not null)
        {
            type = type.DeclaringType;
        }

        return type;
    }

    private static bool IsCompilerGeneratedName(string name) => name.Contains('<', StringComparison.Ordinal);

    private static bool HasAttribute(ICustomAttributeProvider provider, string fullName) =>
        provider.HasCustomAttributes && provider.CustomAttributes.Any(a => a.AttributeType.FullName == fullName);

    private static void AddReferenceAssemblyAttribute(ModuleDefinition module)
    {
        const string Namespace = "System.Runtime.CompilerServices";
        const string Name = "ReferenceAssemblyAttribute";
        if (module.Assembly.CustomAttributes.Any(a => a.AttributeType.Namespace == Namespace && a.AttributeType.Name == Name))
        {
            return;
        }

        // Use the assembly that already provides the core library to this module
        // (netstandard, System.Runtime or mscorlib), so no new assembly reference is introduced.
        IMetadataScope? scope = module.TypeSystem.CoreLibrary;
        if (scope is null)
        {
            return;
        }

        var attributeType = new TypeReference(Namespace, Name, module, scope);
        var ctor = new MethodReference(".ctor", module.TypeSystem.Void, attributeType) { HasThis = true };
        module.Assembly.CustomAttributes.Add(new CustomAttribute(ctor));
    }
}
