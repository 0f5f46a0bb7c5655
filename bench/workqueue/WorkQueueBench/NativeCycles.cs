using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Corral.Bench;
using Corral.Node.Control;
using Corral.Node.Nodes;
using Corral.WorkQueue;
using Corral.WorkQueue.Config;
using Corral.WorkQueue.Store;
using Corral.WorkQueue.Worker;

/// <summary>
/// Claim + complete cycles as a real run does them: <c>corral up --engine external</c> with the native binary, its
/// controller started as the native <c>corral node workqueue.controller</c>, and four workers each in a process of its
/// own (this benchmark, <see cref="SlotWorker"/>) claiming and reporting through the real client with a no-op runner.
/// CPU per cycle is the utime + stime of the controller (which holds the SQLite store) and of redis-server over the
/// window from the workers' start to their last report.
/// </summary>
internal static partial class NativeCycles
{
    private const int Workers = 4;
    private const int PortOffset = 20000;

    /// <summary>One configuration, once: prints one line and returns its figures.</summary>
    public static async Task<(double CyclesPerSecond, double P50, double P99, double ControllerUs, double StoreUs)> RunAsync(
        string binary, int count, string store, int concurrency, int? redisPid, string benchDll)
    {
        var folder = Directory.CreateTempSubdirectory("corral-bench-wq-native-").FullName;
        var processes = new List<Process>();
        try
        {
            var tasks = Enumerable.Range(0, count).Select(i => new { spec = $"spec{i:00000}", viewports = new[] { "desktop" }, browsers = new[] { "chrome" } });
            await File.WriteAllTextAsync(Path.Combine(folder, "map.json"), JsonSerializer.Serialize(new { groups = new[] { new { name = "bench", tasks } } }));
            await File.WriteAllTextAsync(Path.Combine(folder, "wq.yaml"),
                $"app: workqueue\nspecs: map.json\ncommand: [true]\nworkers: {Workers}\nconcurrency: {concurrency}\nstore: {store}\ndurability: sync\nlease: 60s\n");
            var data = Path.Combine(folder, "data");
            // Fixed ports below 32768: the control API on 7999 + offset, the controller on 3000 + offset.
            var supervisor = Start(binary, folder, processes, "up", "wq.yaml", "--engine", "external", "--port-offset", PortOffset.ToString(CultureInfo.InvariantCulture),
                "--data", data, "--no-dashboard");
            var runId = await supervisor.WaitForAsync(RunLine(), TimeSpan.FromSeconds(30));
            await supervisor.WaitForAsync(WaitsToJoin(), TimeSpan.FromSeconds(30));

            var join = await CredentialAsync(binary, folder, data, runId, "controller");
            var controller = Start(binary, folder, processes, "node", WorkQueuePlan.ControllerRole, "--join", join, "--credential-file", Path.Combine(folder, "controller.credential"),
                "--port", $"http={3000 + PortOffset}");
            await supervisor.WaitForAsync(ControllerReady(), TimeSpan.FromSeconds(30));
            foreach (var w in Enumerable.Range(1, Workers)) await CredentialAsync(binary, folder, data, runId, $"worker-{w}");

            // The window opens once the controller has queued every task and the workers' processes start claiming.
            var before = Cpu(controller.Process.Id, redisPid);
            var workers = Enumerable.Range(1, Workers).Select(w => Start("dotnet", folder, processes, benchDll, "slot-worker", join,
                Path.Combine(folder, $"worker-{w}.credential"), Path.Combine(folder, $"worker-{w}.out"))).ToArray();
            foreach (var worker in workers)
            {
                using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(5));
                await worker.Process.WaitForExitAsync(limit.Token);
                if (worker.Process.ExitCode != 0) throw new InvalidOperationException($"a worker failed:\n{worker.Tail()}");
            }

            var after = Cpu(controller.Process.Id, redisPid);
            var outs = Enumerable.Range(1, Workers).Select(w => SlotWorker.Read(Path.Combine(folder, $"worker-{w}.out"))).ToArray();
            var cycles = outs.Sum(o => o.Cycles);
            var seconds = (outs.Max(o => o.EndUnixMs) - outs.Min(o => o.StartUnixMs)) / 1000.0;
            var latencies = outs.SelectMany(o => o.LatenciesMs).Order().ToArray();
            var result = (cycles / seconds, Percentile(latencies, 0.50), Percentile(latencies, 0.99),
                (after.Controller - before.Controller) * 1e6 / cycles, (after.Store - before.Store) * 1e6 / cycles);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{(store == "sqlite" ? "sqlite sync" : "redis always")}, concurrency {concurrency}: {cycles}/{count} cycles in {seconds:0.00} s, {result.Item1:0} cycles/s; claim p50 {result.Item2:0.00} ms, p99 {result.Item3:0.00} ms; CPU µs per cycle: controller {result.Item4:0.0}, redis-server {(redisPid is null ? "-" : result.Item5.ToString("0.0", CultureInfo.InvariantCulture))}"));
            if (cycles != count) throw new InvalidOperationException($"{cycles} cycles for {count} tasks");
            return result;
        }
        finally
        {
            foreach (var process in processes.AsEnumerable().Reverse())
            {
                try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                process.WaitForExit();
                process.Dispose();
            }

            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// Every configuration <paramref name="rounds"/> times, interleaved (SQLite and Redis at each concurrency, then again),
    /// so a burst of load from elsewhere on the machine hits them alike; prints the medians as a table.
    /// </summary>
    /// <param name="binaries">One corral executable, or several as label=path,label=path (builds compared in the same run).</param>
    public static async Task<int> MatrixAsync(string binaries, int count, string redisUrl, int redisPid, int rounds, int[] concurrencies, string benchDll)
    {
        var builds = binaries.Split(',').Select(b => b.Split('=', 2) is [var label, var path] ? (Label: label, Path: Path.GetFullPath(path)) : (Label: "", Path: Path.GetFullPath(b))).ToArray();
        var runs = new List<(string Build, string Store, int Concurrency, (double Rate, double P50, double P99, double ControllerUs, double StoreUs) Figures)>();
        Console.WriteLine($"{rounds} interleaved rounds of {count} tasks, {Workers} worker processes, no-op runner; {Environment.ProcessorCount} cores, load average {File.ReadAllText("/proc/loadavg")[..14]}");
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var concurrency in concurrencies)
            {
                foreach (var store in new[] { "sqlite", redisUrl })
                {
                    foreach (var build in builds)
                    {
                        Console.Write($"  round {round}  {build.Label} ");
                        runs.Add((build.Label, store, concurrency, await RunAsync(build.Path, count, store, concurrency, store == "sqlite" ? null : redisPid, benchDll)));
                    }
                }
            }
        }

