using System.CommandLine;

namespace Corral.Bench;

/// <summary>Time from starting <c>corral up examples/shootout.yaml</c> to every one of its 6 nodes answering <c>/readyz</c>.</summary>
internal static class StartupScenario
{
    public static Command Command()
    {
        var runs = new Option<int>("--runs") { DefaultValueFactory = _ => 5 };
        var binary = CorralBinary.Option();
        var command = new Command("startup", "Seconds from `corral up` to all nodes ready (the example's 6 nodes).") { runs, binary };
        command.SetAction((r, _) => RunAsync(r.GetValue(runs), CorralBinary.Parse(r.GetValue(binary)!)));
        return command;
    }

    private static async Task<int> RunAsync(int runs, IReadOnlyList<CorralBinary> binaries)
    {
        var times = binaries.ToDictionary(b => b, _ => new List<double>());
        for (var i = 0; i < runs; i++)
        {
            // Interleaved, so a burst of noise on the machine hits every binary alike.
            foreach (var binary in binaries)
            {
                times[binary].Add(await TimeOneRunAsync(binary));
            }
        }

        Console.WriteLine("| binary | runs | min s | median s | max s |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var (binary, list) in times)
        {
            list.Sort();
            Console.WriteLine($"| {binary.Label} | {runs} | {list[0]:0.00} | {list[list.Count / 2]:0.00} | {list[^1]:0.00} |");
        }

        return 0;
    }

    private static async Task<double> TimeOneRunAsync(CorralBinary binary)
    {
        var folder = Directory.CreateTempSubdirectory("corral-bench-startup-").FullName;
        try
        {
            await using var run = CorralRun.Start(binary, folder, "up", CorralBinary.Example("shootout.yaml"), "--ports", "dynamic", "--data", folder,
                "--set", "cowboys.0.health=100000", "--set", "cowboys.1.health=100000");
            var sixth = await run.WaitForAsync(l => l.StartsWith("corral") && l.EndsWith(" ready"), TimeSpan.FromSeconds(60), count: 6);
            await run.StopAsync();
            return sixth.At.TotalSeconds;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
