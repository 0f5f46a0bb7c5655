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
