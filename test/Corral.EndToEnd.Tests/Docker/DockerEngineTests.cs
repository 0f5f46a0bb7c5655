using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Corral.EndToEnd.Tests.Counter;

namespace Corral.EndToEnd.Tests.Docker;

/// <summary>Builds Corral's image once for <see cref="DockerEngineTests"/> and removes it afterwards.</summary>
public sealed class CorralImageFixture : IAsyncLifetime
{
    /// <summary>Corral's image; etcd's is <c>corral-etcd</c> with the same (unique) tag, as the docker engine looks for it.</summary>
    public string Tag { get; } = $"corral-engine-test:{Guid.NewGuid():N}";

    public string EtcdTag => "corral-etcd:" + Tag[(Tag.IndexOf(':') + 1)..];

    public async Task InitializeAsync()
    {
        if (DockerFactAttribute.Unavailable)
        {
            return;
        }

        using var folder = new TempFolder();
        var (code, output) = await CorralProcess.RunAsync(folder.Path, TimeSpan.FromMinutes(2), "image", "--binary", ImageTests.NativeBinary(), "--tag", Tag,
            "--program", "etcd");
        Assert.True(code == 0, output);
    }

    public async Task DisposeAsync()
    {
        if (!DockerFactAttribute.Unavailable)
        {
            await DockerEngineTests.DockerAsync("image", "rm", "--force", Tag, EtcdTag);
        }
    }
}

