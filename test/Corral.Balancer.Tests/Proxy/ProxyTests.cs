using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Corral.Balancer.Config;
using Corral.Balancer.Tests.Helpers;

namespace Corral.Balancer.Tests.Proxy;

public sealed class ProxyTests
{
    private static async Task<JsonElement> WorkerStatsAsync(HttpClient client, string workerId)
    {
        var stats = await client.GetFromJsonAsync<JsonElement>("/lb/stats");
        return stats.GetProperty("workers").EnumerateArray().Single(w => w.GetProperty("workerId").GetString() == workerId);
    }

    [Fact]
    public async Task Only_a_get_of_the_balancers_own_paths_is_answered_by_it_and_every_other_request_is_proxied()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var lb = await Balancers.StartAsync(Balancers.Config(), backend.Url);
        using var client = TestNodes.Client(lb.Port);

        // Its own endpoints, as routing matches them (any case, a trailing slash): nothing reaches the worker.
        foreach (var path in new[] { "/healthz", "/readyz", "/lb/stats", "/LB/Stats/" })
        {
            using var own = await client.GetAsync(path);
            Assert.True(own.IsSuccessStatusCode, $"GET {path}: {own.StatusCode}");
        }

        Assert.Equal(0, backend.Requests);
        Assert.True((await client.GetFromJsonAsync<JsonElement>("/lb/stats")).TryGetProperty("workers", out _));

