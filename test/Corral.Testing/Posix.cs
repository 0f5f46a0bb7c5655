using System.Runtime.InteropServices;

namespace Corral.Testing;

/// <summary>Signals and process-table checks the tests need (real processes, real signals).</summary>
public static partial class Posix
{
    public const int SigInt = 2;
    public const int SigKill = 9;
    public const int SigTerm = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>Sends a signal, and throws when <c>kill()</c> refuses it (no such process, not ours), so a test never counts a signal that was not sent.</summary>
    public static void Signal(int pid, int signal)
    {
        if (Kill(pid, signal) != 0)
        {
            throw new InvalidOperationException($"kill({pid}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>
    /// SIGKILLs a process and waits (bounded) until it is gone, so a test counts kills that happened, not signals sent.
    /// </summary>
    public static async Task KillAsync(int pid, TimeSpan timeout)
    {
        Signal(pid, SigKill);
        await Eventually.TrueAsync(() => !IsAlive(pid), timeout, $"process {pid} to be gone after SIGKILL");
    }

    /// <summary>Alive means present and not a zombie (a killed child lingers as Z until reaped).</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..][0];
            return state is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>
    /// One variable of a live process's environment, as <c>/proc/PID/environ</c> shows it to a user with the same uid
    /// (what a process of the same user may try, to find a credential), or null when it is not set.
    /// </summary>
    public static string? EnvironmentVariable(int pid, string name) => File.ReadAllText($"/proc/{pid}/environ")
        .Split('\0')
        .Where(entry => entry.StartsWith(name + "=", StringComparison.Ordinal))
        .Select(entry => entry[(name.Length + 1)..])
        .FirstOrDefault();
}
