// The MSBuild task behind ML.DeepExtensions.targets (beside this file), compiled into the prebuilt
// ML.DeepExtensions.LibTorchNativeFix.dll that the core package ships under tasks/netstandard2.0/.
//
// TorchSharp's native shim libLibTorchSharp.so is linked against GCC 13's libstdc++ and therefore
// carries a version requirement on GLIBCXX_3.4.32. The only symbol bound to that version is
// std::ios_base_library_init(), a link-time marker the library never calls. Distributions that ship
// an older libstdc++ (Debian 12: GCC 12, up to GLIBCXX_3.4.30) refuse to load the library because of
// that requirement. Setting VER_FLG_WEAK on the matching Elf64_Vernaux entry makes the dynamic loader
// accept a libstdc++ that does not define the version, while keeping every other requirement strict.
//
// The task only ever rewrites the copy in a build or publish output folder. The file is patched in a
// temporary copy that then replaces the output file by rename, so a hard link or symbolic link into
// the NuGet package cache is replaced, never written through. The original timestamp is kept so that
// MSBuild's incremental copy (size + timestamp) treats the patched file as up to date.
//
// netstandard2.0 (loadable by every MSBuild): no Span, no BinaryPrimitives, no File.Move(..., overwrite).

using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace ML.DeepExtensions.Build;

/// <summary>Marks one libstdc++ version requirement of libLibTorchSharp.so weak in build or publish output copies.</summary>
public class LibTorchNativeFix : Task
{
    private const ushort VerFlgWeak = 0x2;
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort EmX8664 = 62;

    private static readonly object CacheLock = new object();
    private static readonly Dictionary<string, bool> VersionScanCache = new Dictionary<string, bool>(StringComparer.Ordinal);

    /// <summary>Copies of libLibTorchSharp.so in an output folder (never the package cache).</summary>
    [Required]
    public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>The symbol version whose requirement is made weak.</summary>
    public string VersionName { get; set; } = "GLIBCXX_3.4.32";

    /// <summary>Patch even when the host is not Linux x64 or its libstdc++ already defines VersionName.</summary>
    public bool Force { get; set; }

    /// <summary>Optional extra directories (semicolon separated) searched for libstdc++.so.6.</summary>
    public string LibStdCxxSearchPaths { get; set; } = string.Empty;

    [Output]
    public ITaskItem[] PatchedFiles { get; set; } = Array.Empty<ITaskItem>();

    public override bool Execute()
    {
        string reason = "forced by LibTorchNativeFixForce";
        if (!Force && !HostNeedsFix(out reason))
        {
            Log.LogMessage(MessageImportance.Low, "LibTorchNativeFix: nothing to do ({0}).", reason);
            return true;
        }

        var patched = new List<ITaskItem>();
        foreach (ITaskItem item in Files)
        {
            string path = item.GetMetadata("FullPath");
            if (string.IsNullOrEmpty(path) || !File.Exists(path))
            {
                continue;
            }

            PatchResult result = PatchFile(path, reason);
            if (result == PatchResult.Failed)
            {
                return false;
            }

            if (result == PatchResult.Patched)
            {
                patched.Add(new TaskItem(path));
            }
        }

        PatchedFiles = patched.ToArray();
        return !Log.HasLoggedErrors;
    }

    private enum PatchResult
    {
        Unchanged,
        Patched,
        Failed,
    }

