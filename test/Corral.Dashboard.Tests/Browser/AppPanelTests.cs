using System.Text;
using System.Text.RegularExpressions;
using Corral.Dashboard.Tests.Harness;
using static Corral.Dashboard.Tests.Browser.PageSupport;

namespace Corral.Dashboard.Tests.Browser;

[CollectionDefinition(Name)]
public sealed class AppPanelCollection : ICollectionFixture<Chromium>
{
    public const string Name = "app panels";
}

/// <summary>The counter's, the work queue's and the peer shootout's panels in headless Chromium, each over a real run of its app.</summary>
[Collection(AppPanelCollection.Name)]
public sealed partial class AppPanelTests(Chromium chromium)
{
    [Fact]
    public async Task The_counter_panel_shows_a_tenants_count_rise_after_a_post_to_the_coordinator()
    {
        await using var run = await DashboardRun.StartAsync("""
            app: counter
            workers: 2
            partitions: 8
            """);
        var page = await chromium.NewPageAsync();
        await page.GotoAsync(run.FirstLink);
        var coordinator = await run.Corral.WaitForPortAsync("coordinator", "http", DashboardRun.Bound);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{coordinator}/") };

        await PostItemsAsync(http, """[{"id":"1","tenant":"acme"},{"id":"2","tenant":"acme"}]""");
        await page.WaitForFunctionAsync("document.querySelector(\"#panel tr[data-tenant='acme']\")?.dataset.count === '2'", null, Wait);
        await PostItemsAsync(http, """[{"id":"3","tenant":"acme"},{"id":"4","tenant":"acme"},{"id":"5","tenant":"acme"},{"id":"1","tenant":"other"}]""");

        await page.WaitForFunctionAsync("document.querySelector(\"#panel tr[data-tenant='acme']\")?.dataset.count === '5'", null, Wait);
        await page.WaitForFunctionAsync("document.querySelectorAll('#panel tr[data-partitions]').length === 2", null, Wait);
        var owned = await page.EvaluateAsync<int[]>("() => [...document.querySelectorAll('#panel tr[data-partitions]')].map(r => Number(r.dataset.partitions))");
        var ingested = await page.EvaluateAsync<string>("() => document.querySelector('#panel .ingest').dataset.ingested");
        await Chromium.ScreenshotAsync(page, "counter-panel");
        Assert.Equal(8, owned.Sum());
        Assert.Equal("6", ingested);
        Assert.Equal("1", await page.GetAttributeAsync("#panel tr[data-tenant='other']", "data-count"));
        await page.SetViewportSizeAsync(400, 900);
        await Chromium.ScreenshotAsync(page, "counter-panel-400");
        await AssertNothingCutOffAsync(page);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_workqueue_panel_shows_a_task_change_state_from_running_to_passed()
    {
        using var folder = new TempFolder("corral-panel-wq-");
        Directory.CreateDirectory(folder.Combine("specs", "tests"));
        folder.Write(Path.Combine("specs", "tests", "slow.spec"), "");
        // The task runs until the test has seen it running, so a slow page load cannot miss that state.
        var release = folder.Combine("release");
        folder.Write(Path.Combine("specs", "run.sh"), $"i=0; while [ ! -e '{release}' ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done\n");
        folder.Write(Path.Combine("specs", "map.json"), """
            {"groups": [{"name": "slow", "tasks": [{"spec": "tests/slow.spec", "viewports": ["desktop"], "browsers": ["chrome"]}]}]}
            """);
        await using var run = await DashboardRun.StartAsync($$"""
            app: workqueue
            specs: {{folder.Combine("specs", "map.json")}}
            command: [sh, run.sh, "{spec}"]
            workers: 1
            """);
        var page = await chromium.NewPageAsync();
        await page.GotoAsync(run.FirstLink);
        await page.EvaluateAsync("""
            () => {
              window.seenStatuses = [];
              const record = () => {
                const row = document.querySelector("#panel tr[data-key='task:slow:0']");
                const status = row && row.dataset.status + '/' + row.dataset.result;
                if (status && window.seenStatuses[window.seenStatuses.length - 1] !== status) window.seenStatuses.push(status);
              };
              record();
              new MutationObserver(record).observe(document.getElementById('panel'), { childList: true, subtree: true });
            }
            """);

        await page.WaitForFunctionAsync("document.querySelector(\"#panel tr[data-key='task:slow:0']\")?.dataset.status === 'running'", null, Wait);
        await Chromium.ScreenshotAsync(page, "workqueue-running");
        File.WriteAllText(release, "");
        await page.WaitForFunctionAsync("document.querySelector(\"#panel tr[data-key='task:slow:0']\")?.dataset.result === 'passed'", null, Wait);

        var seen = await page.EvaluateAsync<string[]>("() => window.seenStatuses");
        await Chromium.ScreenshotAsync(page, "workqueue-panel");
        Assert.Contains("running/unknown", seen);
        Assert.Equal("complete/passed", seen[^1]);
        Assert.True(Array.IndexOf(seen, "running/unknown") < seen.Length - 1, $"running came before passed: {string.Join(", ", seen)}");
        Assert.Equal("1", await page.GetAttributeAsync("#panel [role=progressbar]", "aria-valuenow"));
        await page.SetViewportSizeAsync(400, 900);
        await Chromium.ScreenshotAsync(page, "workqueue-panel-400");
        await AssertNothingCutOffAsync(page);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_peer_shootout_panel_marks_the_leader()
    {
        await using var run = await DashboardRun.StartAsync("""
            app: shootout
            mode: peer
            tick: 200ms
            seed: 5
            rounds: 1
            cowboys:
              - {name: John, health: 30, damage: 1}
              - {name: Bill, health: 30, damage: 1}
              - {name: Sam, health: 30, damage: 1}
            """);
        var page = await chromium.NewPageAsync();
        await page.GotoAsync(run.FirstLink);

        await page.WaitForFunctionAsync("document.querySelectorAll('#panel [data-cowboy]').length === 3 && document.querySelector('#panel .round').dataset.leader !== ''", null, Wait);
        await page.WaitForFunctionAsync("document.querySelectorAll('#panel .feed li').length > 0", null, Wait);
        var leaderLine = await run.Corral.WaitForLineAsync(l => LeaderLine().IsMatch(l), DashboardRun.Bound, "a leader in the log");
        var leaders = await page.EvaluateAsync<string[]>("() => [...document.querySelectorAll('#panel [data-cowboy][data-leader=true]')].map(c => c.dataset.cowboy)");
        var status = await page.TextContentAsync("#panel .round");
        await Chromium.ScreenshotAsync(page, "shootout-peer");
        Assert.Equal(LeaderLine().Match(leaderLine).Groups["cowboy"].Value, Assert.Single(leaders));
        Assert.Contains($"leader: {leaders[0]}", status);
        await page.SetViewportSizeAsync(400, 900);
        await AssertNothingCutOffAsync(page);
        await page.Context.CloseAsync();
    }

    private static async Task PostItemsAsync(HttpClient http, string json)
    {
        using var response = await http.PostAsync("items", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, $"POST /items answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    [GeneratedRegex(@"I, (?<cowboy>[^,]+), lead now")]
    private static partial Regex LeaderLine();
}
