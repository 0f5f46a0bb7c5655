using System.Runtime.InteropServices;

namespace Corral.WorkQueue.Worker;

/// <summary>
/// Starts a program with glibc's <c>posix_spawnp</c> in a new process group of its own (so a timeout kills the whole
/// group, children included) but in the worker's session (so when the worker dies, the supervisor's sweep of the
/// worker's session takes the spec and all its children too). .NET's <c>Process</c> can do neither. Output goes straight
/// to a log file; stdin is <c>/dev/null</c>. Signal dispositions and the mask are reset to the defaults.
/// </summary>
internal static class PosixSpawn
{
    private const short SetPgroup = 0x02;
    private const short SetSigDef = 0x04;
    private const short SetSigMask = 0x08;
    private const int OWrOnly = 0x1;
    private const int OCreat = 0x40;
    private const int OAppend = 0x400;
    private const int OTrunc = 0x200;

    /// <summary>Spawns the program; returns its pid (which is also its process-group id). Throws when it cannot start.</summary>
    public static int Start(string program, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment, string directory, string logFile)
    {
        // glibc's opaque structs are 336 and 80 bytes on x86_64 and arm64; sigset_t is 128. Generous buffers cover every ABI.
        var attr = Marshal.AllocHGlobal(1024);
        var actions = Marshal.AllocHGlobal(1024);
        var sigset = Marshal.AllocHGlobal(256);
        var strings = new List<IntPtr>();
        IntPtr Utf8(string s)
        {
            var p = Marshal.StringToCoTaskMemUTF8(s);
            strings.Add(p);
            return p;
        }

        IntPtr Array(IEnumerable<string> items)
        {
            var list = items.Select(Utf8).ToList();
            var block = Marshal.AllocHGlobal(IntPtr.Size * (list.Count + 1));
            for (var i = 0; i < list.Count; i++) Marshal.WriteIntPtr(block, i * IntPtr.Size, list[i]);
            Marshal.WriteIntPtr(block, list.Count * IntPtr.Size, IntPtr.Zero);
            strings.Add(block);
            return block;
        }

        try
        {
            Check(posix_spawnattr_init(attr), "posix_spawnattr_init");
            Check(posix_spawn_file_actions_init(actions), "posix_spawn_file_actions_init");
            Check(posix_spawnattr_setflags(attr, SetPgroup | SetSigDef | SetSigMask), "posix_spawnattr_setflags");
            Check(posix_spawnattr_setpgroup(attr, 0), "posix_spawnattr_setpgroup");
            for (var i = 0; i < 256; i++) Marshal.WriteByte(sigset, i, 0xFF);
            Check(posix_spawnattr_setsigdefault(attr, sigset), "posix_spawnattr_setsigdefault");
            for (var i = 0; i < 256; i++) Marshal.WriteByte(sigset, i, 0);
            Check(posix_spawnattr_setsigmask(attr, sigset), "posix_spawnattr_setsigmask");
            Check(posix_spawn_file_actions_addopen(actions, 0, Utf8("/dev/null"), 0, 0), "addopen stdin");
            Check(posix_spawn_file_actions_addopen(actions, 1, Utf8(logFile), OWrOnly | OCreat | OTrunc | OAppend, Convert.ToInt32("600", 8)), "addopen stdout");
            Check(posix_spawn_file_actions_adddup2(actions, 1, 2), "adddup2 stderr");
            Check(posix_spawn_file_actions_addchdir_np(actions, Utf8(directory)), "addchdir");
            var argv = Array([program, .. arguments]);
            var envp = Array(environment.Select(e => $"{e.Key}={e.Value}"));
            var error = posix_spawnp(out var pid, Utf8(program), actions, attr, argv, envp);
            if (error != 0)
            {
                throw new IOException($"cannot start '{program}': {Marshal.GetPInvokeErrorMessage(error)}");
            }

            return pid;
        }
        finally
        {
            posix_spawnattr_destroy(attr);
            posix_spawn_file_actions_destroy(actions);
            Marshal.FreeHGlobal(attr);
            Marshal.FreeHGlobal(actions);
            Marshal.FreeHGlobal(sigset);
            foreach (var p in strings) Marshal.FreeCoTaskMem(p);
        }
    }

    /// <summary>Blocks until the process ends; returns its exit code, or 128 + the signal that ended it.</summary>
    public static int Wait(int pid)
    {
        while (true)
        {
            var result = waitpid(pid, out var status, 0);
            if (result == pid)
            {
                var signal = status & 0x7f;
                return signal == 0 ? (status >> 8) & 0xff : 128 + signal;
            }

            if (Marshal.GetLastPInvokeError() != 4) // EINTR: wait again
            {
                throw new IOException($"waitpid({pid}) failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
            }
        }
    }

    /// <summary>SIGKILL to every process of the group.</summary>
    public static void KillGroup(int pgid)
    {
        if (pgid > 1) kill(-pgid, 9);
    }

    private static void Check(int error, string what)
    {
        if (error != 0) throw new IOException($"{what} failed: {Marshal.GetPInvokeErrorMessage(error)}");
    }

    // Blittable signatures only (pointers and ints): no marshalling stubs, nothing for the AOT compiler to warn about.
    [DllImport("libc")] private static extern int posix_spawnattr_init(IntPtr attr);
    [DllImport("libc")] private static extern int posix_spawnattr_destroy(IntPtr attr);
    [DllImport("libc")] private static extern int posix_spawnattr_setflags(IntPtr attr, short flags);
    [DllImport("libc")] private static extern int posix_spawnattr_setpgroup(IntPtr attr, int pgroup);
    [DllImport("libc")] private static extern int posix_spawnattr_setsigdefault(IntPtr attr, IntPtr sigset);
    [DllImport("libc")] private static extern int posix_spawnattr_setsigmask(IntPtr attr, IntPtr sigset);
    [DllImport("libc")] private static extern int posix_spawn_file_actions_init(IntPtr actions);
    [DllImport("libc")] private static extern int posix_spawn_file_actions_destroy(IntPtr actions);
    [DllImport("libc")] private static extern int posix_spawn_file_actions_addopen(IntPtr actions, int fd, IntPtr path, int flags, int mode);
    [DllImport("libc")] private static extern int posix_spawn_file_actions_adddup2(IntPtr actions, int fd, int newFd);
    [DllImport("libc")] private static extern int posix_spawn_file_actions_addchdir_np(IntPtr actions, IntPtr path);
    [DllImport("libc")] private static extern int posix_spawnp(out int pid, IntPtr file, IntPtr actions, IntPtr attr, IntPtr argv, IntPtr envp);
    [DllImport("libc", SetLastError = true)] private static extern int waitpid(int pid, out int status, int options);
    [DllImport("libc")] private static extern int kill(int pid, int signal);
}
