using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace Corral.Bench;

/// <summary>A real <c>corral up</c> process started by a scenario, with its output lines and their arrival times.</summary>
internal sealed partial class CorralRun : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ConcurrentQueue<(TimeSpan At, string Line)> _lines = new();

    private CorralRun(Process process) => _process = process;

    public IEnumerable<(TimeSpan At, string Line)> Lines => _lines;
    public TimeSpan Elapsed => _clock.Elapsed;
    public int Pid => _process.Id;

    public static CorralRun Start(CorralBinary binary, string workingDirectory, params string[] args) =>
        Start(binary, workingDirectory, new Dictionary<string, string>(), args);

    /// <summary>As <see cref="Start(CorralBinary, string, string[])"/>, with <paramref name="environment"/> added to the run's (its nodes inherit it).</summary>
    public static CorralRun Start(CorralBinary binary, string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = new ProcessStartInfo(binary.Path) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        info.Environment["NO_COLOR"] = "1";
        foreach (var (name, value) in environment) info.Environment[name] = value;
        var process = new Process { StartInfo = info };
        var run = new CorralRun(process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) run._lines.Enqueue((run._clock.Elapsed, e.Data)); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) run._lines.Enqueue((run._clock.Elapsed, e.Data)); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return run;
    }

    /// <summary>The pids of the nodes the supervisor announced as started (<c>corral | cowboy-3 started (pid 123)</c>).</summary>
    public int[] PidsOf(string nodePrefix, bool exact = false) =>
        _lines.Select(l => StartedNode().Match(l.Line))
            .Where(m => m.Success && (exact ? m.Groups["node"].Value == nodePrefix : m.Groups["node"].Value.StartsWith(nodePrefix + "-")))
            .Select(m => int.Parse(m.Groups["pid"].Value)).ToArray();

    /// <summary>
    /// Proportional set size: shared pages split between the processes that map them. 0 once the process is gone. A node
    /// is not dumpable (its smaps are root's), so without root this is its resident set (VmRSS), an upper bound of PSS.
    /// </summary>
    public static long PssKiB(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/smaps_rollup").FirstOrDefault(l => l.StartsWith("Pss:"));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        }
        catch (UnauthorizedAccessException)
        {
            return ResidentKiB(pid);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static long ResidentKiB(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:"));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    [GeneratedRegex(@"^corral\s*\| (?<node>[\w.-]+) started \(pid (?<pid>\d+)\)")]
    private static partial Regex StartedNode();

    public async Task<(TimeSpan At, string Line)> WaitForAsync(Func<string, bool> match, TimeSpan timeout, int count = 1)
    {
        var deadline = _clock.Elapsed + timeout;
        while (_clock.Elapsed < deadline)
        {
            var found = _lines.Where(l => match(l.Line)).Skip(count - 1).FirstOrDefault();
            if (found.Line is not null) return found;
            if (_process.HasExited) break;
            await Task.Delay(10);
        }

        throw new TimeoutException($"no line matched within {timeout} (exited: {_process.HasExited}):\n{string.Join('\n', _lines.Select(l => l.Line).TakeLast(30))}");
    }

    /// <summary>Ctrl+C, then wait for the drain.</summary>
    public async Task StopAsync()
    {
        _ = Kill(_process.Id, 2);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(cts.Token);
    }

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int signal);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
