using Corral.WorkQueue.PlaywrightRuns;
using Corral.WorkQueue.Store;
using Corral.WorkQueue.Tests.PlaywrightReports;
using Microsoft.Playwright;

namespace Corral.WorkQueue.Tests.Reporter;

/// <summary>The reporter page in headless Chromium lists a Playwright task's tests and links the artifacts it kept.</summary>
public sealed class ReporterTestsPageTests
{
    [Fact]
    public async Task A_flaky_tasks_tests_appear_under_its_row_at_the_root_page_and_the_screenshot_link_resolves()
    {
        await using var controller = await ControllerHarness.StartAsync(tasks: 1);
        var first = (await controller.ClaimAsync("worker-1")).Task!;
        WriteReport(controller.RunDirectory, first.Attempt, fails: true);
        (await controller.CompleteAsync(first, "worker-1", AttemptResult.Failed)).EnsureSuccessStatusCode();
        var second = (await controller.ClaimAsync("worker-1")).Task!;
        WriteReport(controller.RunDirectory, second.Attempt, fails: false);
        (await controller.CompleteAsync(second, "worker-1", AttemptResult.Passed)).EnsureSuccessStatusCode();

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
        });
        var page = await browser.NewPageAsync();
        await page.GotoAsync(controller.Url.ToString());

        var tests = page.Locator("tr.tests[data-key='task:g:0'] li.test");
        await Assertions.Expect(tests).ToHaveCountAsync(3);
        var flaky = page.Locator("tr.tests li.test[data-status='flaky']");
        await Assertions.Expect(flaky).ToContainTextAsync("kids clothing search › filters by size and colour");
        await Assertions.Expect(flaky).ToContainTextAsync("attempts: 1 failed, 2 passed");
        var link = flaky.Locator("a.artifact", new LocatorLocatorOptions { HasText = "screenshot" });
        var href = await link.GetAttributeAsync("href");
        var response = await page.GotoAsync(new Uri(controller.Url, href).ToString());
        Assert.Equal(200, response!.Status);
        Assert.Equal("image/png", response.Headers["content-type"]);
    }

    private static void WriteReport(string runDirectory, int attempt, bool fails)
    {
        var folder = AttemptFolder.Path(runDirectory, "task:g:0", attempt);
        var output = Path.Combine(folder, AttemptFolder.OutputFolder);
        Directory.CreateDirectory(Path.Combine(output, "kids-filters"));
        File.WriteAllBytes(Path.Combine(output, "kids-filters", "test-failed-1.png"), [0x89, (byte)'P', (byte)'N', (byte)'G']);
        File.WriteAllText(Path.Combine(folder, AttemptFolder.ReportFile), PlaywrightReportFixtures.Report(output, fails));
    }
}