    private PatchResult PatchFile(string path, string reason)
    {
        const int attempts = 5;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return PatchFileOnce(path, reason);
            }
            catch (IOException ex) when (attempt < attempts)
            {
                // Another build node may be copying or patching the same output file right now.
                Log.LogMessage(MessageImportance.Low, "LibTorchNativeFix: retrying '{0}' after I/O error: {1}", path, ex.Message);
                System.Threading.Thread.Sleep(100 * attempt);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                Log.LogError(
                    null, "LTNF001", null, path, 0, 0, 0, 0,
                    "LibTorchNativeFix: could not mark the {0} requirement of '{1}' as weak: {2} " +
                    "Without this fix TorchSharp fails to load on this system. Set LibTorchNativeFixEnabled=false to skip this step.",
                    VersionName, path, ex.Message);
                return PatchResult.Failed;
            }
        }
    }

    private PatchResult PatchFileOnce(string path, string reason)
    {
        byte[] image = File.ReadAllBytes(path);
        string detail;
        long flagsOffset = FindVernauxFlagsOffset(image, VersionName, out detail);
        if (flagsOffset < 0)
        {
            Log.LogMessage(MessageImportance.Low, "LibTorchNativeFix: '{0}' left unchanged ({1}).", path, detail);
            return PatchResult.Unchanged;
        }

        ushort flags = ReadU16(image, flagsOffset);
        if ((flags & VerFlgWeak) != 0)
        {
            Log.LogMessage(MessageImportance.Low, "LibTorchNativeFix: {0} requirement of '{1}' is already weak.", VersionName, path);
            return PatchResult.Unchanged;
        }

        ushort newFlags = (ushort)(flags | VerFlgWeak);
        string directory = Path.GetDirectoryName(path) ?? ".";
        string temp = Path.Combine(directory, "." + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N") + ".tmp");
        try
        {
            // File.Copy keeps the permission bits; the rename below replaces the directory entry, so a
            // hard link or symlink pointing into the package cache is never written through.
            File.Copy(path, temp, true);

            // File.Copy also keeps the modification time of the (link-resolved) file; keep it after the
            // patch too, so MSBuild's size + timestamp check does not copy the original over it again.
            DateTime lastWriteUtc = File.GetLastWriteTimeUtc(temp);
            using (var stream = new FileStream(temp, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
            {
                if (stream.Length != image.LongLength)
                {
                    throw new IOException("the file changed while it was being patched.");
                }

                stream.Position = flagsOffset;
                int lo = stream.ReadByte();
                int hi = stream.ReadByte();
                if (lo < 0 || hi < 0 || (ushort)(lo | (hi << 8)) != flags)
                {
                    throw new IOException("the file changed while it was being patched.");
                }

                stream.Position = flagsOffset;
                stream.WriteByte((byte)(newFlags & 0xff));
                stream.WriteByte((byte)(newFlags >> 8));
                stream.Flush();
            }

            File.SetLastWriteTimeUtc(temp, lastWriteUtc);
            ReplaceFile(temp, path);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }

        Log.LogMessage(
            MessageImportance.Normal,
            "LibTorchNativeFix: marked the {0} version requirement of '{1}' as weak ({2}).",
            VersionName, path, reason);
        return PatchResult.Patched;
    }

    private static void ReplaceFile(string source, string destination)
    {
        try
        {
            // On Unix this is a rename(2) of source over destination.
            File.Replace(source, destination, null, true);
        }
        catch (PlatformNotSupportedException)
        {
            File.Delete(destination);
            File.Move(source, destination);
        }
    }

    // ---------------------------------------------------------------- host check

    private bool HostNeedsFix(out string reason)
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
        {
            reason = "host is not Linux";
            return false;
        }

        if (RuntimeInformation.OSArchitecture != Architecture.X64)
        {
            reason = "host is not x64";
            return false;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var found = new List<string>();
        foreach (string dir in CandidateDirectories())
        {
            string candidate;
            try
            {
                candidate = Path.GetFullPath(Path.Combine(dir, "libstdc++.so.6"));
            }
            catch (ArgumentException)
            {
                continue;
            }

            if (!seen.Add(candidate) || !File.Exists(candidate))
            {
                continue;
            }

            bool? defines = DefinesVersion(candidate, VersionName);
            if (defines == null)
            {
                continue; // not an x86-64 ELF64 library (e.g. a 32-bit multilib copy)
            }

            found.Add(candidate);
            if (defines == false)
            {
                reason = "system libstdc++ '" + candidate + "' does not define " + VersionName;
                return true;
            }
        }

        reason = found.Count == 0
            ? "no x86-64 libstdc++.so.6 found in the usual library directories"
            : "system libstdc++ already defines " + VersionName + ": " + string.Join(", ", found);
        return false;
    }

    private IEnumerable<string> CandidateDirectories()
    {
        var dirs = new List<string>();
        foreach (string list in new[] { LibStdCxxSearchPaths, Environment.GetEnvironmentVariable("LD_LIBRARY_PATH") })
        {
            if (string.IsNullOrEmpty(list))
            {
                continue;
            }

            foreach (string dir in list.Split(new[] { ';', ':' }, StringSplitOptions.RemoveEmptyEntries))
            {
                dirs.Add(dir.Trim());
            }
        }

        dirs.AddRange(new[]
        {
            "/usr/lib/x86_64-linux-gnu",
            "/lib/x86_64-linux-gnu",
            "/usr/lib64",
            "/lib64",
            "/usr/local/lib64",
            "/usr/local/lib",
            "/usr/lib",
            "/lib",
        });
        return dirs;
    }

    /// <summary>
    /// True if the library contains the NUL-terminated version name, false if not, null if it is not an
    /// x86-64 ELF64 file or cannot be read.
    /// </summary>
    private static bool? DefinesVersion(string libraryPath, string versionName)
    {
        string key;
        try
        {
            var info = new FileInfo(libraryPath);
            key = libraryPath + "|" + info.Length + "|" + info.LastWriteTimeUtc.Ticks + "|" + versionName;
        }
        catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
        {
            return null;
        }

        lock (CacheLock)
        {
            bool cached;
            if (VersionScanCache.TryGetValue(key, out cached))
            {
                return cached;
            }
        }

        byte[] image;
        try
        {
            image = File.ReadAllBytes(libraryPath);
        }
        catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
        {
            return null;
        }

        if (!IsElf64LittleEndian(image) || ReadU16(image, 18) != EmX8664)
        {
            return null;
        }

        byte[] needle = Encoding.ASCII.GetBytes(versionName + "\0");
        bool result = IndexOf(image, needle) >= 0;
        lock (CacheLock)
        {
            VersionScanCache[key] = result;
        }

        return result;
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        byte first = needle[0];
        int last = haystack.Length - needle.Length;
        for (int i = 0; i <= last; i++)
        {
            i = Array.IndexOf(haystack, first, i, last - i + 1);
            if (i < 0)
            {
                return -1;
            }

            int j = 1;
            while (j < needle.Length && haystack[i + j] == needle[j])
            {
                j++;
            }

            if (j == needle.Length)
            {
                return i;
            }
        }

        return -1;
    }

    // ---------------------------------------------------------------- ELF parsing

    /// <summary>
    /// Returns the file offset of vna_flags of the Elf64_Vernaux entry named <paramref name="versionName"/>
    /// required from libstdc++, or -1 (with a description in <paramref name="detail"/>).
    /// </summary>
    private static long FindVernauxFlagsOffset(byte[] image, string versionName, out string detail)
    {
        if (!IsElf64LittleEndian(image))
        {
            detail = "not a little-endian ELF64 file";
            return -1;
        }

        if (ReadU16(image, 18) != EmX8664)
        {
            detail = "not an x86-64 library";
            return -1;
        }

        long verneedOffset;
        long verneedCount;
        long strtabOffset;
        long strtabSize;
        if (!FindVerneedViaSections(image, out verneedOffset, out verneedCount, out strtabOffset, out strtabSize)
            && !FindVerneedViaDynamic(image, out verneedOffset, out verneedCount, out strtabOffset, out strtabSize))
        {
            detail = "no version requirements (.gnu.version_r / DT_VERNEED) found";
            return -1;
        }

        long vn = verneedOffset;
        for (long i = 0; i < verneedCount; i++)
        {
            if (!InRange(image, vn, 16))
            {
                break;
            }

            ushort vnCnt = ReadU16(image, vn + 2);
            uint vnFile = ReadU32(image, vn + 4);
            uint vnAux = ReadU32(image, vn + 8);
            uint vnNext = ReadU32(image, vn + 12);
            string file = ReadString(image, strtabOffset, strtabSize, vnFile);

            if (file != null && file.StartsWith("libstdc++", StringComparison.Ordinal))
            {
                long aux = vn + vnAux;
                for (int k = 0; k < vnCnt; k++)
                {
                    if (!InRange(image, aux, 16))
                    {
                        break;
                    }

                    uint vnaName = ReadU32(image, aux + 8);
                    uint vnaNext = ReadU32(image, aux + 12);
                    if (string.Equals(ReadString(image, strtabOffset, strtabSize, vnaName), versionName, StringComparison.Ordinal))
                    {
                        detail = string.Empty;
                        return aux + 4;
                    }

                    if (vnaNext == 0)
                    {
                        break;
                    }

                    aux += vnaNext;
                }
            }

            if (vnNext == 0)
            {
                break;
            }

            vn += vnNext;
        }

        detail = "no " + versionName + " requirement on libstdc++";
        return -1;
    }

    private static bool FindVerneedViaSections(byte[] image, out long offset, out long count, out long strOffset, out long strSize)
    {
        offset = count = strOffset = strSize = 0;
        long shoff = (long)ReadU64(image, 0x28);
        int shentsize = ReadU16(image, 0x3A);
        long shnum = ReadU16(image, 0x3C);
        if (shoff == 0 || shentsize < 64 || !InRange(image, shoff, 64))
        {
            return false;
        }

        if (shnum == 0)
        {
            shnum = (long)ReadU64(image, shoff + 32); // extended numbering: count in sh_size of section 0
        }

        if (!InRange(image, shoff, shnum * shentsize))
        {
            return false;
        }

        for (long i = 0; i < shnum; i++)
        {
            long sh = shoff + i * shentsize;
            if (ReadU32(image, sh + 4) != ShtGnuVerneed)
            {
                continue;
            }

            uint link = ReadU32(image, sh + 40);
            if (link >= shnum)
            {
                return false;
            }

            long str = shoff + link * shentsize;
            offset = (long)ReadU64(image, sh + 24);
            count = ReadU32(image, sh + 44); // sh_info = number of Verneed entries
            strOffset = (long)ReadU64(image, str + 24);
            strSize = (long)ReadU64(image, str + 32);
            return InRange(image, offset, 16) && InRange(image, strOffset, strSize);
        }

        return false;
    }

    private static bool FindVerneedViaDynamic(byte[] image, out long offset, out long count, out long strOffset, out long strSize)
    {
        offset = count = strOffset = strSize = 0;
        long phoff = (long)ReadU64(image, 0x20);
        int phentsize = ReadU16(image, 0x36);
        int phnum = ReadU16(image, 0x38);
        if (phoff == 0 || phentsize < 56 || !InRange(image, phoff, (long)phnum * phentsize))
        {
            return false;
        }

        long dynOffset = -1;
        long dynSize = 0;
        for (int i = 0; i < phnum; i++)
        {
            long ph = phoff + (long)i * phentsize;
            if (ReadU32(image, ph) == 2) // PT_DYNAMIC
            {
                dynOffset = (long)ReadU64(image, ph + 8);
                dynSize = (long)ReadU64(image, ph + 32);
            }
        }

        if (dynOffset < 0 || !InRange(image, dynOffset, dynSize))
        {
            return false;
        }

        ulong verneed = 0, verneedNum = 0, strtab = 0, strsz = 0;
        for (long d = dynOffset; d + 16 <= dynOffset + dynSize; d += 16)
        {
            long tag = (long)ReadU64(image, d);
            ulong val = ReadU64(image, d + 8);
            if (tag == 0)
            {
                break;
            }

            switch (tag)
            {
                case 5: strtab = val; break;                       // DT_STRTAB
                case 10: strsz = val; break;                       // DT_STRSZ
                case 0x6ffffffe: verneed = val; break;             // DT_VERNEED
                case 0x6fffffff: verneedNum = val; break;          // DT_VERNEEDNUM
            }
        }

        if (verneed == 0 || strtab == 0)
        {
            return false;
        }

        offset = VaddrToOffset(image, phoff, phentsize, phnum, verneed);
        strOffset = VaddrToOffset(image, phoff, phentsize, phnum, strtab);
        count = (long)verneedNum;
        strSize = (long)strsz;
        return offset >= 0 && strOffset >= 0 && InRange(image, offset, 16) && InRange(image, strOffset, strSize);
    }

    private static long VaddrToOffset(byte[] image, long phoff, int phentsize, int phnum, ulong vaddr)
    {
        for (int i = 0; i < phnum; i++)
        {
            long ph = phoff + (long)i * phentsize;
            if (ReadU32(image, ph) != 1) // PT_LOAD
            {
                continue;
            }

            ulong pOffset = ReadU64(image, ph + 8);
            ulong pVaddr = ReadU64(image, ph + 16);
            ulong pFilesz = ReadU64(image, ph + 32);
            if (vaddr >= pVaddr && vaddr < pVaddr + pFilesz)
            {
                return (long)(vaddr - pVaddr + pOffset);
            }
        }

        return -1;
    }

    private static bool IsElf64LittleEndian(byte[] image)
    {
        return image.Length >= 64
            && image[0] == 0x7f && image[1] == (byte)'E' && image[2] == (byte)'L' && image[3] == (byte)'F'
            && image[4] == 2   // ELFCLASS64
            && image[5] == 1;  // ELFDATA2LSB
    }

    private static bool InRange(byte[] image, long offset, long length)
    {
        return offset >= 0 && length >= 0 && offset <= image.LongLength && length <= image.LongLength - offset;
    }

    private static string ReadString(byte[] image, long tableOffset, long tableSize, uint index)
    {
        if (index >= tableSize)
        {
            return null;
        }

        long start = tableOffset + index;
        long end = start;
        long limit = Math.Min(image.LongLength, tableOffset + tableSize);
        while (end < limit && image[end] != 0)
        {
            end++;
        }

        return end < limit ? Encoding.ASCII.GetString(image, (int)start, (int)(end - start)) : null;
    }

    private static ushort ReadU16(byte[] b, long o)
    {
        return InRange(b, o, 2) ? (ushort)(b[o] | (b[o + 1] << 8)) : (ushort)0;
    }

    private static uint ReadU32(byte[] b, long o)
    {
        return InRange(b, o, 4) ? (uint)(b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) : 0u;
    }

    private static ulong ReadU64(byte[] b, long o)
    {
        return InRange(b, o, 8) ? ReadU32(b, o) | ((ulong)ReadU32(b, o + 4) << 32) : 0UL;
    }
}
