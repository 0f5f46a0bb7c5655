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

    /// <summary>
    /// The TCP ports a live process listens on (IPv4 and IPv6): its sockets' inodes from <c>/proc/PID/fd</c>, matched with
    /// the listening entries of <c>/proc/PID/net/tcp</c> and <c>tcp6</c>.
    /// </summary>
    public static IReadOnlyList<int> ListeningTcpPorts(int pid)
    {
        var inodes = SocketInodes(pid);
        const string Listen = "0A";
        return new[] { "tcp", "tcp6" }
            .SelectMany(table => File.ReadLines($"/proc/{pid}/net/{table}").Skip(1))
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields[3] == Listen && inodes.Contains(fields[9]))
            .Select(fields => int.Parse(fields[1][(fields[1].LastIndexOf(':') + 1)..], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture))
            .ToArray();
    }

    /// <summary>The unix sockets a live process listens on, by path, from <c>/proc/PID/net/unix</c> and its descriptors.</summary>
    public static IReadOnlyList<string> ListeningUnixSockets(int pid)
    {
        var inodes = SocketInodes(pid);
        // Num RefCount Protocol Flags Type St Inode Path; flag 00010000 is __SO_ACCEPTCON, a listening socket.
        return File.ReadLines($"/proc/{pid}/net/unix").Skip(1)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length >= 8 && fields[3] == "00010000" && inodes.Contains(fields[6]))
            .Select(fields => string.Join(' ', fields[7..]))
            .ToArray();
    }

    /// <summary>The inodes of a process's open sockets (<c>socket:[INODE]</c> links in <c>/proc/PID/fd</c>).</summary>
    private static HashSet<string> SocketInodes(int pid) => new DirectoryInfo($"/proc/{pid}/fd").EnumerateFileSystemInfos()
        .Select(fd => fd.LinkTarget)
        .Where(target => target is not null && target.StartsWith("socket:[", StringComparison.Ordinal))
        .Select(target => target!["socket:[".Length..^1])
        .ToHashSet(StringComparer.Ordinal);
}
