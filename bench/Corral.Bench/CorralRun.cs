using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

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

    public static string Binary(string configuration = "Release")
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Corral.slnx")))
            {
                return Path.Combine(dir.FullName, "src", "Corral", "bin", configuration, "net10.0", "corral");
            }
        }

        throw new InvalidOperationException("run the benchmarks from the repository (Corral.slnx not found)");
    }

    public static string Example(string name) => Path.Combine(Path.GetDirectoryName(Binary())!, "..", "..", "..", "..", "..", "examples", name);

    public static CorralRun Start(string workingDirectory, params string[] args)
    {
        var info = new ProcessStartInfo(Binary()) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        info.Environment["NO_COLOR"] = "1";
        var process = new Process { StartInfo = info };
        var run = new CorralRun(process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) run._lines.Enqueue((run._clock.Elapsed, e.Data)); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) run._lines.Enqueue((run._clock.Elapsed, e.Data)); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return run;
    }

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
