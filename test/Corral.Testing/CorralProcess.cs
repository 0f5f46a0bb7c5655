using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Corral.Testing;

/// <summary>
/// One real <c>corral</c> process: its output lines as they arrive, its exit, and the node pids it
/// announces (<c>corral | server started (pid 123)</c>). Disposing kills it if it still runs; its nodes
/// end with it (they are started with a parent-death signal).
/// </summary>
public sealed partial class CorralProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly TaskCompletionSource _outputClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _openStreams = 2;

    private CorralProcess(Process process) => _process = process;

    public int Pid => _process.Id;
    public IReadOnlyList<string> Lines => _lines.ToArray();
    public string Output => string.Join('\n', _lines);

    public static CorralProcess Start(string workingDirectory, params string[] args) => Start(workingDirectory, null, args);

    /// <summary>Starts corral with extra environment variables (the original's GROUP_TASKS_FILE, ...).</summary>
    public static CorralProcess Start(string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        // Through env(1), which resets SIGINT and SIGQUIT to their defaults and then becomes corral (same pid): a test
        // suite started in the background of a script inherits both ignored, as POSIX shells do for background jobs, and
        // .NET, like a shell, keeps an inherited ignored SIGINT, so the Ctrl+C tests would wait for an exit that never comes.
        var info = new ProcessStartInfo("/usr/bin/env")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("--default-signal=INT,QUIT");
        info.ArgumentList.Add(CorralBinary.Path);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        info.Environment["NO_COLOR"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) info.Environment[name] = value;
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var corral = new CorralProcess(process);
        process.OutputDataReceived += (_, e) => corral.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => corral.OnLine(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return corral;
    }

    /// <summary>Runs corral to completion (for short commands such as check and validate).</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string workingDirectory, TimeSpan timeout, params string[] args)
    {
        await using var corral = Start(workingDirectory, args);
        var code = await corral.WaitForExitAsync(timeout);
        return (code, corral.Output);
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            if (Interlocked.Decrement(ref _openStreams) == 0) _outputClosed.TrySetResult();
            return;
        }

        _lines.Enqueue(line);
    }

    /// <summary>
    /// Whether a matching line (after the first <paramref name="skip"/>) comes within <paramref name="window"/>: for a test
    /// that must show something did not happen, where only a bounded look can tell.
    /// </summary>
    public async Task<bool> LineWithinAsync(Func<string, bool> match, TimeSpan window, int skip = 0)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < window)
        {
            if (_lines.Where(match).Skip(skip).Any()) return true;
            await Task.Delay(TimeSpan.FromMilliseconds(20));
        }

        return _lines.Where(match).Skip(skip).Any();
    }

    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout, string what, int skip = 0)
    {
        string? found = null;
        try
        {
            await Eventually.TrueAsync(() => (found = _lines.Where(match).Skip(skip).FirstOrDefault()) is not null || _process.HasExited,
                timeout, what);
        }
        catch (Xunit.Sdk.XunitException e)
        {
            // The output is what explains a line that never came.
            throw new Xunit.Sdk.XunitException($"{e.Message}; corral's output so far:\n{Output}");
        }

        return found ?? throw new Xunit.Sdk.XunitException($"corral exited ({_process.ExitCode}) before {what}:\n{Output}");
    }

    /// <summary>Pids a node has had, in start order (a restart adds one).</summary>
    public IReadOnlyList<int> PidsOf(string nodeId) => _lines
        .Select(l => StartedLine().Match(l))
        .Where(m => m.Success && m.Groups["node"].Value == nodeId)
        .Select(m => int.Parse(m.Groups["pid"].Value))
        .ToArray();

    public IReadOnlyList<int> AllNodePids() => _lines
        .Select(l => StartedLine().Match(l))
        .Where(m => m.Success)
        .Select(m => int.Parse(m.Groups["pid"].Value))
        .ToArray();

    /// <summary>
    /// A node's ports from its latest <c>corral | lb-1 listens on http 41234, admin 41235</c> line (printed under
    /// <c>--ports dynamic</c>; a restarted node prints its line again), or null before it has one.
    /// </summary>
    public IReadOnlyDictionary<string, int>? PortsOf(string nodeId) => _lines
        .Select(l => ListensLine().Match(l))
        .Where(m => m.Success && m.Groups["node"].Value == nodeId)
        .Select(m => (IReadOnlyDictionary<string, int>)m.Groups["ports"].Value.Split(", ")
            .Select(p => p.Split(' '))
            .ToDictionary(p => p[0], p => int.Parse(p[1])))
        .LastOrDefault();

    /// <summary>The run's folder, from the supervisor's <c>run ID of APP in FOLDER</c> line.</summary>
    public string RunFolder => _lines.Select(l => RunLine().Match(l)).FirstOrDefault(m => m.Success)?.Groups["folder"].Value
        ?? throw new Xunit.Sdk.XunitException("no run line yet:\n" + Output);

    /// <summary>
    /// The operator's credential, as a user of the run reads it from the run's <c>control.json</c> (0600, the CLI's and the
    /// dashboard's way in): it may restart, stop and scale, never report an outcome.
    /// </summary>
    public string OperatorCredential()
    {
        using var control = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(RunFolder, "control.json")));
        return control.RootElement.GetProperty("token").GetString()!;
    }

    public async Task<int> WaitForPortAsync(string nodeId, string portName, TimeSpan timeout)
    {
        await Eventually.TrueAsync(() => PortsOf(nodeId)?.ContainsKey(portName) == true || _process.HasExited, timeout, $"{nodeId}'s {portName} port");
        return PortsOf(nodeId)?.GetValueOrDefault(portName) is > 0 and var port
            ? port
            : throw new Xunit.Sdk.XunitException($"corral exited before {nodeId} reported its {portName} port:\n{Output}");
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            await _outputClosed.Task.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (OperationCanceledException)
        {
            Xunit.Assert.Fail($"corral did not exit within {timeout.TotalSeconds:0} s:\n{Output}");
        }

        return _process.ExitCode;
    }

    public void Signal(int signal) => Posix.Signal(_process.Id, signal);

    [GeneratedRegex(@"^corral\s*\| run (?<id>\S+) of \S+ in (?<folder>\S+)$")]
    private static partial Regex RunLine();

    [GeneratedRegex(@"^corral\s*\| (?<node>\S+) started \(pid (?<pid>\d+)\)")]
    private static partial Regex StartedLine();

    [GeneratedRegex(@"^corral\s*\| (?<node>\S+) listens on (?<ports>\w+ \d+(, \w+ \d+)*)$")]
    private static partial Regex ListensLine();

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