        Console.WriteLine();
        Console.WriteLine($"| store, concurrency per worker (median of {rounds}) | cycles/s | claim p50 / p99 | controller CPU µs per cycle | redis-server CPU µs per cycle |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var group in runs.GroupBy(r => (r.Build, r.Store, r.Concurrency)))
        {
            var sorted = group.OrderBy(r => r.Figures.Rate).ToArray();
            var median = sorted[(sorted.Length - 1) / 2].Figures;
            double Mid(Func<(double Rate, double P50, double P99, double ControllerUs, double StoreUs), double> pick) =>
                group.Select(r => pick(r.Figures)).Order().ElementAt((sorted.Length - 1) / 2);
            var isRedis = group.Key.Store != "sqlite";
            var label = group.Key.Build.Length > 0 ? $"{group.Key.Build}: " : "";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {label}{(isRedis ? "Redis `appendfsync always`" : "SQLite `sync`")}, {group.Key.Concurrency} | {median.Rate:N0} | {median.P50:0.00} / {median.P99:0.00} ms | {Mid(f => f.ControllerUs):0.0} | {(isRedis ? Mid(f => f.StoreUs).ToString("0.0", CultureInfo.InvariantCulture) : "(in the controller)")} |"));
        }

        return 0;
    }

    private static (double Controller, double Store) Cpu(int controller, int? redis) =>
        (ProcessCpu.Seconds(controller), redis is { } pid ? ProcessCpu.Seconds(pid) : 0);

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

