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
    private readonly string _project = $"corral-compose-test-{Guid.NewGuid():N}"[..30];

    [DockerFact(Needs = "/usr/bin/docker-compose")]
    public async Task A_rendered_shootout_plays_to_one_winner_under_docker_compose_and_down_leaves_nothing()
    {
        var output = Path.Combine(_folder.Path, "out");
        var (code, rendered) = await CorralProcess.RunAsync(_folder.Path, TimeSpan.FromMinutes(1), "render", "compose", CorralBinary.Example("shootout.yaml"),
            "-o", output, "--image", image.Tag, "--dashboard-port", "0", "--set", "tick=50ms");
        Assert.True(code == 0, rendered);

        var (exit, log) = await ComposeAsync(output, "up", "--exit-code-from", "corral-supervisor");

        Assert.True(exit == 0, log);
        Assert.Single(log.Split('\n'), l => WinnerLine().IsMatch(l));
        (exit, log) = await ComposeAsync(output, "down", "--volumes");
        Assert.True(exit == 0, log);
        var filter = $"label=com.docker.compose.project={_project}";
        Assert.Equal("", await DockerEngineTests.DockerAsync("ps", "--all", "--quiet", "--filter", filter));
        Assert.Equal("", await DockerEngineTests.DockerAsync("network", "ls", "--quiet", "--filter", filter));
        Assert.Equal("", await DockerEngineTests.DockerAsync("volume", "ls", "--quiet", "--filter", filter));
    }

    private async Task<(int Exit, string Output)> ComposeAsync(string folder, params string[] arguments)
    {
        var start = new ProcessStartInfo("docker-compose", ["-f", Path.Combine(folder, "docker-compose.yml"), "-p", _project, "--no-ansi", .. arguments])
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
            ["-f", Path.Combine(_folder.Path, "out", "docker-compose.yml"), "-p", _project, "down", "--volumes", "--timeout", "1"])
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
