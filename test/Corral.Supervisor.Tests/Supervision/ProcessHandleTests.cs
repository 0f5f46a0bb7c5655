using System.Diagnostics;
using Corral.Supervisor.Supervision;

namespace Corral.Supervisor.Tests.Supervision;

/// <summary>Signals go through a pidfd: once a child is reaped, its handle reports it gone and signals no one, not even the process that took its pid.</summary>
public sealed class ProcessHandleTests
{
    [Fact]
    public async Task A_reaped_child_is_reported_gone_through_its_handle()
    {
        using var child = Start("sleep", "300");
        using var handle = ProcessHandle.Open(child.Id, () => !child.HasExited);
        Assert.True(handle.HasPidfd, "this kernel has pidfd_open: the handle must use it");

        Assert.True(handle.Signal(Signals.Kill));
        await child.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.False(handle.Signal(Signals.Term));
        Assert.False(handle.Signal(Signals.Kill));
    }

    [Fact]
    public async Task A_signal_through_a_reaped_childs_handle_never_reaches_the_process_that_got_its_pid()
    {
        // Root may say where the kernel's next pid search starts (ns_last_pid): set it just below the reaped child's pid
        // and fork at once, and the new process gets that pid, unless another fork on the machine came first (then again).
        for (var attempt = 1; attempt <= 20; attempt++)
        {
            using var child = Start("true");
            using var handle = ProcessHandle.Open(child.Id, () => !child.HasExited);
            await child.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            var pid = child.Id;

            using var shell = Start("bash", "-c", $"echo {pid - 1} > /proc/sys/kernel/ns_last_pid; sleep 300 </dev/null >/dev/null 2>&1 & echo $!");
            var taker = int.Parse((await shell.StandardOutput.ReadToEndAsync()).Trim());
            await shell.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            try
            {
                if (taker != pid)
                {
                    continue;
                }

                Assert.False(handle.Signal(Signals.Kill), "the reaped child is gone");
                Assert.True(Signals.IsAlive(taker), $"the process that took pid {pid} was not signalled");
                return;
            }
            finally
            {
                Signals.Send(taker, Signals.Kill);
            }
        }

        Assert.Fail("no process took a reaped child's pid in 20 attempts (other forks kept coming first)");
    }

    private static Process Start(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return Process.Start(info)!;
    }
}
