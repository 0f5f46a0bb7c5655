using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Corral.EndToEnd.Tests.Docker;

/// <summary>
/// <c>corral render compose</c> played by Debian's docker-compose: the supervisor as one service with
/// <c>--engine external</c>, every node a service that joins it, and Compose doing the starting and the teardown.
/// </summary>
[Collection(EndToEnd.Collection)]
public sealed partial class ComposeTests(CorralImageFixture image) : IClassFixture<CorralImageFixture>, IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(3);
    private readonly TempFolder _folder = new();
    private readonly string _project = $"corralcompose{Guid.NewGuid():N}"[..24];
    private string OutputFolder => Path.Combine(_folder.Path, "out");

    [DockerFact(Needs = "/usr/bin/docker-compose")]
    public async Task A_rendered_shootout_plays_to_one_winner_under_docker_compose_and_down_leaves_nothing()
    {
        await RenderAsync("shootout.yaml", "--set", "tick=50ms");

        var (exit, log) = await ComposeAsync("up", "--exit-code-from", "corral-supervisor");

        Assert.True(exit == 0, log);
        Assert.Single(log.Split('\n'), l => WinnerLine().IsMatch(l));
        await DownAndAssertNothingLeftAsync();
    }

    [DockerFact(Needs = "/usr/bin/docker-compose")]
    public async Task The_rendered_balancer_example_serves_through_its_balancer_at_the_planned_port()
    {
        await RenderAsync("balancer.yaml", "--set", "avg-delay=1ms");
        var (exit, log) = await ComposeAsync("up", "--detach");
        Assert.True(exit == 0, log);
        string[] nodes = ["worker-1", "worker-2", "worker-3", "lb-1"];
        await Eventually.TrueAsync(async _ =>
        {
            var (_, supervisor) = await ComposeAsync("logs", "--no-color", "corral-supervisor");
            return nodes.All(n => supervisor.Contains($"| {n} ready\n", StringComparison.Ordinal));
        }, Bound, "the workers and lb-1 to be ready");
        var lb = await DockerEngineTests.DockerAsync("inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", $"{_project}_lb-1_1");

        // The example's workers answer 12% of hellos with their injected 500 (HelloLoad counts those apart); every
        // other answer must be a hello, relayed from the workers' containers by lb-1 at the topology's port 5050.
        await using (var load = HelloLoad.Start([5050], clients: 2, host: lb))
        {
            await Eventually.TrueAsync(() => load.Ok >= 100, Bound, "hellos through lb-1's container");
            await load.StopAsync();
            Assert.True(load.Failures.Count == 0, $"{load.Failures.Count} client errors: {string.Join(" | ", load.Failures.Take(5))}");
        }

        await DownAndAssertNothingLeftAsync();
    }

    private async Task RenderAsync(string example, params string[] overrides)
    {
        var (code, output) = await CorralProcess.RunAsync(_folder.Path, TimeSpan.FromMinutes(1),
            ["render", "compose", CorralBinary.Example(example), "-o", OutputFolder, "--image", image.Tag, "--dashboard-port", "0", .. overrides]);
        Assert.True(code == 0, output);
    }

    private async Task DownAndAssertNothingLeftAsync()
    {
        var (exit, log) = await ComposeAsync("down", "--volumes");
        Assert.True(exit == 0, log);
        var filter = $"label=com.docker.compose.project={_project}";
        Assert.Equal("", await DockerEngineTests.DockerAsync("ps", "--all", "--quiet", "--filter", filter));
        Assert.Equal("", await DockerEngineTests.DockerAsync("network", "ls", "--quiet", "--filter", filter));
        Assert.Equal("", await DockerEngineTests.DockerAsync("volume", "ls", "--quiet", "--filter", filter));
    }

    private async Task<(int Exit, string Output)> ComposeAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("docker-compose", ["-f", Path.Combine(OutputFolder, "docker-compose.yml"), "-p", _project, "--no-ansi", .. arguments])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        using var cancel = new CancellationTokenSource(Bound);
        var stdout = process.StandardOutput.ReadToEndAsync(cancel.Token);
        var stderr = process.StandardError.ReadToEndAsync(cancel.Token);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"docker-compose {string.Join(' ', arguments)} did not finish within {Bound}");
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    public void Dispose()
    {
        // A failed assertion must not leave the project's containers, network and volumes behind.
        using var down = Process.Start(new ProcessStartInfo("docker-compose",
            ["-f", Path.Combine(OutputFolder, "docker-compose.yml"), "-p", _project, "down", "--volumes", "--timeout", "1"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        });
        down?.WaitForExit(TimeSpan.FromMinutes(1));
        _folder.Dispose();
    }

    // Compose prefixes each line with the service: "corral-supervisor_1  | round 1: Sam wins".
    [GeneratedRegex(@"^corral-supervisor_1\s+\| round \d+: \S+ wins$")]
    private static partial Regex WinnerLine();
}
