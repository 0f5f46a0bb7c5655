using System.CommandLine;

namespace Corral.Bench;

/// <summary>
/// Memory (PSS) of a cowboy node and of a balancer worker node while their examples run, for each binary given.
/// PSS splits shared pages (the runtime, a native binary's code) between the processes mapping them, so it is
/// what one more node costs the machine.
/// </summary>
internal static class MemoryScenario
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(5);

    public static Command Command()
    {
        var binary = CorralBinary.Option();
        var command = new Command("memory", "PSS of cowboy and balancer-worker nodes while examples/shootout.yaml and examples/balancer.yaml run.") { binary };
        command.SetAction((r, _) => RunAsync(CorralBinary.Parse(r.GetValue(binary)!)));
        return command;
    }

    private static async Task<int> RunAsync(IReadOnlyList<CorralBinary> binaries)
    {
        Console.WriteLine("| binary | node | processes | PSS MiB mean | PSS MiB max |");
        Console.WriteLine("|---|---|---:|---:|---:|");
        foreach (var binary in binaries)
        {
            // Cowboys with health to spare, so the round outlasts the measurement.
            Print(binary, "shootout cowboy", await MeasureAsync(binary, "shootout.yaml", "cowboy", 6,
                "--set", "cowboys.0.health=100000", "--set", "cowboys.1.health=100000", "--set", "cowboys.2.health=100000"));
            Print(binary, "balancer worker", await MeasureAsync(binary, "balancer.yaml", "worker", 5));
        }

        return 0;
    }

    private static async Task<long[]> MeasureAsync(CorralBinary binary, string example, string prefix, int nodes, params string[] sets)
    {
        var folder = Directory.CreateTempSubdirectory("corral-bench-memory-").FullName;
        try
        {
            await using var run = CorralRun.Start(binary, folder, ["up", CorralBinary.Example(example), "--ports", "dynamic", "--data", folder, .. sets]);
            await run.WaitForAsync(l => l.StartsWith("corral") && l.EndsWith(" ready"), TimeSpan.FromSeconds(60), count: nodes);
            await Task.Delay(Settle); // a few ticks or health checks: the steady state, not the start
            var pss = run.PidsOf(prefix).Select(CorralRun.PssKiB).Where(k => k > 0).ToArray();
            await run.StopAsync();
            return pss;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void Print(CorralBinary binary, string node, long[] pss) =>
        Console.WriteLine(pss.Length == 0
            ? $"| {binary.Label} | {node} | 0 | - | - |"
            : $"| {binary.Label} | {node} | {pss.Length} | {pss.Average() / 1024:0.0} | {pss.Max() / 1024.0:0.0} |");
}