        // Another method on those paths, or a path below them, is the worker's (its 404 or 405 comes back as it is).
        using var post = await client.PostAsync("/healthz", new StringContent("x"));
        using var below = await client.GetAsync("/lb/stats/more");
        Assert.Equal(2, backend.Requests);
        Assert.NotEqual(HttpStatusCode.OK, post.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, below.StatusCode);
    }

    [Fact]
    public async Task Hop_by_hop_headers_are_dropped_and_forwarded_headers_added()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var lb = await Balancers.StartAsync(Balancers.Config(), backend.Url);
        using var client = TestNodes.Client(lb.Port);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/headers?x=1");
        request.Headers.TryAddWithoutValidation("Connection", "X-Client-Hop");
        request.Headers.TryAddWithoutValidation("X-Client-Hop", "secret");
        request.Headers.TryAddWithoutValidation("Keep-Alive", "timeout=5");
        request.Headers.TryAddWithoutValidation("Proxy-Authorization", "Basic abc");
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "10.0.0.1");
        request.Headers.TryAddWithoutValidation("X-Custom", "kept");
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var seen = await response.Content.ReadFromJsonAsync<Dictionary<string, string>>();
        Assert.NotNull(seen);
        Assert.False(seen.ContainsKey("x-client-hop"));
        Assert.False(seen.ContainsKey("keep-alive"));
        Assert.False(seen.ContainsKey("proxy-authorization"));
        Assert.Equal("kept", seen["x-custom"]);
        Assert.Equal("10.0.0.1, 127.0.0.1", seen["x-forwarded-for"]);
        Assert.Equal("http", seen["x-forwarded-proto"]);
        Assert.Equal($"127.0.0.1:{lb.Port}", seen["x-forwarded-host"]);
        Assert.Equal($"127.0.0.1:{backend.Port}", seen["host"]);

        // The worker's Connection: close and Keep-Alive concern its hop only (Kestrel normalises a worker's Connection
        // header to a bare "close", so nominated response headers cannot be staged here; the request side covers them).
        Assert.NotEqual(true, response.Headers.ConnectionClose);
        Assert.False(response.Headers.Contains("Keep-Alive"));
        Assert.Equal("passes", response.Headers.GetValues("X-End-To-End").Single());
    }

    [Fact]
    public async Task An_international_host_is_forwarded_as_the_client_sent_it()
    {
        // Found by the HTTP fuzz: HttpRequest.Host decodes punycode, and X-Forwarded-Host 'ά.example' is no valid header
        // value, so every request with Host xn--nxa.example failed 502 and counted against the worker.
        await using var backend = await TestBackend.StartAsync();
        await using var lb = await Balancers.StartAsync(Balancers.Config(), backend.Url);
        using var client = TestNodes.Client(lb.Port);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/headers");
        request.Headers.Host = $"xn--nxa.example:{lb.Port}";

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = await response.Content.ReadFromJsonAsync<Dictionary<string, string>>();
        Assert.Equal($"xn--nxa.example:{lb.Port}", seen!["x-forwarded-host"]);
    }

    [Fact]
    public async Task A_client_abort_is_not_counted_against_the_worker()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var lb = await Balancers.StartAsync(
            Balancers.Config(c => c with { Passive = new PassiveHealthConfig { ConsecutiveFailures = 1 } }), backend.Url);
        using var client = TestNodes.Client(lb.Port);
        using var abort = new CancellationTokenSource();
        var request = client.GetAsync("/slow", abort.Token);
        // Leave only once the worker is handling the request, so the abort has to travel through the balancer.
        await Eventually.TrueAsync(() => backend.SlowStarted == 1, TestNodes.Wait, "the worker to get the request");
        await abort.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
        // The abort travels through the balancer to the worker, which sees its request cancelled.
        await Eventually.TrueAsync(() => backend.Aborted == 1, TestNodes.Wait, "the worker to see the abort");
        using var stats = TestNodes.Client(lb.Port);
        await Eventually.TrueAsync(() => lb.Pool.All[0].InFlight == 0, TestNodes.Wait, "the attempt to end");
        var worker = await WorkerStatsAsync(stats, "worker-1");
        Assert.Equal(0, worker.GetProperty("failures").GetInt64());
        Assert.Equal(0, worker.GetProperty("ejections").GetInt64());
        Assert.Equal("up", worker.GetProperty("health").GetString());
    }

    [Fact]
    public async Task The_overall_timeout_answers_504()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var lb = await Balancers.StartAsync(
            Balancers.Config(c => c with { Timeouts = new TimeoutConfig { Request = TimeSpan.FromMilliseconds(300) } }), backend.Url);
        using var client = TestNodes.Client(lb.Port);
        using var response = await client.GetAsync("/slow");
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        await Eventually.TrueAsync(() => backend.Aborted == 1, TestNodes.Wait, "the worker's request to be cancelled");
    }

    [Fact]
    public async Task An_attempt_that_times_out_is_retried_on_another_worker_and_counts_against_the_slow_one()
    {
        await using var first = await TestBackend.StartAsync("first");
        await using var second = await TestBackend.StartAsync("second");
        await using var lb = await Balancers.StartAsync(
            Balancers.Config(c => c with { Timeouts = new TimeoutConfig { Attempt = TimeSpan.FromMilliseconds(300), Request = TimeSpan.FromSeconds(10) } }),
            first.Url, second.Url);
        using var client = TestNodes.Client(lb.Port);
        // Round-robin sends the first request to the slow worker.
        using var response = await client.GetAsync("/slow-on/first");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("\"second\"", await response.Content.ReadAsStringAsync());
        var slow = await WorkerStatsAsync(client, "worker-1");
        Assert.Equal(1, slow.GetProperty("failures").GetInt64());
        var fast = await WorkerStatsAsync(client, "worker-2");
        Assert.Equal(1, fast.GetProperty("retries").GetInt64());
    }

    [Fact]
    public async Task A_request_whose_body_was_streamed_is_not_retried_but_a_buffered_one_is()
    {
        await using var first = await TestBackend.StartAsync("first");
        await using var second = await TestBackend.StartAsync("second");
        await using var lb = await Balancers.StartAsync(
            Balancers.Config(c => c with { Passive = new PassiveHealthConfig { ConsecutiveFailures = 100 } }), first.Url, second.Url);
        using var client = TestNodes.Client(lb.Port);
        int Sent() => first.Requests + second.Requests;
        var healthChecks = Sent();

        // POST is not idempotent: never retried.
        using (var post = await client.PostAsync("/fail-after-body", new StreamContent(new PatternStream(1024 * 1024))))
            Assert.Equal(HttpStatusCode.BadGateway, post.StatusCode);
        Assert.Equal(healthChecks + 1, Sent());

        // PUT is retryable, but a 1 MiB body is streamed (above the 64 KiB replay buffer): once sent, never replayed.
        var before = Sent();
        using (var put = await client.PutAsync("/fail-after-body", new StreamContent(new PatternStream(1024 * 1024))))
            Assert.Equal(HttpStatusCode.BadGateway, put.StatusCode);
        Assert.Equal(before + 1, Sent());

        // A small PUT body is buffered for replay, so it is tried on the other worker too.
        before = Sent();
        using (var small = await client.PutAsync("/fail-after-body", new ByteArrayContent(new byte[1000])))
            Assert.Equal(HttpStatusCode.BadGateway, small.StatusCode);
        Assert.Equal(before + 2, Sent());
    }

    [Fact]
    public async Task A_get_is_retried_on_another_worker_when_the_first_refuses_connections()
    {
        await using var backend = await TestBackend.StartAsync();
        var refusing = $"http://127.0.0.1:{LoopbackPort.Unused()}";
        await using var lb = await Balancers.StartAsync(Balancers.Config(), refusing, backend.Url);
        using var client = TestNodes.Client(lb.Port);

        var codes = new List<HttpStatusCode>();
        for (var i = 0; i < 50; i++)
        {
            using var response = await client.GetAsync("/hello");
            codes.Add(response.StatusCode);
        }

        Assert.All(codes, c => Assert.Equal(HttpStatusCode.OK, c));
        var down = await WorkerStatsAsync(client, "worker-1");
        // The refused connection ejected it at once, and it stays out for the ejection period.
        Assert.NotEqual("up", down.GetProperty("health").GetString());
        Assert.True(down.GetProperty("failures").GetInt64() >= 1);
        var up = await WorkerStatsAsync(client, "worker-2");
        Assert.Equal("up", up.GetProperty("health").GetString());
        Assert.True(up.GetProperty("retries").GetInt64() >= 1);
        Assert.Equal(0, up.GetProperty("failures").GetInt64());
    }

    [Fact]
    public async Task The_retry_budget_charges_a_timeout_retry_but_not_a_retry_after_a_failed_connection()
    {
        await using var first = await TestBackend.StartAsync("first");
        await using var second = await TestBackend.StartAsync("second");
        var refusing = $"http://127.0.0.1:{LoopbackPort.Unused()}";
        // A budget of nothing: every charged retry is refused.
        var noBudget = Balancers.Config(c => c with
        {
            Retries = c.Retries with { BudgetPercent = 0, MinRetryConcurrency = 0 },
            Timeouts = new TimeoutConfig { Attempt = TimeSpan.FromMilliseconds(300) },
        });

        await using (var lb = await Balancers.StartAsync(noBudget, refusing, first.Url))
        {
            using var client = TestNodes.Client(lb.Port);
            using var response = await client.GetAsync("/hello");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(0, (await client.GetFromJsonAsync<JsonElement>("/lb/stats")).GetProperty("retriesRefused").GetInt64());
        }

        await using (var lb = await Balancers.StartAsync(noBudget, first.Url, second.Url))
        {
            using var client = TestNodes.Client(lb.Port);
            using var response = await client.GetAsync("/slow-on/first");
            Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
            Assert.Contains("retry budget", await response.Content.ReadAsStringAsync());
            Assert.Equal(1, (await client.GetFromJsonAsync<JsonElement>("/lb/stats")).GetProperty("retriesRefused").GetInt64());
        }
    }

    [Fact]
    public async Task No_healthy_worker_answers_503_problem_details()
    {
        var refusing = $"http://127.0.0.1:{LoopbackPort.Unused()}";
        // Panic routing off: with it, a pool with no healthy worker is still tried (see PanicRoutingTests).
        await using var lb = await Balancers.StartAsync(Balancers.Config(c => c with { PanicThresholdPercent = 0 }), refusing);
        using var client = TestNodes.Client(lb.Port);
        using (var first = await client.GetAsync("/hello"))
            Assert.Equal(HttpStatusCode.BadGateway, first.StatusCode);
        using var second = await client.GetAsync("/hello");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, second.StatusCode);
        var problem = await second.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("No healthy worker", problem.GetProperty("title").GetString());
        Assert.Equal(503, problem.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task A_5xx_is_retried_only_when_configured()
    {
        await using var first = await TestBackend.StartAsync("first");
        await using var second = await TestBackend.StartAsync("second");
        await using var off = await Balancers.StartAsync(Balancers.Config(), first.Url, second.Url);
        await using var on = await Balancers.StartAsync(
            Balancers.Config(c => c with { Retries = c.Retries with { On5xx = true } }), first.Url, second.Url);
        using var offClient = TestNodes.Client(off.Port);
        using var onClient = TestNodes.Client(on.Port);
        using (var response = await offClient.GetAsync("/fail")) Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var before = first.Requests + second.Requests;
        using (var response = await onClient.GetAsync("/fail")) Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        // Both workers were asked, and the last answer is passed through.
        Assert.Equal(before + 2, first.Requests + second.Requests);
    }
}
