using System.CommandLine;

namespace Corral.Bench;

/// <summary>Time from starting <c>corral up examples/shootout.yaml</c> to every one of its 6 nodes answering <c>/readyz</c>.</summary>
internal static class StartupScenario
{
    public static Command Command()
    {
        var runs = new Option<int>("--runs") { DefaultValueFactory = _ => 5 };
        var command = new Command("startup", "Seconds from `corral up` to all nodes ready (the example's 6 nodes).") { runs };
        command.SetAction((r, _) => RunAsync(r.GetValue(runs)));
        return command;
    }

    private static async Task<int> RunAsync(int runs)
    {
        var times = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            var folder = Directory.CreateTempSubdirectory("corral-bench-startup-").FullName;
            await using (var run = CorralRun.Start(folder, "up", CorralRun.Example("shootout.yaml"), "--ports", "dynamic", "--data", folder,
                             "--set", "cowboys.0.health=100000", "--set", "cowboys.1.health=100000"))
            {
                var sixth = await run.WaitForAsync(l => l.StartsWith("corral") && l.EndsWith(" ready"), TimeSpan.FromSeconds(60), count: 6);
                times.Add(sixth.At.TotalSeconds);
                await run.StopAsync();
            }

            Directory.Delete(folder, recursive: true);
        }

        times.Sort();
        Console.WriteLine("| runs | min s | median s | max s |");
        Console.WriteLine("|---|---|---|---|");
        Console.WriteLine($"| {runs} | {times[0]:0.00} | {times[times.Count / 2]:0.00} | {times[^1]:0.00} |");
        return 0;
    }
}