    /// <summary>Writes the node's credential file with <c>corral credential</c>; returns the control API URL to join.</summary>
    private static async Task<string> CredentialAsync(string binary, string folder, string data, string runId, string nodeId)
    {
        var processes = new List<Process>();
        var credential = Start(binary, folder, processes, "credential", runId, nodeId, "--out", Path.Combine(folder, $"{nodeId}.credential"), "--data", data);
        await credential.Process.WaitForExitAsync();
        if (credential.Process.ExitCode != 0) throw new InvalidOperationException($"corral credential {nodeId} failed:\n{credential.Tail()}");
        return JoinUrl().Match(string.Join('\n', credential.Lines)).Groups[1].Value;
    }

    private static Child Start(string file, string folder, List<Process> processes, params string[] args)
    {
        var info = new ProcessStartInfo(file) { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        info.Environment["NO_COLOR"] = "1";
        var child = new Child(Process.Start(info)!);
        processes.Add(child.Process);
        return child;
    }

    [GeneratedRegex(@"\| run (\S+) of workqueue in ")]
    private static partial Regex RunLine();

    [GeneratedRegex(@"\| (controller) waits for its node to join")]
    private static partial Regex WaitsToJoin();

    [GeneratedRegex(@"\| (controller) ready")]
    private static partial Regex ControllerReady();

    [GeneratedRegex(@"--join (\S+) --credential-file")]
    private static partial Regex JoinUrl();

    /// <summary>A started process and its output lines (both streams).</summary>
    private sealed class Child
    {
        private readonly List<string> _lines = [];

        public Child(Process process)
        {
            Process = process;
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_lines) _lines.Add(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_lines) _lines.Add(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public Process Process { get; }

        public string[] Lines { get { lock (_lines) return _lines.ToArray(); } }

        public string Tail() => string.Join('\n', Lines.TakeLast(20));

        /// <summary>The first group of the first line that matches, waiting for it (bounded).</summary>
        public async Task<string> WaitForAsync(Regex pattern, TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < timeout)
            {
                foreach (var line in Lines)
                {
                    if (pattern.Match(line) is { Success: true } m) return m.Groups[1].Value;
                }

                if (Process.HasExited) break;
                await Task.Delay(20);
            }

            throw new TimeoutException($"no line matched {pattern} within {timeout}:\n{Tail()}");
        }
    }
}

/// <summary>
/// One worker in a process of its own, joined with the credential <c>corral credential</c> wrote: its slots claim and
/// report through the real client (each report bringing the next claim, as a worker does) and run nothing. Writes
/// its cycle count, first and last times and the latency of every claim to a file.
/// </summary>
internal static class SlotWorker
{
    public static async Task<int> RunAsync(string join, string credentialFile, string output)
    {
        var context = NodeContext.FromEnvironment(WorkQueuePlan.WorkerRole, join: join, credentialFile: credentialFile);
        using var control = new ControlClient(context.ControlUrl, context.Token);
        var config = WorkQueueConfig.FromJson((await control.GetConfigAsync()).Config);
        using var client = new QueueClient(context, control, TimeSpan.FromSeconds(30));
        var latencies = new List<double>[config.Concurrency];
        var start = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await Task.WhenAll(Enumerable.Range(0, config.Concurrency).Select(async slot =>
        {
            await Task.Yield();
            await ClaimLoop.RunAsync(client, latencies[slot] = []);
        }));
        var end = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        // Each slot's last latency is the report that found the queue empty, not a cycle.
        var cycles = latencies.Sum(l => l.Count - 1);
        await File.WriteAllLinesAsync(output, [$"{cycles} {start} {end}", .. latencies.SelectMany(l => l).Select(l => l.ToString("R", CultureInfo.InvariantCulture))]);
        return 0;
    }

    public static (int Cycles, long StartUnixMs, long EndUnixMs, double[] LatenciesMs) Read(string path)
    {
        var lines = File.ReadAllLines(path);
        var head = lines[0].Split(' ');
        return (int.Parse(head[0], CultureInfo.InvariantCulture), long.Parse(head[1], CultureInfo.InvariantCulture), long.Parse(head[2], CultureInfo.InvariantCulture),
            lines.Skip(1).Select(l => double.Parse(l, CultureInfo.InvariantCulture)).ToArray());
    }
}
