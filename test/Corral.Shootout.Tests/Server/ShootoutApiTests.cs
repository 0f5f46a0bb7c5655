using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Corral.Node.Control;
using Corral.Node.Nodes;
using Corral.Shootout.Checking;
using Corral.Shootout.Config;
using Corral.Shootout.Game;
using Corral.Shootout.Server;
using Corral.Shootout.Tests.Helpers;
using Microsoft.AspNetCore.Builder;

namespace Corral.Shootout.Tests.Server;

/// <summary>The game server on a real Kestrel port, with a stub control API recording <c>finished</c>.</summary>
public sealed class ShootoutApiTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private readonly TempFolder _dir = new();
    private ControlApiStub _control = null!;
    private WebApplication? _server;
    private Task<int>? _serverRun;
    private readonly CancellationTokenSource _stop = new();
    private HttpClient _http = null!;

    public async Task InitializeAsync() => _control = await ControlApiStub.StartAsync();

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_serverRun is not null) await _serverRun.WaitAsync(Wait);
        if (_server is not null) await _server.DisposeAsync();
        _http?.Dispose();
        await _control.DisposeAsync();
        _dir.Dispose();
    }

    private async Task StartServer(ShootoutConfig config)
    {
        var context = _control.Context("server", ShootoutPlan.ServerRole, _dir.Path, config.ToJson());
        _server = ShootoutServer.Build(context, config);
        _serverRun = NodeHost.RunAsync(_server, _stop.Token);
        var port = await _control.PortOf("server").WaitAsync(Wait);
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = Wait };
    }

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    private async Task<HttpResponseMessage> Register(string node) =>
        await _http.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/register") { Content = Json($$"""{"nodeId": "{{node}}"}""") }.As(node, ShootoutPlan.CowboyRole));

    private async Task<HttpResponseMessage> Shoot(string shooter, string node)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/shoot") { Content = Json($$"""{"shooter": "{{shooter}}"}""") };
        request.Headers.Add(ShootoutApi.NodeHeader, node);
        return await _http.SendAsync(request.As(node, ShootoutPlan.CowboyRole));
    }

    private static async Task AssertProblem(HttpResponseMessage response, HttpStatusCode status, string? reason = null)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal((int)status, body.RootElement.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(body.RootElement.GetProperty("title").GetString()));
        if (reason is not null) Assert.Equal(reason, body.RootElement.GetProperty("reason").GetString());
    }

    [Theory]
    [InlineData("/shoot", "{\"shooter\": ")]
    [InlineData("/shoot", "[1, 2]")]
    [InlineData("/shoot", "{\"shooter\": \"A\", \"damage\": 99}")]
    [InlineData("/shoot", "{}")]
    [InlineData("/shoot", "")]
    [InlineData("/register", "{\"nodeId\": 5}")]
    [InlineData("/register", "{\"node\": \"cowboy-1\"}")]
    public async Task Malformed_bodies_get_400_problem_details_and_change_nothing(string path, string body)
    {
        await StartServer(Configs.Many(2, 5, 1, TimeSpan.Zero));
        var before = await _http.GetStringAsync("/state");
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = Json(body) };
        request.Headers.Add(ShootoutApi.NodeHeader, "cowboy-1");
        await AssertProblem(await _http.SendAsync(request.As("cowboy-1", ShootoutPlan.CowboyRole)), HttpStatusCode.BadRequest);
        Assert.Equal(before, await _http.GetStringAsync("/state"));
    }

    [Theory]
    [InlineData("/register")]
    [InlineData("/shoot")]
    public async Task Mutating_endpoints_without_the_token_get_401(string path)
    {
        await StartServer(Configs.Many(2, 5, 1, TimeSpan.Zero));
        using var anonymous = new HttpClient { BaseAddress = _http.BaseAddress, Timeout = Wait };
        await AssertProblem(await anonymous.PostAsync(path, Json("{\"nodeId\": \"cowboy-1\", \"shooter\": \"c1\"}")), HttpStatusCode.Unauthorized);
        anonymous.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "wrong");
        await AssertProblem(await anonymous.PostAsync(path, Json("{\"nodeId\": \"cowboy-1\"}")), HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/state")).StatusCode);
    }

    [Fact]
    public async Task Refusals_map_to_403_409_and_429()
    {
        await StartServer(Configs.Of(TimeSpan.FromMinutes(10), cowboys: [("A", 1, 1), ("B", 5, 1), ("C", 5, 1)]));
        Assert.Equal(HttpStatusCode.OK, (await Register("cowboy-1")).StatusCode);
        await AssertProblem(await Shoot("A", "cowboy-1"), HttpStatusCode.Conflict, "round-not-running");
        Assert.Equal(HttpStatusCode.OK, (await Register("cowboy-2")).StatusCode);
        var third = await (await Register("cowboy-3")).Content.ReadFromJsonAsync<RegisterResponse>(JsonSerializerOptions.Web);
        Assert.Equal("C", third!.Cowboy);
        Assert.Equal("running", third.State.Status);

        await AssertProblem(await Shoot("A", "cowboy-2"), HttpStatusCode.Forbidden, "not-your-identity");
        await AssertProblem(await Shoot("Nobody", "cowboy-2"), HttpStatusCode.Forbidden, "unknown-shooter");
        await AssertProblem(await Register("cowboy-4"), HttpStatusCode.Conflict, "no-identity-left");

        // Whoever B and C shoot first, one of them will hit A (health 1) within a few ticks at most; with
        // a ten-minute tick a second shot by the same cowboy is a 429.
        var shot = await Shoot("B", "cowboy-2");
        Assert.Equal(HttpStatusCode.OK, shot.StatusCode);
        var second = await Shoot("B", "cowboy-2");
        await AssertProblem(second, HttpStatusCode.TooManyRequests, "same-tick");
        Assert.NotNull(second.Headers.RetryAfter);

        var report = await shot.Content.ReadFromJsonAsync<ShotReport>(JsonSerializerOptions.Web);
        if (report!.Target == "A")
        {
            Assert.True(report.Killed);
            await AssertProblem(await Shoot("A", "cowboy-1"), HttpStatusCode.Conflict, "shooter-dead");
            var again = await (await Register("cowboy-1")).Content.ReadFromJsonAsync<RegisterResponse>(JsonSerializerOptions.Web);
            Assert.Equal(("A", 0, false), (again!.Cowboy, again.Health, again.Alive));
        }
        else
        {
            Assert.Equal(("C", 5, 4), (report.Target, report.TargetHealthBefore, report.TargetHealthAfter));
            var again = await (await Register("cowboy-3")).Content.ReadFromJsonAsync<RegisterResponse>(JsonSerializerOptions.Web);
            Assert.Equal(("C", 4), (again!.Cowboy, again.Health));
        }
    }

    [Fact]
    public async Task Stats_count_only_acknowledged_shots_and_report_their_latency()
    {
        await StartServer(Configs.Many(2, 100, 1, TimeSpan.Zero));
        var a = (await (await Register("cowboy-1")).Content.ReadFromJsonAsync<RegisterResponse>(JsonSerializerOptions.Web))!.Cowboy;
        await Register("cowboy-2");
        for (var i = 0; i < 5; i++) Assert.Equal(HttpStatusCode.OK, (await Shoot(a, "cowboy-1")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Shoot(a, "cowboy-2")).StatusCode);

        var stats = (await _http.GetFromJsonAsync<ServerStats>("/stats", JsonSerializerOptions.Web))!;

        Assert.Equal(5, stats.Shots);
        Assert.True(stats.P99Ms >= stats.P50Ms && stats.P50Ms > 0, $"p50 {stats.P50Ms} ms, p99 {stats.P99Ms} ms");
        Assert.True(stats.Batches >= 1 && stats.MeanBatch >= 1);
    }

    [Fact]
    public async Task Register_accepts_the_node_id_in_the_header()
    {
        await StartServer(Configs.Many(2, 5, 1, TimeSpan.Zero));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/register");
        request.Headers.Add(ShootoutApi.NodeHeader, "cowboy-7");
        var response = await _http.SendAsync(request.As("cowboy-7", ShootoutPlan.CowboyRole));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("c1", (await response.Content.ReadFromJsonAsync<RegisterResponse>(JsonSerializerOptions.Web))!.Cowboy);
    }

    [Fact]
    public async Task Concurrent_shooters_keep_every_invariant_and_the_outcome_is_reported()
    {
        const int cowboys = 24;
        var config = Configs.Many(cowboys, health: 20, damage: 3, TimeSpan.Zero, rounds: 2, intermission: TimeSpan.FromMilliseconds(100));
        await StartServer(config);
        // Registrations race too: whoever arrives first gets the first identity.
        var identities = await Task.WhenAll(Enumerable.Range(1, cowboys).Select(async i =>
            (Node: $"cowboy-{i}", (await (await Register($"cowboy-{i}")).Content.ReadFromJsonAsync<RegisterResponse>(JsonSerializerOptions.Web))!.Cowboy)));
        Assert.Equal(cowboys, identities.Select(x => x.Cowboy).Distinct().Count());

        using var events = new HttpClient { BaseAddress = _http.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        using var sse = await events.GetAsync("/events", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", sse.Content.Headers.ContentType?.MediaType);

        // Two tasks per identity, so one cowboy's shots also race each other.
        var finished = _control.Finished;
        var shooters = Enumerable.Range(0, cowboys * 2).Select(async i =>
        {
            var (node, cowboy) = identities[i % cowboys];
            while (!finished.IsCompleted)
            {
                using var response = await Shoot(cowboy, node);
                if (response.StatusCode == HttpStatusCode.Conflict) await Task.WhenAny(finished, Task.Delay(20));
                else Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        }).ToArray();
        var outcome = await finished.WaitAsync(Wait);
        await Task.WhenAll(shooters).WaitAsync(Wait);

        Assert.True(outcome.Passed);
        var summary = outcome.Summary.Deserialize<ShootoutSummary>(JsonSerializerOptions.Web)!;
        Assert.Equal(2, summary.Winners.Count);
        Assert.Equal(cowboys, summary.Cowboys.Count);
        Assert.Equal(summary.Cowboys.Sum(c => c.DamageDealt), summary.Cowboys.Sum(c => c.DamageTaken));

        var check = ShootoutChecker.CheckFile(Path.Combine(_dir.Path, "runs", TestNodeContext.RunId, ShootoutChecker.EventsFile));
        Assert.True(check.Passed, string.Join("\n", check.Violations));
        Assert.Equal(summary.Winners.Select(w => w.Winner), check.Winners.Select(w => w.Winner));
        Assert.Equal(summary.ShotsFired, check.Shots);

        var winner = await _http.GetFromJsonAsync<WinnerResponse>("/winner", JsonSerializerOptions.Web);
        Assert.Equal(("finished", summary.Winners[^1].Winner), (winner!.Status, winner.Winner));

        // The stream began with the state and carries the events.
        using var reader = new StreamReader(await sse.Content.ReadAsStreamAsync());
        Assert.Equal("event: state", await reader.ReadLineAsync().WaitAsync(Wait));
        string? line;
        var sawShot = false;
        while (!sawShot && (line = await reader.ReadLineAsync().WaitAsync(Wait)) is not null) sawShot = line == "event: shot";
        Assert.True(sawShot);
        Assert.Equal(1, _control.FinishedCount);
    }
}
