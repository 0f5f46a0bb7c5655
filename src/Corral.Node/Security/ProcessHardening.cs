using System.Runtime.InteropServices;

namespace Corral.Node.Security;

/// <summary>
/// Closes a node's process to other processes of the same user: with PR_SET_DUMPABLE 0, the kernel makes
/// <c>/proc/&lt;pid&gt;/environ</c>, <c>mem</c> and <c>fd/</c> root's, and refuses ptrace from non-root, so a spec
/// or a program the node starts cannot read its credential out of its memory.
/// </summary>
public static partial class ProcessHardening
{
    private const int PrSetDumpable = 4;
    private const int PrGetDumpable = 3;

    /// <summary>Marks this process not dumpable; false when the kernel refused or this is not Linux.</summary>
    public static bool MakeUndumpable() => OperatingSystem.IsLinux() && prctl(PrSetDumpable, 0, 0, 0, 0) == 0;

    /// <summary>Whether this process is dumpable (on Linux; true elsewhere).</summary>
    public static bool IsDumpable() => !OperatingSystem.IsLinux() || prctl(PrGetDumpable, 0, 0, 0, 0) != 0;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);
}
