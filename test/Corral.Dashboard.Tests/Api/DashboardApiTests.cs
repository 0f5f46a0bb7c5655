using System.Net;
using System.Text;
using System.Text.Json;
using Corral.Dashboard.Tests.Harness;

namespace Corral.Dashboard.Tests.Api;

/// <summary>The dashboard's access rules over HTTP against a real run: a real <c>corral up</c> serving its page.</summary>
[Collection(BalancerDashboardCollection.Name)]
public sealed class DashboardApiTests(BalancerDashboard balancer)
{
    private DashboardRun Run => balancer.Run;

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Without_cookie_or_token_every_route_is_401()
    {
        // Every route and method the dashboard maps, read from its own mapping, not a list that misses the next route.
        var routes = DashboardEndpoints.All();
        Assert.Contains(("GET", "/dashboard.css"), routes);
        Assert.Contains(("GET", "/api/logs"), routes);
        Assert.Contains(("POST", "/api/nodes/worker-1/stop"), routes);
        Assert.Contains(("POST", "/api/roles/worker-1/scale"), routes);
        Assert.Contains(("PUT", "/api/nodes/worker-1/proxy/worker-1"), routes);
        var (client, _) = DashboardRun.NewClient();
        using (client)
        {
            client.BaseAddress = Run.BaseUrl;
            foreach (var (method, path) in routes)
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                if (method is "POST" or "PUT" or "PATCH") request.Content = Json("{}");
                // A same-origin change, so only the missing sign-in is wrong with it.
                if (method is not "GET") request.Headers.Add("Origin", Run.BaseUrl.GetLeftPart(UriPartial.Authority));
                using var response = await client.SendAsync(request);
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} answered {(int)response.StatusCode}");
            }
        }
    }

    [Fact]
    public async Task A_change_with_a_foreign_or_missing_origin_is_403_and_changes_nothing()
    {
        static bool RestartRequested(string line) => line.Contains("worker-3 restarting on request", StringComparison.Ordinal);
        var requestedBefore = Run.Corral.Lines.Count(RestartRequested);
        var before = (await DashboardRun.NodesAsync(balancer.Client)).Single(n => n.GetProperty("nodeId").GetString() == "worker-3");

        using var missing = await balancer.Client.PostAsync("/api/nodes/worker-3/restart", null);
        using var foreign = new HttpRequestMessage(HttpMethod.Post, "/api/nodes/worker-3/restart");
        foreign.Headers.Add("Origin", "http://evil.example");
        using var foreignReply = await balancer.Client.SendAsync(foreign);

        Assert.Equal(HttpStatusCode.Forbidden, missing.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, foreignReply.StatusCode);
        // A restart that got through would be asynchronous (and the restart counter does not count requested restarts):
        // the supervisor's "restarting on request" line is what would show it. Nothing must come in a bounded window
        // longer than a requested restart takes to be announced.
        Assert.False(await Run.Corral.LineWithinAsync(RestartRequested, TimeSpan.FromSeconds(3), skip: requestedBefore),
            "a refused request restarted worker-3:\n" + string.Join("\n", Run.Corral.Lines.Where(RestartRequested)));
        var after = (await DashboardRun.NodesAsync(balancer.Client)).Single(n => n.GetProperty("nodeId").GetString() == "worker-3");
        Assert.Equal(before.GetProperty("pid").GetInt32(), after.GetProperty("pid").GetInt32());
        Assert.Equal(before.GetProperty("restarts").GetInt32(), after.GetProperty("restarts").GetInt32());
        Assert.Equal(before.GetProperty("state").ToString(), after.GetProperty("state").ToString());
    }

    [Fact]
    public async Task A_used_code_is_401_and_the_cookie_is_httponly_strict_and_named_by_port()
    {
        var link = await Run.NewLinkAsync();
        var (client, cookies) = DashboardRun.NewClient();
        using (client)
        {
            using var first = await client.GetAsync(link);
            using var second = await client.GetAsync(link);

            Assert.Equal(HttpStatusCode.Redirect, first.StatusCode);
            Assert.Equal("/", first.Headers.Location?.OriginalString);
            var setCookie = Assert.Single(first.Headers.GetValues("Set-Cookie"));
            Assert.StartsWith($"corral-dashboard-{Run.Port}=", setCookie);
            Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);
            Assert.Equal(HttpStatusCode.Unauthorized, second.StatusCode);
            Assert.Single(cookies.GetAllCookies());
        }
    }

    [Fact]
    public async Task A_request_for_another_host_is_421_misdirected()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/nodes");
        request.Headers.Host = $"evil.example:{Run.Port}";

        using var response = await balancer.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.MisdirectedRequest, response.StatusCode);
    }

    [Fact]
    public async Task The_token_stays_out_of_argv_logs_and_the_page()
    {
        var access = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(Run.DataFolder, "runs", Run.RunId, "control.json")));
        var token = access.RootElement.GetProperty("token").GetString()!;
        Assert.True(token.Length >= 32);

        var pids = new[] { Run.Corral.Pid }.Concat(Run.Corral.AllNodePids());
        foreach (var pid in pids)
        {
            var argv = await File.ReadAllTextAsync($"/proc/{pid}/cmdline");
            Assert.DoesNotContain(token, argv);
        }

        var logs = Directory.GetFiles(Path.Combine(Run.DataFolder, "runs", Run.RunId, "logs"));
        Assert.NotEmpty(logs);
        foreach (var log in logs)
        {
            Assert.DoesNotContain(token, await File.ReadAllTextAsync(log));
        }

        Assert.DoesNotContain(token, Run.Corral.Output);
        foreach (var path in new[] { "/", "/dashboard.js", "/panel.js", "/api/nodes", "/api/logs" })
        {
            Assert.DoesNotContain(token, await balancer.Client.GetStringAsync(path));
        }
    }

    [Fact]
    public async Task A_panel_may_reach_only_the_node_routes_it_lists()
    {
        using var listed = await balancer.Client.GetAsync("/api/nodes/worker-1/proxy/stats");
        using var unlisted = await balancer.Client.GetAsync("/api/nodes/worker-1/proxy/api/v1/hello");
        using var unknown = await balancer.Client.GetAsync("/api/nodes/worker-9/proxy/stats");

        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        Assert.Contains("\"workers\"", await listed.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, unlisted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task Scaling_a_role_the_app_does_not_allow_is_409_with_the_reason()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/roles/balancer.lb/scale") { Content = Json("""{"delta":1}""") };
        request.Headers.Add("Origin", Run.BaseUrl.GetLeftPart(UriPartial.Authority));

        using var response = await balancer.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("does not allow scaling 'balancer.lb'", await response.Content.ReadAsStringAsync());
    }
}
