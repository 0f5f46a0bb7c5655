using Corral.Dashboard.Tests.Harness;
using Microsoft.Playwright;

namespace Corral.Dashboard.Tests.Browser;

/// <summary>Opening the dashboard in a browser the way a user does, and checks every page test shares.</summary>
internal static class PageSupport
{
    public static readonly PageWaitForFunctionOptions Wait = new() { Timeout = (float)DashboardRun.Bound.TotalMilliseconds, PollingInterval = 50 };

    /// <summary>Opens a fresh one-time link and waits for the live feed and <paramref name="nodes"/> rows.</summary>
    public static async Task<IPage> OpenAsync(Chromium chromium, DashboardRun run, int nodes, int width = 1280, string? link = null)
    {
        var page = await chromium.NewPageAsync(width);
        await page.GotoAsync(link ?? await run.NewLinkAsync());
        Assert.Equal(run.BaseUrl.ToString(), page.Url);
        await page.WaitForFunctionAsync($"document.querySelectorAll('#nodes tbody tr').length === {nodes} && document.getElementById('connection').textContent === 'live'", null, Wait);
        return page;
    }

    public static string Cell(string node, string label) => $"#nodes tr[data-node='{node}'] td[data-label='{label}']";

    /// <summary>Nothing wider than the window: the page does not scroll sideways and no visible element ends past the right edge.</summary>
    public static async Task AssertNothingCutOffAsync(IPage page)
    {
        var overflow = await page.EvaluateAsync<string>("""
            () => {
              const width = document.documentElement.clientWidth;
              if (document.documentElement.scrollWidth > width) return 'the page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + width;
              for (const e of document.querySelectorAll('main *, header *')) {
                if (e.closest('.sr-only') || e.offsetParent === null) continue;
                const r = e.getBoundingClientRect();
                if (r.width > 0 && (r.right > width + 1 || r.left < -1)) return (e.id || e.className || e.tagName) + ' spans ' + r.left + '..' + r.right + ' of ' + width;
              }
              return '';
            }
            """);
        Assert.True(overflow.Length == 0, overflow);
    }
}
