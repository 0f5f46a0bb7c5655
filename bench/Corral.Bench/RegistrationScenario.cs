using System.CommandLine;
using System.Text;
using System.Text.RegularExpressions;

namespace Corral.Bench;

/// <summary>
/// Start-up of a big run as a new user sees it: N cowboys at a one-second tick under `corral up`, and how many have
/// registered at each second (a cowboy is ready once registered). A curve whose slope falls as N grows is cost per
/// join that grows with N. Beside the count, the CPU-seconds the supervisor, the server and all cowboys have used so
/// far (<c>/proc/&lt;pid&gt;/stat</c> utime + stime), so the row where the slope falls shows who was busy.
/// </summary>
internal static partial class RegistrationScenario
{
    public static Command Command()
    {
        var cowboys = new Option<int>("--cowboys") { DefaultValueFactory = _ => 500 };
        var tick = new Option<string>("--tick") { DefaultValueFactory = _ => "1s" };
        var timeout = new Option<int>("--timeout") { DefaultValueFactory = _ => 180, Description = "seconds before the run is given up" };
        var binary = CorralBinary.Option();
        var command = new Command("registration", "Registration curve of an N-cowboy run: registered count and CPU at 1 s steps.") { cowboys, tick, timeout, binary };
        command.SetAction(async (r, _) =>
        {
            foreach (var b in CorralBinary.Parse(r.GetValue(binary)!))
            {
                await RunAsync(b, r.GetValue(cowboys), r.GetValue(tick)!, TimeSpan.FromSeconds(r.GetValue(timeout)));
            }

            return 0;
        });
        return command;
    }

    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(5);

    private static async Task RunAsync(CorralBinary binary, int cowboys, string tick, TimeSpan timeout)
    {
        var folder = Directory.CreateTempSubdirectory("corral-bench-registration-").FullName;
        var topology = new StringBuilder($"app: shootout\ntick: {tick}\nseed: 1\nrounds: 1\ncowboys:\n");
        for (var i = 1; i <= cowboys; i++) topology.Append($"  - {{name: c{i}, health: 100000, damage: 1}}\n");
        var file = Path.Combine(folder, "cluster.yaml");
        await File.WriteAllTextAsync(file, topology.ToString());
        Console.WriteLine($"## {binary.Label}: {cowboys} cowboys, tick {tick}");
        Console.WriteLine("| s | registered | in the last s | supervisor CPU s | server CPU s | cowboys CPU s |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|");
        try
        {
            await using var run = CorralRun.Start(binary, folder, "up", file, "--ports", "dynamic", "--data", folder);
            var step = TimeSpan.FromSeconds(1);
            var next = step;
            var last = 0;
            TimeSpan? all = null;
            (TimeSpan At, double Cpu)? idleFrom = null;
            double? idle = null;
            while (run.Elapsed < timeout)
            {
                var wait = next - run.Elapsed;
                if (wait > TimeSpan.Zero) await Task.Delay(wait);
                var registered = run.Lines.Count(l => l.At <= next && Ready().IsMatch(l.Line));
                var cowboyCpu = ProcessCpu.Seconds(run.PidsOf("cowboy"));
                var serverCpu = ProcessCpu.Seconds(run.PidsOf("server", exact: true));
                Console.WriteLine($"| {next.TotalSeconds:0} | {registered} | {registered - last} | {ProcessCpu.Seconds(run.Pid):0.00} | {serverCpu:0.00} | {cowboyCpu:0.00} |");
                last = registered;
                if (registered >= cowboys && all is null)
                {
                    all = run.Lines.Where(l => Ready().IsMatch(l.Line)).Select(l => l.At).Order().ElementAt(cowboys - 1);
                    idleFrom = (next, cowboyCpu);
                }

                if (idleFrom is { } from && next - from.At >= Idle)
                {
                    // What N running cowboys cost while nothing starts: the share of the curve's slope that grows with N.
                    idle = (cowboyCpu - from.Cpu) / (next - from.At).TotalSeconds / cowboys * 1000;
                    break;
                }

                next += step;
            }

            Console.WriteLine(all is { } at
                ? $"all {cowboys} registered after {at.TotalSeconds:0.0} s ({cowboys / at.TotalSeconds:0} per second)"
                : $"not all registered within {timeout.TotalSeconds:0} s: {last} of {cowboys}");
            if (idle is { } ms) Console.WriteLine($"then, all running: {ms:0.0} CPU-ms per cowboy per second");
            var restarts = run.Lines.Where(l => Restarted().IsMatch(l.Line)).ToArray();
            Console.WriteLine($"nodes restarted: {restarts.Length}");
            foreach (var (when, line) in restarts.Take(3)) Console.WriteLine($"  at {when.TotalSeconds:0.0} s: {line}");
            await run.StopAsync();
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [GeneratedRegex(@"^corral\s*\| cowboy-\d+ ready$")]
    private static partial Regex Ready();

    [GeneratedRegex(@"^corral\s*\| cowboy-\d+ .*; restart \d+ of")]
    private static partial Regex Restarted();
}
