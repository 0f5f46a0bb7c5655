using Corral.Dashboard.Tests.Harness;
using Microsoft.Playwright;
using static Corral.Dashboard.Tests.Browser.PageSupport;

namespace Corral.Dashboard.Tests.Browser;

/// <summary>The dashboard in headless Chromium against a real balancer run: node controls, the panel, the logs, the layout.</summary>
[Collection(BalancerDashboardCollection.Name)]
public sealed class BalancerPageTests(BalancerDashboard balancer, Chromium chromium)
{
    private DashboardRun Run => balancer.Run;

    [Fact]
    public async Task Restarting_a_worker_from_the_page_takes_it_through_its_states_back_to_ready()
    {
        var page = await OpenAsync(chromium, Run, nodes: 4);
        await page.WaitForFunctionAsync($"document.querySelector(\"{Cell("worker-1", "State")}\").dataset.state === 'ready'", null, Wait);
        var pid = await page.TextContentAsync(Cell("worker-1", "PID"));
        await page.EvaluateAsync($$"""
            () => {
              window.seenStates = [];
              const cell = document.querySelector("{{Cell("worker-1", "State")}}");
              new MutationObserver(() => window.seenStates.push(cell.dataset.state)).observe(cell, { attributes: true, attributeFilter: ['data-state'] });
            }
            """);

        await page.ClickAsync("button[aria-label='Restart worker-1']");

        await page.WaitForFunctionAsync($$"""
            () => window.seenStates.some(s => s !== 'ready') &&
                  document.querySelector("{{Cell("worker-1", "State")}}").dataset.state === 'ready' &&
                  document.querySelector("{{Cell("worker-1", "PID")}}").textContent !== '{{pid}}'
            """, null, Wait);
        var seen = await page.EvaluateAsync<string[]>("() => window.seenStates");
        await Chromium.ScreenshotAsync(page, "restart-worker");
        Assert.Contains(seen, s => s is "draining" or "starting" or "pending" or "backingOff");
        Assert.Equal("ready", seen[^1]);
        Assert.Contains("restart worker-1: accepted", await page.TextContentAsync("#action-message"));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_fault_control_changes_the_failure_rate_shown()
    {
        var page = await OpenAsync(chromium, Run, nodes: 4);
        var lb = await Run.Corral.WaitForPortAsync("lb-1", "http", DashboardRun.Bound);
        await page.WaitForSelectorAsync("#failure-worker-2");
        await page.WaitForFunctionAsync("document.getElementById('failure-worker-2').value === '0'", null, Wait);

        await page.FillAsync("#failure-worker-2", "100");
        await page.ClickAsync("button[aria-label='Apply faults to worker-2']");
        await page.WaitForFunctionAsync("document.querySelector('#panel .message').textContent.includes('worker-2: failure 100%')", null, Wait);
        await using (HelloLoad.Start([lb], clients: 2, deadline: DashboardRun.Bound))
        {
            await page.WaitForFunctionAsync("Number(document.querySelector(\"tr[data-worker='worker-2']\")?.dataset.failure) >= 90", null, Wait);
            await page.WaitForFunctionAsync("Number(document.querySelector(\"tr[data-worker='worker-1']\")?.dataset.failure) < 10", null, Wait);
            await Chromium.ScreenshotAsync(page, "balancer-fault");
        }

        await page.FillAsync("#failure-worker-2", "0");
        await page.ClickAsync("button[aria-label='Apply faults to worker-2']");
        await page.WaitForFunctionAsync("document.querySelector('#panel .message').textContent.includes('worker-2: failure 0%')", null, Wait);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_merged_log_shows_a_new_line_shortly_after_it_is_written_and_filters_by_node_and_level()
    {
        var page = await OpenAsync(chromium, Run, nodes: 4);
        await page.ClickAsync("button[aria-label='Show the log of worker-3']");
        await page.SelectOptionAsync("#log-level", "WRN");
        Assert.Equal("worker-3", await page.InputValueAsync("#log-node"));

        using var outage = new HttpRequestMessage(HttpMethod.Put, "/api/nodes/worker-3/proxy/faults")
        {
            Content = new StringContent("""{"outage":"refuse"}""", System.Text.Encoding.UTF8, "application/json"),
        };
        outage.Headers.Add("Origin", Run.BaseUrl.GetLeftPart(UriPartial.Authority));
        (await balancer.Client.SendAsync(outage)).EnsureSuccessStatusCode();

        await page.WaitForFunctionAsync("[...document.querySelectorAll('#log .line')].some(l => l.textContent.includes('refusing connections'))", null,
            new PageWaitForFunctionOptions { Timeout = 10_000, PollingInterval = 50 });
        var nodesShown = await page.EvaluateAsync<string[]>("() => [...document.querySelectorAll('#log .line')].map(l => l.dataset.node)");
        var levels = await page.EvaluateAsync<string[]>("() => [...document.querySelectorAll('#log .line')].map(l => l.className)");
        await Chromium.ScreenshotAsync(page, "merged-log");
        Assert.All(nodesShown, n => Assert.Equal("worker-3", n));
        Assert.All(levels, c => Assert.Matches("lvl-(WRN|ERR|CRT)", c));

        using var back = new HttpRequestMessage(HttpMethod.Put, "/api/nodes/worker-3/proxy/faults")
        {
            Content = new StringContent("""{"outage":"none"}""", System.Text.Encoding.UTF8, "application/json"),
        };
        back.Headers.Add("Origin", Run.BaseUrl.GetLeftPart(UriPartial.Authority));
        (await balancer.Client.SendAsync(back)).EnsureSuccessStatusCode();
        await page.SelectOptionAsync("#log-node", "");
        await page.SelectOptionAsync("#log-level", "");
        await page.WaitForFunctionAsync("new Set([...document.querySelectorAll('#log .line')].map(l => l.dataset.node)).size > 2", null, Wait);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_node_restarts_with_the_keyboard_alone()
    {
        var page = await OpenAsync(chromium, Run, nodes: 4);
        await page.WaitForFunctionAsync($"document.querySelector(\"{Cell("worker-3", "State")}\").dataset.state === 'ready'", null, Wait);
        var pid = await page.TextContentAsync(Cell("worker-3", "PID"));

        var reached = false;
        for (var presses = 0; presses < 200 && !reached; presses++)
        {
            await page.Keyboard.PressAsync("Tab");
            reached = await page.EvaluateAsync<bool>("() => document.activeElement?.getAttribute('aria-label') === 'Restart worker-3'");
        }

        Assert.True(reached, "Tab never reached the 'Restart worker-3' button");
        await page.Keyboard.PressAsync("Enter");

        await page.WaitForFunctionAsync($$"""
            () => document.querySelector("{{Cell("worker-3", "State")}}").dataset.state === 'ready' &&
                  document.querySelector("{{Cell("worker-3", "PID")}}").textContent !== '{{pid}}'
            """, null, Wait);
        await Chromium.ScreenshotAsync(page, "keyboard-restart");
        Assert.Equal("Restart worker-3", await page.EvaluateAsync<string>("() => document.activeElement.getAttribute('aria-label')"));
        await page.Context.CloseAsync();
    }

    [Theory]
    [InlineData(1280)]
    [InlineData(400)]
    public async Task At_every_width_nothing_is_cut_off(int width)
    {
        var page = await OpenAsync(chromium, Run, nodes: 4, width);
        await page.WaitForFunctionAsync("document.querySelectorAll('#panel tr[data-worker]').length >= 6 && document.querySelectorAll('#panel form.faults').length === 3", null, Wait);

        await Chromium.ScreenshotAsync(page, $"balancer-{width}");

        await AssertNothingCutOffAsync(page);
        await page.Context.CloseAsync();
    }
}
