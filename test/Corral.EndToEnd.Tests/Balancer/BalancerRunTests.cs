using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Corral.EndToEnd.Tests.Balancer;

/// <summary>
/// The real CLI runs the balancer app: real worker and balancer processes, real sockets, real signals. Every run uses
/// dynamic ports and its own data folder, and each test writes its topology into its temp folder.
/// </summary>
[Collection(EndToEnd.Collection)]
public sealed class BalancerRunTests : IDisposable
{
    /// <summary>Generous: the machine has two cores and other work runs beside the tests.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    private readonly TempFolder _folder = new();
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>
    /// Fast runs: a millisecond's delay, frequent health checks and flushes. The retry budget is opened wide where it
    /// is not what a test is about, so a burst of retries right after a kill is never refused by it.
    /// </summary>
    private static string Topology(int workers, int balancers = 1, int failure = 0, string extra = "") => $"""
        app: balancer
        seed: 7
        workers: {workers}
        balancers: {balancers}
        avg-delay: 1ms
        failure: {failure}
        stats-flush: 200ms
        health-check:
          interval: 200ms
          timeout: 500ms
        {extra}
        """;

    private const string WideBudget = """
        retries:
          attempts: 2
          budget-percent: 100
          min-retry-concurrency: 64
        """;

    [Fact]
    public async Task A_worker_killed_under_load_costs_no_request_and_rejoins_after_its_restart()
    {
        await using var corral = Up(_folder.Write("balancer.yaml", Topology(workers: 3, extra: WideBudget)));
        var lb = await ReadyBalancerAsync(corral, "lb-1");
        await using var load = HelloLoad.Start([lb], clients: 4);
        await Eventually.TrueAsync(() => load.Ok >= 200, Bound, "steady load through lb-1");
        var victim = Assert.Single(corral.PidsOf("worker-2"));
        static bool Joined(string l) => l.StartsWith("lb-1") && l.Contains("membership Joined worker-2");
        var joinedBefore = corral.Lines.Count(Joined);

        // lb-1's view of worker-2, sampled from the kill until the supervisor has started its successor: while no
        // successor exists, worker-2 is certainly dead (a successor is not even listening when its pid is printed).
        var dead = new ConcurrentQueue<string>();
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                if (corral.PidsOf("worker-2").Count > 1) return;
                try
                {
                    dead.Enqueue((await LbWorkerAsync(lb, "worker-2", sampling.Token))?.Health ?? "absent");
                    await Task.Delay(5, sampling.Token);
                }
                catch (OperationCanceledException) when (sampling.IsCancellationRequested)
                {
                }
            }
        });

        var killedAt = corral.Lines.Count;
        Posix.Signal(victim, Posix.SigKill);
        await Eventually.TrueAsync(() => corral.PidsOf("worker-2").Count == 2, Bound, "the supervisor to restart worker-2");
        await sampler.WaitAsync(Bound);

        // Two mechanisms race to take the dead worker out, and either is right: passive health (the first refused
        // connection ejects it at once) or the supervisor's feed (it saw the exit). Whichever wins, one of them did,
        // and from then on lb-1 never lists the dead worker as up: the requests that reach it until then are the
        // ones retried on another worker, which is why no client sees an error.
        var samples = dead.ToArray();
        var firstOut = Array.FindIndex(samples, h => h != "up");
        Assert.True(firstOut >= 0, $"lb-1 listed worker-2 as up for all of the {samples.Length} samples while it was dead");
        Assert.True(samples.Skip(firstOut).All(h => h != "up"),
            $"lb-1 listed the dead worker-2 as up again after taking it out: {string.Join(", ", samples)}");
        await corral.WaitForLineAsync(Joined, Bound, "the restarted worker-2 to rejoin lb-1", skip: joinedBefore);
        var lines = corral.Lines;
        var rejoinedAt = lines.Select((l, i) => (Line: l, At: i)).Where(l => Joined(l.Line)).Skip(joinedBefore).First().At;
        var beforeRejoin = lines.Take(rejoinedAt).Skip(killedAt).Where(l => l.StartsWith("lb-1")).ToArray();
        var ejections = beforeRejoin.Where(l => l.Contains("ejected worker-2")).ToArray();
        var left = beforeRejoin.Where(l => l.Contains("membership Left worker-2")).ToArray();
        Assert.True(ejections.Length + left.Length > 0, "neither passive health nor the membership feed took worker-2 out of lb-1");
        Assert.All(ejections, l => Assert.Contains("connection refused", l));

        await Eventually.TrueAsync(async ct => (await LbWorkerAsync(lb, "worker-2", ct)) is { Health: "up", Requests: > 0 }, Bound,
            "the restarted worker-2 to serve through lb-1");
        await load.StopAsync();

        Assert.True(load.Failures.Count == 0, $"{load.Failures.Count} client-visible failures: {string.Join(" | ", load.Failures.Take(5))}");
        Assert.Equal(0, load.ServerErrors);
        Assert.True(load.Ok > 200, $"only {load.Ok} requests were answered");
        await StopAsync(corral);
    }

    [Fact]
    public async Task The_example_topology_loses_no_request_while_one_of_three_workers_is_SIGKILLed_every_2_s()
    {
        // The issue's scenario, bounded: the shipped example with its own retry settings (no widened budget), zero delay
        // and failure, 16 clients on keep-alive connections through lb-1, and every 2 s for 20 s the next live worker
        // (in turn, so none exceeds the example's restart cap) is SIGKILLed and restarted by the supervisor.
        var example = Path.Combine(_folder.Path, "balancer.yaml");
        File.Copy(CorralBinary.Example("balancer.yaml"), example);
        await using var corral = CorralProcess.Start(_folder.Path, ["up", example, "--set", "failure=0", "--set", "avg-delay=0ms",
            "--ports", "dynamic", "--data", Path.Combine(_folder.Path, "data")]);
        var lb = await ReadyBalancerAsync(corral, "lb-1");
        await using var load = HelloLoad.Start([lb], clients: 16);
        await Eventually.TrueAsync(() => load.Ok >= 500, Bound, "steady load through lb-1");

        var workers = new[] { "worker-1", "worker-2", "worker-3" };
        var kills = 0;
        for (var round = 0; round < 10; round++)
        {
            // One worker lost at a time: the previous victim is back (restarted, in the feed, up in lb-1) before the next
            // kill, however long the supervisor's back-off and a loaded machine make its restart.
            await Eventually.TrueAsync(async ct => (await LbWorkersAsync(lb, ct)).Count(w => w.Health == "up") == 3, Bound,
                "all three workers to be up in lb-1 before the next kill");
            var victim = corral.PidsOf(workers[round % workers.Length]).Last();
            await Posix.KillAsync(victim, Bound);
            kills++;
            await Task.Delay(TimeSpan.FromSeconds(2));
        }

        Assert.Equal(10, kills);
        await load.StopAsync();
        Assert.True(load.Failures.Count == 0,
            $"{load.Failures.Count} client-visible failures out of {load.Sent} requests: "
            + string.Join(" | ", load.Failures.GroupBy(f => f).Select(g => $"{g.Count()}× {g.Key}").Take(5))
            + "\n" + string.Join("\n", corral.Lines.Where(l => !l.Contains("| worker-")).TakeLast(60)));
        Assert.True(load.Ok > 1000, $"only {load.Ok} requests were answered");
        await StopAsync(corral);
    }

    [Fact]
    public async Task An_outage_switched_on_and_off_through_put_faults_is_invisible_to_clients_and_the_worker_serves_again()
    {
        await using var corral = Up(_folder.Write("balancer.yaml", Topology(workers: 3, extra: WideBudget)));
        var lb = await ReadyBalancerAsync(corral, "lb-1");
        var service = await corral.WaitForPortAsync("worker-2", "http", Bound);
        var admin = await corral.WaitForPortAsync("worker-2", "admin", Bound);
        // The operator's credential, as a user of the run reads it from the run's control file.
        var token = corral.OperatorCredential();
        await using var load = HelloLoad.Start([lb], clients: 4);
        await Eventually.TrueAsync(() => load.Ok >= 200, Bound, "steady load through lb-1");

        using (var unauthorized = await PutFaultsAsync(admin, token: null, """{"outage":"refuse"}"""))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        }

        Assert.True(await AcceptsAsync(service), "an unauthorized PUT /faults must change nothing");

        using (var on = await PutFaultsAsync(admin, token, """{"outage":"refuse"}"""))
        {
            Assert.Equal(HttpStatusCode.OK, on.StatusCode);
        }

        await Eventually.TrueAsync(async _ => !await AcceptsAsync(service), Bound, "worker-2's service port to refuse connections");
        // Passive health: the first refused connection ejects the worker at once (not after 5 consecutive failures, and
        // before the active checks, every 200 ms, could call it down twice in a row). The admin listener and the
        // process live on, so the supervisor's feed keeps it: only the balancer's own health takes it out.
        var ejected = await corral.WaitForLineAsync(l => l.StartsWith("lb-1") && l.Contains("ejected worker-2"), Bound,
            "lb-1 to eject worker-2");
        Assert.Contains("connection refused", ejected);
        Assert.DoesNotContain(corral.Lines, l => l.StartsWith("lb-1") && l.Contains("membership Left worker-2"));
        await Eventually.TrueAsync(async ct => (await LbWorkerAsync(lb, "worker-2", ct))?.Health is "down" or "ejected", Bound,
            "lb-1 to take worker-2 out");
        var okDuringOutage = load.Ok;
        await Eventually.TrueAsync(() => load.Ok >= okDuringOutage + 200, Bound, "the other workers to carry the load during the outage");
        var servedBeforeRecovery = (await LbWorkerAsync(lb, "worker-2", CancellationToken.None))!.Requests;

        using (var off = await PutFaultsAsync(admin, token, """{"outage":"none"}"""))
        {
            Assert.Equal(HttpStatusCode.OK, off.StatusCode);
        }

        await Eventually.TrueAsync(async _ => await AcceptsAsync(service), Bound, "worker-2's service port to accept again, on the same port");
        using (var direct = await _http.GetAsync($"http://127.0.0.1:{service}/api/v1/hello"))
        {
            Assert.Equal(HttpStatusCode.OK, direct.StatusCode);
        }

        await Eventually.TrueAsync(async ct => (await LbWorkerAsync(lb, "worker-2", ct)) is { Health: "up" } w && w.Requests > servedBeforeRecovery + 10,
            Bound, "lb-1 to route to worker-2 again");
        await load.StopAsync();

        Assert.True(load.Failures.Count == 0, $"{load.Failures.Count} client-visible failures: {string.Join(" | ", load.Failures.Take(5))}");
        await StopAsync(corral);
    }

    [Fact]
    public async Task With_5xx_retries_the_client_visible_failure_rate_is_the_workers_rate_to_the_power_of_the_attempts()
    {
        // failure 12% on each of 3 workers, one retry on another worker: a request fails only when both attempts do,
        // 0.12² = 1.44%, where without the retry it would be 12%. The budget is opened so it never refuses a retry
        // at 8 clients (at most 8 requests, so at most 8 retries, in flight).
        const int Clients = 8, PerClient = 400, Requests = Clients * PerClient;
        await using var corral = Up(_folder.Write("balancer.yaml", Topology(workers: 3, failure: 12, extra: """
            retries:
              attempts: 1
              on-5xx: true
              budget-percent: 100
              min-retry-concurrency: 64
            """)));
        var lb = await ReadyBalancerAsync(corral, "lb-1");

        await using var load = HelloLoad.Start([lb], Clients, PerClient, deadline: Bound);
        await load.CompletedAsync();

        Assert.True(load.Failures.Count == 0, $"{load.Failures.Count} broken answers: {string.Join(" | ", load.Failures.Take(5))}");
        Assert.Equal(Requests, load.Sent);
        // Expected 0.0144 × 3,200 ≈ 46 (σ ≈ 6.7); the tolerance [0.0072, 0.0216] is about ±3.4σ, and far from 12% (no
        // retry) and from 0 (a retry that hid every error).
        var rate = (double)load.ServerErrors / Requests;
        Assert.InRange(rate, 0.0072, 0.0216);
        var retries = (await LbStatsAsync(lb, CancellationToken.None)).GetProperty("retries").GetInt64();
        // Each worker's exact 12% (per block of 1,000) means about 12% of requests were retried.
        Assert.InRange(retries, (long)(0.09 * Requests), (long)(0.15 * Requests));
        await StopAsync(corral);
    }

    [Fact]
    public async Task Sixteen_clients_times_1000_requests_the_workers_statistics_total_exactly_what_was_sent()
    {
        // No 5xx retry (the default), so each request reaches exactly one worker, and the workers' 12% of 500s reach
        // the clients: successful, failed and total must each match what the clients saw.
        const int Clients = 16, PerClient = 1000, Requests = Clients * PerClient;
        await using var corral = Up(_folder.Write("balancer.yaml", Topology(workers: 3, balancers: 2, failure: 12)));
        var lb1 = await ReadyBalancerAsync(corral, "lb-1");
        var lb2 = await ReadyBalancerAsync(corral, "lb-2");
        var admin = await corral.WaitForPortAsync("worker-1", "admin", Bound);

        await using var load = HelloLoad.Start([lb1, lb2], Clients, PerClient, deadline: TimeSpan.FromSeconds(120));
        await load.CompletedAsync();
        Assert.True(load.Failures.Count == 0, $"{load.Failures.Count} broken answers: {string.Join(" | ", load.Failures.Take(5))}");
        Assert.Equal(Requests, load.Sent);

        // Every worker writes its row each stats-flush (200 ms); /stats writes worker-1's own row first.
        JsonElement stats = default;
        await Eventually.TrueAsync(async ct =>
        {
            stats = await GetJsonAsync($"http://127.0.0.1:{admin}/stats", ct);
            return stats.GetProperty("total").GetProperty("total").GetInt64() >= Requests
                && stats.GetProperty("workers").EnumerateArray().Count() == 3;
        }, Bound, $"the workers' statistics to reach {Requests} requests");

        var total = stats.GetProperty("total");
        Assert.Equal(Requests, total.GetProperty("total").GetInt64());
        Assert.Equal(load.Ok, total.GetProperty("successful").GetInt64());
        Assert.Equal(load.ServerErrors, total.GetProperty("failed").GetInt64());
        var workers = stats.GetProperty("workers").EnumerateArray()
            .Select(w => (Total: w.GetProperty("total").GetInt64(), Mean: w.GetProperty("meanMs").GetDouble()))
            .ToArray();
        Assert.Equal(Requests, workers.Sum(w => w.Total));
        Assert.All(workers, w => Assert.True(w.Total > 0, "every worker served"));
        // The total mean is the request-weighted mean of the workers' own means (not 002's last latency); both are
        // rounded to the microsecond, hence the tolerance.
        var weighted = workers.Sum(w => w.Total * w.Mean) / Requests;
        Assert.InRange(total.GetProperty("meanMs").GetDouble(), weighted - 0.002, weighted + 0.002);

        // The original's shape on the service port says the same, total first.
        var original = await GetJsonAsync($"http://127.0.0.1:{await corral.WaitForPortAsync("worker-2", "http", Bound)}/worker/stats", CancellationToken.None);
        var first = original.GetProperty("TotalRequests")[0];
        Assert.Equal(Requests, first.GetProperty("total").GetInt64());
        await StopAsync(corral);
    }

    [Fact]
    public async Task A_reload_from_2_to_4_workers_and_back_under_load_fails_no_request_and_the_new_workers_serve()
    {
        var topology = _folder.Write("balancer.yaml", Topology(workers: 2, extra: WideBudget));
        await using var corral = Up(topology);
        var lb = await ReadyBalancerAsync(corral, "lb-1");
        await using var load = HelloLoad.Start([lb], clients: 4);
        await Eventually.TrueAsync(() => load.Ok >= 200, Bound, "steady load through lb-1");

        Rewrite(topology, Topology(workers: 4, extra: WideBudget));
        await corral.WaitForLineAsync(l => l.Contains("plan changed: 2 to start, 0 to drain"), Bound, "the supervisor to plan two new workers");
        await Eventually.TrueAsync(async ct =>
        {
            var workers = await LbWorkersAsync(lb, ct);
            return workers.Count(w => w.Id is "worker-3" or "worker-4" && w.Health == "up" && w.Requests > 0) == 2;
        }, Bound, "worker-3 and worker-4 to join lb-1 and serve");

        Rewrite(topology, Topology(workers: 2, extra: WideBudget));
        await corral.WaitForLineAsync(l => l.Contains("plan changed: 0 to start, 2 to drain"), Bound, "the supervisor to drain two workers");
        // A drained node ends with the supervisor's "stopped (exit 0)": it left the membership first, then got SIGTERM.
        await corral.WaitForLineAsync(l => l.Contains("worker-3 stopped (exit 0)"), Bound, "worker-3 to drain");
        await corral.WaitForLineAsync(l => l.Contains("worker-4 stopped (exit 0)"), Bound, "worker-4 to drain");
        var okAfterDrain = load.Ok;
        await Eventually.TrueAsync(() => load.Ok >= okAfterDrain + 200, Bound, "the remaining workers to carry on");
        await load.StopAsync();

        Assert.True(load.Failures.Count == 0, $"{load.Failures.Count} client-visible failures: {string.Join(" | ", load.Failures.Take(5))}");
        Assert.Equal(["worker-1", "worker-2"], (await LbWorkersAsync(lb, CancellationToken.None)).Select(w => w.Id));
        await StopAsync(corral);
    }

    [Fact]
    public async Task The_originals_config_yaml_unchanged_starts_a_working_cluster()
    {
        var config = Path.Combine(_folder.Path, "config.yaml");
        File.Copy(CorralBinary.Example(Path.Combine("originals", "balancer-002-config.yaml")), config);
        await using var corral = Up(config);
        var lb = await ReadyBalancerAsync(corral, "lb-1");

        // Its workers fail 12% of hellos with a 500 and 5xx is not retried by default: ask until one succeeds (the
        // chance that 20 in a row fail is 0.12^20), and accept only a worker's hello or its injected error meanwhile.
        string? hello = null;
        for (var i = 0; i < 20 && hello is null; i++)
        {
            using var response = await _http.GetAsync($"http://127.0.0.1:{lb}/api/v1/hello");
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.OK) hello = body;
            else Assert.True(response.StatusCode == HttpStatusCode.InternalServerError && body.Contains("Randomized Server Error"), $"{(int)response.StatusCode}: {body}");
        }

        Assert.NotNull(hello);
        Assert.Matches("""^\{"message":"hello from worker worker-[123]"\}$""", hello);
        await ReadyBalancerAsync(corral, "lb-2");
        Assert.True(File.Exists(Path.Combine(_folder.Path, "worker-stats.db")), "stats-dir is relative to the topology file");
        await StopAsync(corral);
    }

    private CorralProcess Up(string topology) =>
        CorralProcess.Start(_folder.Path, ["up", topology, "--ports", "dynamic", "--data", Path.Combine(_folder.Path, "data")]);

    /// <summary>A balancer's port once the supervisor has called it ready (it has the workers from the membership feed).</summary>
    private static async Task<int> ReadyBalancerAsync(CorralProcess corral, string nodeId)
    {
        await corral.WaitForLineAsync(l => l.StartsWith("corral") && l.EndsWith($"| {nodeId} ready"), Bound, $"{nodeId} to be ready");
        return await corral.WaitForPortAsync(nodeId, "http", Bound);
    }

    /// <summary>Ctrl+C ends a long-running app: every node drains, and corral exits 130.</summary>
    private static async Task StopAsync(CorralProcess corral)
    {
        corral.Signal(Posix.SigInt);
        Assert.Equal(130, await corral.WaitForExitAsync(Bound));
    }

    /// <summary>Replaces the topology in one rename, so the supervisor's poll never reads half a file.</summary>
    private void Rewrite(string topology, string content)
    {
        var next = _folder.Write("next.yaml", content);
        File.Move(next, topology, overwrite: true);
    }

    private async Task<HttpResponseMessage> PutFaultsAsync(int adminPort, string? token, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"http://127.0.0.1:{adminPort}/faults")
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await _http.SendAsync(request);
    }

    /// <summary>Whether a TCP connection to the port is accepted (an outage's <c>refuse</c> closes the listener).</summary>
    private static async Task<bool> AcceptsAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port).WaitAsync(TimeSpan.FromSeconds(10));
            return true;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return false;
        }
    }

    private async Task<JsonElement> GetJsonAsync(string url, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(url, cancellationToken);
        response.EnsureSuccessStatusCode();
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        return document.RootElement.Clone();
    }

    private Task<JsonElement> LbStatsAsync(int lbPort, CancellationToken cancellationToken) =>
        GetJsonAsync($"http://127.0.0.1:{lbPort}/lb/stats", cancellationToken);

    private sealed record LbWorker(string Id, string Url, string Health, long Requests);

    private async Task<IReadOnlyList<LbWorker>> LbWorkersAsync(int lbPort, CancellationToken cancellationToken) =>
        (await LbStatsAsync(lbPort, cancellationToken)).GetProperty("workers").EnumerateArray()
        .Select(w => new LbWorker(w.GetProperty("workerId").GetString()!, w.GetProperty("url").GetString()!,
            w.GetProperty("health").GetString()!, w.GetProperty("requests").GetInt64()))
        .ToArray();

    private async Task<LbWorker?> LbWorkerAsync(int lbPort, string workerId, CancellationToken cancellationToken) =>
        (await LbWorkersAsync(lbPort, cancellationToken)).SingleOrDefault(w => w.Id == workerId);

    public void Dispose()
    {
        _http.Dispose();
        _folder.Dispose();
    }
}