/// <summary>
/// <c>corral up --engine docker</c>: every node a container on the run's own network, supervised as a process is
/// (restarted after a <c>docker kill</c>), and nothing of the run left on Docker when it ends. Test traffic goes to
/// loopback and to the containers the run created only.
/// </summary>
[Collection(EndToEnd.Collection)]
public sealed partial class DockerEngineTests(CorralImageFixture image) : IClassFixture<CorralImageFixture>, IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);
    private readonly TempFolder _folder = new();

    [DockerFact]
    public async Task The_shootout_plays_to_one_winner_in_containers_its_history_checks_and_nothing_is_left()
    {
        await using var corral = Up(CorralBinary.Example("shootout.yaml"), "--set", "tick=50ms");

        Assert.True(await corral.WaitForExitAsync(Bound) == 0, corral.Output);

        Assert.Single(corral.Lines, l => WinnerLine().IsMatch(l));
        Assert.Contains(corral.Lines, l => l.StartsWith("corral") && l.Contains("docker network corral-"));
        var (code, output) = await CorralProcess.RunAsync(_folder.Path, TimeSpan.FromMinutes(1), "check", corral.RunFolder);
        Assert.True(code == 0, output);
        Assert.Contains("passed", output);
        await AssertNothingLeftAsync(Path.GetFileName(corral.RunFolder));
    }

    [DockerFact]
    public async Task The_balancer_serves_with_no_client_error_while_a_worker_container_is_killed_and_restarted()
    {
        await using var corral = Up(_folder.Write("balancer.yaml", """
            app: balancer
            seed: 7
            workers: 3
            balancers: 1
            avg-delay: 1ms
            failure: 0
            health-check:
              interval: 200ms
              timeout: 500ms
            retries:
              attempts: 2
              budget-percent: 100
              min-retry-concurrency: 64
            """));
        await corral.WaitForLineAsync(l => l.StartsWith("corral") && l.EndsWith("| lb-1 ready"), Bound, "lb-1 to be ready");
        await corral.WaitForLineAsync(l => l.StartsWith("corral") && l.EndsWith("| worker-2 ready"), Bound, "worker-2 to be ready");
        var port = await corral.WaitForPortAsync("lb-1", "http", Bound);
        var runId = Path.GetFileName(corral.RunFolder);
        var lb = await DockerAsync("inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", $"corral-{runId}-lb-1");
        var started = corral.Lines.Count(l => l.StartsWith("corral") && l.Contains("| worker-2 started"));

        await using (var load = HelloLoad.Start([port], clients: 4, host: lb))
        {
            await Eventually.TrueAsync(() => load.Ok >= 200, Bound, "steady load through lb-1's container");
            await DockerAsync("kill", $"corral-{runId}-worker-2");
            await Eventually.TrueAsync(() => corral.Lines.Count(l => l.StartsWith("corral") && l.Contains("| worker-2 started")) > started, Bound,
                "worker-2 to be started again");
            await corral.WaitForLineAsync(l => l.StartsWith("corral") && l.EndsWith("| worker-2 ready"), Bound, "worker-2 ready again", skip: 1);
            var okAfterRestart = load.Ok;
            await Eventually.TrueAsync(() => load.Ok >= okAfterRestart + 200, Bound, "load still served after the restart");
            await load.StopAsync();
            Assert.True(load.Failures.Count == 0, $"{load.Failures.Count} client errors: {string.Join(" | ", load.Failures.Take(5))}");
        }

        corral.Signal(Posix.SigInt);
        Assert.Equal(130, await corral.WaitForExitAsync(Bound));
        await AssertNothingLeftAsync(runId);
    }

    [DockerFact]
    public async Task The_counter_stays_exact_across_a_docker_kill_of_a_worker_whose_store_lies_outside_the_data_folder()
    {
        // store: beside the topology, not under the data folder: the worker's container sees it only as a mount of its own.
        await using var corral = Up(_folder.Write("counter.yaml", """
            app: counter
            workers: 3
            partitions: 16
            store: store/
            forward-timeout: 2s
            retry-budget: 20s
            restarts:
              worker: 100
            """));
        await corral.WaitForLineAsync(l => l.StartsWith("corral") && l.EndsWith("| coordinator ready"), Bound, "the coordinator to be ready");
        var port = await corral.WaitForPortAsync("coordinator", "http", Bound);
        var runId = Path.GetFileName(corral.RunFolder);
        var coordinator = await AddressAsync($"corral-{runId}-coordinator");
        var (batches, reference) = CounterLoad.Plan(8_000, tenants: 200, batchSize: 50, seed: 19);
        var started = corral.Lines.Count(l => l.StartsWith("corral") && l.Contains("| worker-2 started"));

        // 1,000 items/s: the load outlasts the kill, the restart and the worker's reopening of its partitions.
        await using (var load = CounterLoad.Start(port, batches, clients: 4, retry: true, itemsPerSecond: 1_000, host: coordinator))
        {
            await Eventually.TrueAsync(() => load.Acknowledged >= 2_000, Bound, "items to flow through the coordinator's container");
            await DockerAsync("kill", $"corral-{runId}-worker-2");
            Assert.False(load.Finished, "the load ended before the kill: the test saw no kill under load");
            await Eventually.TrueAsync(() => corral.Lines.Count(l => l.StartsWith("corral") && l.Contains("| worker-2 started")) > started, Bound,
                "worker-2 to be started again");
            await load.CompletedAsync();
            Assert.Equal(8_000, load.Acknowledged);
        }

        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };
        var wrong = new List<string>();
        foreach (var (tenant, distinct) in reference)
        {
            using var reply = JsonDocument.Parse(await http.GetStringAsync($"http://{coordinator}:{port}/items/{tenant}/count"));
            var count = reply.RootElement.GetProperty("count").GetInt64();
            if (count != distinct.Count) wrong.Add($"{tenant}: {count}, expected {distinct.Count}");
        }

        Assert.True(wrong.Count == 0, $"{wrong.Count} of {reference.Count} tenants have a wrong count: {string.Join("; ", wrong.Take(10))}");
        Assert.True(Directory.EnumerateFiles(Path.Combine(_folder.Path, "store"), "partition-*.db").Any(), "the store is not where the topology put it");
        corral.Signal(Posix.SigInt);
        Assert.Equal(130, await corral.WaitForExitAsync(Bound));
        await AssertNothingLeftAsync(runId);
    }

    [DockerFact]
    public async Task After_a_SIGKILL_of_the_supervisor_the_nodes_stop_on_their_own_and_prune_removes_the_rest()
    {
        await using var corral = Up(_folder.Write("balancer.yaml", """
            app: balancer
            workers: 1
            balancers: 1
            """));
        await corral.WaitForLineAsync(l => l.StartsWith("corral") && l.EndsWith("| lb-1 ready"), Bound, "lb-1 to be ready");
        var runId = Path.GetFileName(corral.RunFolder);
        var filter = $"label=corral.run={runId}";
        Assert.Equal(2, Lines(await DockerAsync("ps", "--quiet", "--filter", filter)).Length);

        corral.Signal(Posix.SigKill);
        await corral.WaitForExitAsync(Bound);
        // Each node stops once the control API has not answered for its grace (10 s), then drains: no one removes them.
        await Eventually.TrueAsync(async _ => await DockerAsync("ps", "--all", "--quiet", "--filter", filter) == "", Bound,
            "the run's containers to stop by themselves");
        Assert.NotEqual("", await DockerAsync("network", "ls", "--quiet", "--filter", filter));

        var (code, output) = await CorralProcess.RunAsync(_folder.Path, Bound, "prune", "--data", Path.Combine(_folder.Path, "data"));
        Assert.True(code == 0, output);
        Assert.Contains($"removed what the dead run {runId} left on Docker: network corral-{runId}", output);
        await AssertNothingLeftAsync(runId);
    }

    [DockerFact]
    public async Task A_peer_shootout_with_one_cowboy_cut_off_its_network_for_10_s_has_one_winner_and_its_history_checks()
    {
        await using var corral = Up(_folder.Write("peer.yaml", """
            app: shootout
            mode: peer
            tick: 100ms
            seed: 7
            rounds: 1
            cowboys:
              - {name: John, health: 300, damage: 1}
              - {name: Bill, health: 300, damage: 2}
              - {name: Sam, health: 300, damage: 1}
              - {name: Peter, health: 300, damage: 3}
              - {name: Philip, health: 300, damage: 1}
            """));
        await corral.WaitForLineAsync(l => ShotLine().IsMatch(l), Bound, "the first shots");
        var runId = Path.GetFileName(corral.RunFolder);
        var network = $"corral-{runId}";
        var cowboy = $"{network}-cowboy-3";
        var address = await AddressAsync(cowboy);

        await DockerAsync("network", "disconnect", network, cowboy);
        // The partition itself is what is tested: ten seconds of it, not a wait for something to happen.
        await Task.Delay(TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(corral.Lines, l => WinnerLine().IsMatch(l));
        // The supervisor may have restarted the cowboy meanwhile (its probes failed): then the new container is attached already.
        await DockerTryAsync("network", "connect", "--ip", address, network, cowboy);

        Assert.True(await corral.WaitForExitAsync(Bound) == 0, corral.Output);
        Assert.Single(corral.Lines, l => WinnerLine().IsMatch(l));
        var (code, output) = await CorralProcess.RunAsync(_folder.Path, TimeSpan.FromMinutes(1), "check", corral.RunFolder);
        Assert.True(code == 0, output);
        Assert.Contains("passed", output);
        await AssertNothingLeftAsync(runId);
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private static Task<string> AddressAsync(string container) =>
        DockerAsync("inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", container);

    private CorralProcess Up(string topology, params string[] extra) =>
        CorralProcess.Start(_folder.Path, ["up", topology, "--engine", "docker", "--image", image.Tag, "--ports", "dynamic", "--no-dashboard",
            "--data", Path.Combine(_folder.Path, "data"), .. extra]);

    /// <summary>No container, network or volume of the run is left on Docker.</summary>
    private static async Task AssertNothingLeftAsync(string runId)
    {
        var filter = $"label=corral.run={runId}";
        Assert.Equal("", await DockerAsync("ps", "--all", "--quiet", "--filter", filter));
        Assert.Equal("", await DockerAsync("network", "ls", "--quiet", "--filter", filter));
        Assert.Equal("", await DockerAsync("volume", "ls", "--quiet", "--filter", filter));
    }

    private static async Task DockerTryAsync(params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo("docker", arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(cancel.Token);
    }

    internal static async Task<string> DockerAsync(params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo("docker", arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var output = process.StandardOutput.ReadToEndAsync(cancel.Token);
        var errors = process.StandardError.ReadToEndAsync(cancel.Token);
        await process.WaitForExitAsync(cancel.Token);
        Assert.True(process.ExitCode == 0, $"docker {string.Join(' ', arguments)} failed: {await errors}");
        return (await output).Trim();
    }

    public void Dispose() => _folder.Dispose();

    [GeneratedRegex(@"^round (?<round>\d+): \S+ wins$")]
    private static partial Regex WinnerLine();

    [GeneratedRegex(@"^cowboy-\d+\s*\| .*just shot \S+ \(")]
    private static partial Regex ShotLine();
}
