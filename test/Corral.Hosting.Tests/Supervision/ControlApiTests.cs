using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Corral.Hosting.Control;
using Corral.Hosting.Supervision;

namespace Corral.Hosting.Tests.Supervision;

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
        using var anonymous = Raw(h, null);
        using var wrong = Raw(h, "not-the-token");
        using var authorised = Raw(h, h.Supervisor.Token);

        foreach (var route in new[] { ControlRoutes.Nodes, ControlRoutes.Membership, ControlRoutes.Config, ControlRoutes.MembershipEvents })
        {
            using var response = await anonymous.GetAsync(route);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        using (var response = await wrong.PostAsJsonAsync(ControlRoutes.Finished, new RunOutcome(true, JsonDocument.Parse("{}").RootElement), ControlJson.Default.RunOutcome))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        using (var request = new HttpRequestMessage(HttpMethod.Get, ControlRoutes.Nodes))
        {
            request.Headers.Host = "evil.example:7999";
            using var response = await authorised.SendAsync(request);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }

        using (var request = new HttpRequestMessage(HttpMethod.Get, ControlRoutes.Nodes))
        {
            request.Headers.Add("Origin", "http://evil.example");
            using var response = await authorised.SendAsync(request);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }

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

        using (var response = await authorised.PostAsync(ControlRoutes.Endpoints("worker-1"), new StringContent("{\"ports\":{\"http\":0}}", null, "application/json")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }

        using (var response = await authorised.PostAsync(ControlRoutes.Finished, new StringContent("{\"passed\":tru", null, "application/json")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }
    }

    [Fact]
    public async Task The_client_reads_nodes_membership_and_config_and_finished_ends_the_run_with_its_exit_code()
    {
        var config = "{\"tick\":\"50ms\"}";
        await using var h = await new Harness(StubApp.Loaded(config, StubApp.Role("worker", 1))).StartAsync();
        using var client = h.Client;
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
        using var client = h.Client;
        // An unset summary is sent as null rather than failing to serialise (and retrying for ever).
        await client.ReportFinishedAsync(new RunOutcome(true, default)).WaitAsync(TimeSpan.FromSeconds(30));
        var result = await h.Result.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(JsonValueKind.Null, result.Outcome!.Summary.ValueKind);
        Assert.Equal(0, result.ExitCode);
        Assert.True(result.Outcome!.Passed);
    }
}
