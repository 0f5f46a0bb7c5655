using Corral.WorkQueue.Store;
using Microsoft.Playwright;

namespace Corral.WorkQueue.Tests.Reporter;

/// <summary>The reporter page in headless Chromium (Debian's, never a downloaded one): every task listed, changes shown live.</summary>
public sealed class ReporterPageTests
{
    [Fact]
    public async Task Every_task_is_listed_and_a_change_of_state_appears_without_a_reload()
    {
        await using var controller = await ControllerHarness.StartAsync(tasks: 5);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
        });
        var page = await browser.NewPageAsync();
        var requests = new List<string>();
        page.Request += (_, request) => requests.Add(request.Url);

        await page.GotoAsync(new Uri(controller.Url, "/results").ToString());
        var rows = page.Locator("#tasks tr");
        await Assertions.Expect(rows).ToHaveCountAsync(5);
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"task:g:{i}"), await rows.EvaluateAllAsync<string[]>("rows => rows.map(r => r.id)"));
        Assert.Equal(["Result", "Status", "Spec", "Viewport", "Browser", "Duration", "Attempts", "Worker", "Key"], await page.Locator("thead th").AllTextContentsAsync());
        await page.EvaluateAsync("() => { window.notReloaded = true; }");

        var claim = (await controller.ClaimAsync("worker-1")).Task!;
        // The page follows the monitor's look, which follows a change after a pause that grows with the look's cost:
        // wait (bounded) until the look has the claim, then give the page a bound that holds with both cores busy.
        await controller.ResultsAsync(d => d.Tasks.Any(t => t.Key == claim.Task.Key && t.Status == "running"));
        var first = page.Locator("tr[id='task:g:0'] td");
        await Assertions.Expect(first.Nth(1)).ToHaveTextAsync("running", new() { Timeout = 20_000 });
        await Assertions.Expect(first.Nth(7)).ToHaveTextAsync("worker-1");
        await Assertions.Expect(first.Nth(1)).ToHaveClassAsync("running");

        (await controller.CompleteAsync(claim, "worker-1", AttemptResult.Passed)).EnsureSuccessStatusCode();
        await Assertions.Expect(first.Nth(0)).ToHaveTextAsync("passed", new() { Timeout = 20_000 });
        await Assertions.Expect(first.Nth(0)).ToHaveClassAsync("passed");
        await Assertions.Expect(page.Locator("#finished-count")).ToHaveTextAsync("1");
        await Assertions.Expect(page.Locator("#progress")).ToContainTextAsync("1/5 done");

        Assert.True(await page.EvaluateAsync<bool>("() => window.notReloaded === true"));
        Assert.All(requests, url => Assert.StartsWith(controller.Url.ToString(), url)); // nothing from a CDN: works offline
    }
}
