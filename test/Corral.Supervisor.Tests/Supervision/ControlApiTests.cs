using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Corral.Node.Control;
using Corral.Supervisor.Supervision;

namespace Corral.Supervisor.Tests.Supervision;

/// <summary>The control API through raw HTTP and through <see cref="ControlClient"/>.</summary>
public sealed class ControlApiTests
{
    private static HttpClient Raw(Harness h, string? token)
    {
        var http = new HttpClient { BaseAddress = h.Supervisor.ControlUrl };
        if (token is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return http;
    }

    [Fact]
    public async Task Every_route_needs_the_token_a_loopback_host_and_a_same_origin()
    {
        await using var h = await new Harness(StubApp.Loaded(StubApp.Role("worker", 1))).StartAsync();

        // Every endpoint the server maps, with every method it accepts: a route added later cannot skip authentication.
        await Control.EveryEndpoint.RefusesStrangersAsync(h.Supervisor.ControlEndpoints, h.Supervisor.ControlUrl, h.Supervisor.OperatorCredential);

        using var authorised = Raw(h, h.Supervisor.OperatorCredential);
        using (var request = new HttpRequestMessage(HttpMethod.Get, ControlRoutes.Nodes))
        {
            request.Headers.Add("Origin", h.Supervisor.ControlUrl.GetLeftPart(UriPartial.Authority));
            using var response = await authorised.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (var response = await authorised.PostAsync(ControlRoutes.Scale("test.worker"), JsonContent.Create(new ScaleRequest(3))))
        {
            Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        }

        using (var response = await authorised.PostAsync(ControlRoutes.Scale("test.nope"), JsonContent.Create(new ScaleRequest(3))))
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        using (var response = await authorised.PostAsync(ControlRoutes.Restart("nobody-1"), null))
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        using var worker = Raw(h, h.NodeCredential("worker-1", reportsOutcome: true));
        using (var response = await worker.PostAsync(ControlRoutes.Endpoints("worker-1"), new StringContent("{\"ports\":{\"http\":0}}", null, "application/json")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }

        using (var response = await worker.PostAsync(ControlRoutes.Finished, new StringContent("{\"passed\":tru", null, "application/json")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }
    }

    [Fact]
    public async Task A_body_missing_a_required_field_is_a_400_naming_it_and_changes_nothing()
    {
        await using var h = await new Harness(StubApp.Loaded(StubApp.Role("worker", 2) with { Scalable = true })).StartAsync();
        using var http = Raw(h, h.Supervisor.OperatorCredential);
        using var reporter = Raw(h, h.NodeCredential("worker-1", reportsOutcome: true));
        await h.WaitReadyAsync(60, "worker-1", "worker-2");
        var pids = h.Supervisor.Nodes().Select(n => n.Pid).ToArray();

        await ExpectMissingAsync(http, ControlRoutes.Scale("test.worker"), "{}", "count");
        await ExpectMissingAsync(reporter, ControlRoutes.Finished, "{}", "passed");
        await ExpectMissingAsync(reporter, ControlRoutes.Finished, "{\"passed\":true}", "summary");
        await ExpectMissingAsync(reporter, ControlRoutes.Finished, "{\"summary\":null}", "passed");

        Assert.False(h.Result.IsCompleted, "a rejected outcome ended the run");
        Assert.Equal(pids, h.Supervisor.Nodes().Select(n => n.Pid).ToArray());
        Assert.All(h.Supervisor.Nodes(), n => Assert.Equal(NodeState.Ready, n.State));
        Assert.DoesNotContain("scaling", h.Sink.Dump());
    }

    [Fact]
    public async Task Restarting_a_node_that_has_exited_is_a_409()
    {
        var quitter = StubApp.Role("quitter", 1, "--exit-after", "300");
        var stayer = StubApp.Role("stayer", 1);
        await using var h = await new Harness(StubApp.Loaded(quitter, stayer)).StartAsync();
        using var http = Raw(h, h.Supervisor.OperatorCredential);
        await Eventually.TrueAsync(() => h.Node("quitter-1").State == NodeState.Exited, TimeSpan.FromSeconds(60), "quitter-1 exited\n" + h.Sink.Dump());

        using var response = await http.PostAsync(ControlRoutes.Restart("quitter-1"), null);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("no running process", await response.Content.ReadAsStringAsync());
        Assert.Equal(NodeState.Exited, h.Node("quitter-1").State);
        Assert.Equal(1, h.Sink.Count("corral", "quitter-1 started"));
    }

    [Fact]
    public async Task An_outcome_of_1_MiB_and_up_to_the_limit_is_accepted_and_a_larger_one_is_a_413()
    {
        await using var h = await new Harness(StubApp.Loaded(StubApp.Role("worker", 1))).StartAsync();
        using var http = Raw(h, h.NodeCredential("worker-1", reportsOutcome: true));
        static string Outcome(int bytes)
        {
            const string head = "{\"passed\":true,\"summary\":{\"text\":\"";
            const string tail = "\"}}";
            return head + new string('x', bytes - head.Length - tail.Length) + tail;
        }

        using (var tooLarge = await http.PostAsync(ControlRoutes.Finished, new StringContent(Outcome(ControlLimits.MaxOutcomeBytes + 1), null, "application/json")))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        }

        Assert.False(h.Result.IsCompleted);
        Assert.True(ControlLimits.MaxOutcomeBytes >= 1024 * 1024);
        using (var largest = await http.PostAsync(ControlRoutes.Finished, new StringContent(Outcome(ControlLimits.MaxOutcomeBytes), null, "application/json")))
        {
            Assert.Equal(HttpStatusCode.OK, largest.StatusCode);
        }

        var result = await h.Result.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(RunEnd.Finished, result.End);
        Assert.True(result.Outcome!.Summary.GetProperty("text").GetString()!.Length > ControlLimits.MaxOutcomeBytes - 100);
    }

    [Fact]
    public async Task The_client_does_not_retry_an_outcome_report_refused_with_a_4xx()
    {
        await using var h = await new Harness(StubApp.Loaded(StubApp.Role("worker", 1))).StartAsync();
        using var client = new ControlClient(h.Supervisor.ControlUrl, "not-the-token");

        var error = await Assert.ThrowsAsync<HttpRequestException>(() =>
            client.ReportFinishedAsync(new RunOutcome(true, JsonDocument.Parse("{}").RootElement)).WaitAsync(TimeSpan.FromSeconds(20)));

        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
        Assert.False(h.Result.IsCompleted);
    }

    [Fact]
    public async Task The_client_gives_up_on_an_unreachable_supervisor_once_its_retry_budget_is_spent()
    {
        var port = LoopbackPort.Unused();
        using var client = new ControlClient(new Uri($"http://127.0.0.1:{port}/"), "token") { ReportRetryBudget = TimeSpan.FromSeconds(1) };
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<HttpRequestException>(() =>
            client.ReportFinishedAsync(new RunOutcome(true, JsonDocument.Parse("{}").RootElement)).WaitAsync(TimeSpan.FromSeconds(20)));

        Assert.Contains("still failing after 1s", error.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"gave up only after {clock.Elapsed}");
    }

    private static async Task ExpectMissingAsync(HttpClient http, string route, string body, string field)
    {
        using var response = await http.PostAsync(route, new StringContent(body, null, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{route} {body}: {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains($"'{field}'", text);
    }

    [Fact]
    public async Task The_client_reads_nodes_membership_and_config_and_finished_ends_the_run_with_its_exit_code()
    {
        var config = "{\"tick\":\"50ms\"}";
        await using var h = await new Harness(StubApp.Loaded(config, StubApp.Role("worker", 1))).StartAsync();
        using var client = h.OutcomeClient;
        await h.WaitReadyAsync(60, "worker-1");

        var nodes = await client.GetNodesAsync();
        Assert.Equal("worker-1", Assert.Single(nodes).NodeId);
        Assert.Equal(NodeState.Ready, nodes[0].State);
        var membership = await client.GetMembershipAsync();
        Assert.Equal("worker-1", Assert.Single(membership.OfRole("test.worker")).NodeId);
        var document = await client.GetConfigAsync();
        Assert.Equal(1, document.Version);
        Assert.Equal("50ms", document.Config.GetProperty("tick").GetString());

        var summary = JsonDocument.Parse("{\"winner\":\"Bill\"}").RootElement;
        await client.ReportFinishedAsync(new RunOutcome(false, summary));
        await client.ReportFinishedAsync(new RunOutcome(true, summary));
        var result = await h.Result.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(RunEnd.Finished, result.End);
        Assert.Equal(1, result.ExitCode);
        Assert.False(result.Outcome!.Passed);
        Assert.Equal("Bill", result.Outcome.Summary.GetProperty("winner").GetString());
        Assert.Equal(NodeState.Stopped, Assert.Single(result.Nodes).State);
        var written = result.Run.ReadSummary()!;
        Assert.Equal(1, written.ExitCode);
        Assert.Equal(RunEnd.Finished, written.End);
        Assert.True(File.Exists(result.Run.LogOf("worker-1")));
        Assert.Contains("ready", File.ReadAllText(result.Run.LogOf("worker-1")));
    }

    [Fact]
    public async Task A_passed_outcome_exits_zero()
    {
        await using var h = await new Harness(StubApp.Loaded(StubApp.Role("worker", 1))).StartAsync();
        using var client = h.OutcomeClient;
        // An unset summary is sent as null rather than failing to serialise (and retrying for ever).
        await client.ReportFinishedAsync(new RunOutcome(true, default)).WaitAsync(TimeSpan.FromSeconds(30));
        var result = await h.Result.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(JsonValueKind.Null, result.Outcome!.Summary.ValueKind);
        Assert.Equal(0, result.ExitCode);
        Assert.True(result.Outcome!.Passed);
    }
}
