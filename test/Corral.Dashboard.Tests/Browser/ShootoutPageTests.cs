using System.Net;
using System.Text;
using Corral.Dashboard.Tests.Harness;
using Microsoft.Playwright;
using static Corral.Dashboard.Tests.Browser.PageSupport;

namespace Corral.Dashboard.Tests.Browser;

[CollectionDefinition(Name)]
public sealed class ShootoutDashboardCollection : ICollectionFixture<Chromium>
{
    public const string Name = "shootout dashboard";
}

/// <summary>The shootout's panel in headless Chromium, over a real finite run from its first tick to its outcome.</summary>
[Collection(ShootoutDashboardCollection.Name)]
public sealed class ShootoutPageTests(Chromium chromium)
{
    /// <summary>Long enough to watch (about two dozen ticks), short enough for the suite.</summary>
    private const string Topology = """
        app: shootout
        seed: 11
        tick: 150ms
        rounds: 1
        cowboys:
          - {name: John, health: 12, damage: 1}
          - {name: Bill, health: 12, damage: 1}
          - {name: Sam, health: 12, damage: 1}
          - {name: Kate, health: 12, damage: 1}
        """;

    [Fact]
    public async Task The_panel_shows_every_cowboy_and_their_health_falls_until_one_winner_and_the_outcome_shows_before_the_run_exits()
    {
        var page = await chromium.NewPageAsync();
        await using var run = await DashboardRun.StartAsync(Topology);
        await page.GotoAsync(run.FirstLink);
        await page.WaitForFunctionAsync("document.querySelectorAll('#panel [data-cowboy]').length === 4", null, Wait);

        // Health sums as the page shows them, sampled until a winner is shown.
        var sums = new List<int>();
        await Eventually.TrueAsync(async _ =>
        {
            var health = await page.EvaluateAsync<int[]>("() => [...document.querySelectorAll('#panel [data-cowboy]')].map(c => Number(c.dataset.health))");
            if (health.Length == 4 && (sums.Count == 0 || sums[^1] != health.Sum()))
            {
                sums.Add(health.Sum());
                if (sums.Count == 4) await Chromium.ScreenshotAsync(page, "shootout-running");
            }

            return await page.EvaluateAsync<string>("() => document.querySelector('#panel .round').dataset.winner || ''") != "";
        }, DashboardRun.Bound, "a winner on the page");

        var alive = await page.EvaluateAsync<string[]>("() => [...document.querySelectorAll('#panel [data-cowboy][data-alive=true]')].map(c => c.dataset.cowboy)");
        var winner = await page.EvaluateAsync<string>("() => document.querySelector('#panel .round').dataset.winner");
        await page.WaitForFunctionAsync("!document.getElementById('outcome').hidden", null, Wait);
        var outcome = await page.TextContentAsync("#outcome");
        await Chromium.ScreenshotAsync(page, "shootout");
        Assert.Equal(winner, Assert.Single(alive));
        Assert.True(sums.Count >= 3, $"health fell in steps the page showed: {string.Join(", ", sums)}");
        Assert.Equal(sums.OrderByDescending(s => s), sums);
        Assert.Contains("passed", outcome);
        Assert.Contains($"round 1: {winner} wins", outcome);
        Assert.Equal(0, await run.Corral.WaitForExitAsync(DashboardRun.Bound));
        Assert.False(File.Exists(Path.Combine(run.DataFolder, "runs", run.RunId, "control.json")), "the ended run still offers its control access");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Scaling_a_finite_shootout_is_refused_with_409_and_the_page_shows_why()
    {
        var page = await chromium.NewPageAsync();
        await using var run = await DashboardRun.StartAsync(Topology.Replace("tick: 150ms", "tick: 10s"));
        await page.GotoAsync(run.FirstLink);
        await page.WaitForSelectorAsync("button[aria-label='Scale shootout.cowboy up by one']");

        await page.ClickAsync("button[aria-label='Scale shootout.cowboy up by one']");
        await page.WaitForFunctionAsync("document.getElementById('action-message').textContent.includes('409')", null, Wait);
        using var client = await run.SignedInClientAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/roles/shootout.cowboy/scale")
        {
            Content = new StringContent("""{"delta":-1}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Origin", run.BaseUrl.GetLeftPart(UriPartial.Authority));
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("does not allow scaling 'shootout.cowboy'", await response.Content.ReadAsStringAsync());
        Assert.Contains("does not allow scaling 'shootout.cowboy'", await page.TextContentAsync("#action-message"));
        Assert.Equal(4, (await DashboardRun.NodesAsync(client)).Count(n => n.GetProperty("role").GetString() == "shootout.cowboy"));
        await page.Context.CloseAsync();
    }
}
