using System.Net;
using Corral.Dashboard.Tests.Harness;

namespace Corral.Dashboard.Tests.Api;

/// <summary><c>corral dashboard &lt;run-id&gt;</c> against a real running run, and for runs it cannot reach.</summary>
[Collection(BalancerDashboardCollection.Name)]
public sealed class DashboardCommandTests(BalancerDashboard balancer)
{
    private DashboardRun Run => balancer.Run;

    [Fact]
    public async Task A_fresh_link_works_once_beside_the_first_one()
    {
        var fresh = await Run.NewLinkAsync();
        var (client, _) = DashboardRun.NewClient();
        using (client)
        {
            using var first = await client.GetAsync(Run.FirstLink);
            using var second = await client.GetAsync(fresh);
            using var again = await client.GetAsync(fresh);

            Assert.NotEqual(Run.FirstLink, fresh);
            Assert.StartsWith(Run.BaseUrl.ToString() + "?code=", fresh);
            Assert.Equal(HttpStatusCode.Redirect, first.StatusCode);
            Assert.Equal(HttpStatusCode.Redirect, second.StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, again.StatusCode);
        }
    }

    [Fact]
    public async Task An_unknown_or_stopped_run_is_named_as_such()
    {
        using var folder = new TempFolder();
        var data = folder.Combine("data");
        Directory.CreateDirectory(Path.Combine(data, "runs", "20261129-120000-abcd"));

        var (unknown, unknownOutput) = await CorralProcess.RunAsync(folder.Path, DashboardRun.Bound, "dashboard", "20261129-120000-ffff", "--data", data);
        var (stopped, stoppedOutput) = await CorralProcess.RunAsync(folder.Path, DashboardRun.Bound, "dashboard", "20261129-120000-abcd", "--data", data);
        var (bad, badOutput) = await CorralProcess.RunAsync(folder.Path, DashboardRun.Bound, "dashboard", "../x", "--data", data);

        Assert.Equal(2, unknown);
        Assert.Contains("no run 20261129-120000-ffff", unknownOutput);
        Assert.Equal(2, stopped);
        Assert.Contains("is not running", stoppedOutput);
        Assert.Equal(2, bad);
        Assert.Contains("is not a run id", badOutput);
    }
}

/// <summary><c>--no-dashboard</c> and <c>--dashboard PORT</c> on a real <c>corral up</c>.</summary>
[Collection(BalancerDashboardCollection.Name)]
public sealed class DashboardOptionTests
{
    private const string LongShootout = """
        app: shootout
        tick: 10s
        cowboys:
          - {name: John, health: 10, damage: 1}
          - {name: Bill, health: 10, damage: 1}
        """;

    [Fact]
    public async Task With_no_dashboard_nothing_is_served_and_corral_dashboard_says_so()
    {
        using var folder = new TempFolder();
        var data = folder.Combine("data");
        await using var corral = CorralProcess.Start(folder.Path, "up", folder.Write("shootout.yaml", LongShootout), "--ports", "dynamic", "--data", data, "--no-dashboard");
        var runLine = await corral.WaitForLineAsync(l => l.Contains("| run ") && l.Contains(" of shootout"), DashboardRun.Bound, "the run's id");
        var runId = runLine.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3];
        await corral.WaitForLineAsync(l => l.Contains("server ready"), DashboardRun.Bound, "the server ready");

        var (code, output) = await CorralProcess.RunAsync(folder.Path, DashboardRun.Bound, "dashboard", runId, "--data", data);

        Assert.Equal(2, code);
        Assert.Contains("serves no dashboard", output);
        Assert.DoesNotContain(corral.Lines, l => l.Contains("Dashboard:") || l.Contains("dashboard "));
    }

    [Fact]
    public async Task Dashboard_port_and_no_dashboard_exclude_each_other()
    {
        using var folder = new TempFolder();
        var (code, output) = await CorralProcess.RunAsync(folder.Path, DashboardRun.Bound, "up", folder.Write("shootout.yaml", LongShootout),
            "--dashboard", "8123", "--no-dashboard");
        var (negative, negativeOutput) = await CorralProcess.RunAsync(folder.Path, DashboardRun.Bound, "up", folder.Write("shootout.yaml", LongShootout),
            "--dashboard", "40000");

        // Parse errors end as every other option's do (non-zero, before anything starts).
        Assert.NotEqual(0, code);
        Assert.Contains("exclude each other", output);
        Assert.NotEqual(0, negative);
        Assert.Contains("--dashboard must be a port from 1 to 32767", negativeOutput);
        Assert.DoesNotContain("| run ", output + negativeOutput);
    }
}
