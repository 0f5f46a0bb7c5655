using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Corral.Supervisor.Supervision;

/// <summary>
/// A handle for signalling one process: a pidfd (Linux 5.3+) opened while the process is known to be the one meant,
/// so a signal reaches that process or nobody; once it has been reaped, a signal reports it gone instead of reaching
/// whatever process got its pid next. Where the kernel offers no pidfd (ENOSYS on old kernels, EPERM under a seccomp
/// filter) it falls back to <c>kill()</c> by pid, as before.
/// </summary>
internal sealed class ProcessHandle : IDisposable
{
    // The same numbers on x86_64 and arm64: syscalls added since 5.1 share one number on every architecture.
    private const long PidfdOpen = 434;
    private const long PidfdSendSignal = 424;
    private const int Esrch = 3;

    private readonly SafeFileHandle? _pidfd;
    private volatile bool _gone;

    private ProcessHandle(int pid, SafeFileHandle? pidfd, bool gone)
    {
        Pid = pid;
        _pidfd = pidfd;
        _gone = gone;
    }

    public int Pid { get; }

    /// <summary>Whether signals go through a pidfd (false: by pid with <c>kill()</c>, or the process was gone at open).</summary>
    public bool HasPidfd => _pidfd is not null;

    /// <summary>
    /// Opens a handle on <paramref name="pid"/>. <paramref name="isStillTheOne"/> is asked after the pidfd is open: true
    /// means the pid was still the process meant when it was opened (a child not yet reaped, a process still in the
    /// session being swept), so the pidfd is that process's; false means it is gone and nothing will be signalled.
    /// </summary>
    public static ProcessHandle Open(int pid, Func<bool> isStillTheOne)
    {
        var fd = syscall(PidfdOpen, pid, 0, 0, 0);
        if (fd < 0)
        {
            return Marshal.GetLastPInvokeError() == Esrch
                ? new ProcessHandle(pid, null, gone: true)
                : new ProcessHandle(pid, null, gone: !isStillTheOne());
        }

        var pidfd = new SafeFileHandle((IntPtr)fd, ownsHandle: true);
        if (!isStillTheOne())
        {
            pidfd.Dispose();
            return new ProcessHandle(pid, null, gone: true);
        }

        return new ProcessHandle(pid, pidfd, gone: false);
    }

    /// <summary>Sends <paramref name="signal"/>; false when the process is gone (exited and reaped), and then nothing was sent.</summary>
    public bool Signal(int signal)
    {
        if (_gone)
        {
            return false;
        }

        if (_pidfd is null)
        {
            return Signals.Send(Pid, signal);
        }

        var added = false;
        try
        {
            // Held while in use, so a concurrent Dispose cannot close the descriptor and let another file take its number.
            _pidfd.DangerousAddRef(ref added);
            if (syscall(PidfdSendSignal, (long)_pidfd.DangerousGetHandle(), signal, 0, 0) == 0)
            {
                return true;
            }

            _gone = Marshal.GetLastPInvokeError() == Esrch;
            return false;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
        finally
        {
            if (added)
            {
                _pidfd.DangerousRelease();
            }
        }
    }

    public void Dispose() => _pidfd?.Dispose();

    // libc's syscall() is variadic, but its arguments are whole registers on x86_64 and arm64 alike, so a fixed
    // signature of longs passes them as the kernel reads them. DllImport, not LibraryImport: the signature is
    // blittable and needs no unsafe code in this project.
    [DllImport("libc", SetLastError = true)]
    private static extern long syscall(long number, long arg1, long arg2, long arg3, long arg4);
}
