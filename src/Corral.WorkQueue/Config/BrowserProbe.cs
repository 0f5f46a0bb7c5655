using System.Text.Json;
using Corral.Node.Processes;

namespace Corral.WorkQueue.Config;

/// <summary>A browser a Playwright task needs that this machine does not have: why, and how to get it.</summary>
public sealed record MissingBrowser(string Browser, string Reason, string Remedy);

/// <summary>A task not run because its browser is missing; final from the start as <c>skipped</c>.</summary>
public sealed record SkippedTask(TaskDefinition Task, string Reason);

/// <summary>
/// Whether the browsers a Playwright suite names are on this machine, checked once when the topology is read, so a
/// missing Firefox is one line at the start rather than every Firefox task failing one by one. Playwright finds its
/// browsers under <c>PLAYWRIGHT_BROWSERS_PATH</c> (<c>0</c>: inside node_modules) or <c>~/.cache/ms-playwright</c>, in a
/// folder named after the revision its <c>browsers.json</c> pins; chrome is also found where the example's config looks
/// for it (<c>CHROMIUM_PATH</c>, <c>/usr/bin/chromium</c>). Browser names Corral does not know are not checked.
/// </summary>
internal sealed class BrowserProbe(string specRoot, Func<string, string?> environment)
{
    private static readonly Dictionary<string, string[]> PlaywrightFolders = new(StringComparer.Ordinal)
    {
        ["chrome"] = ["chromium", "chromium_headless_shell"],
        ["chromium"] = ["chromium", "chromium_headless_shell"],
        ["firefox"] = ["firefox"],
        ["webkit"] = ["webkit"],
    };

    /// <summary>Whether a command runs Playwright's test runner (<c>npx playwright test</c>, <c>node_modules/.bin/playwright</c>, ...).</summary>
    public static bool RunsPlaywright(IReadOnlyList<string> command) =>
        command.Take(3).Any(arg => Path.GetFileName(arg) is "playwright" or "playwright.cmd" || arg.EndsWith("/playwright/cli.js", StringComparison.Ordinal));

    /// <summary>Null when <paramref name="browser"/> is there (or is not one Corral knows how to look for).</summary>
    public MissingBrowser? Check(string browser)
    {
        if (!PlaywrightFolders.TryGetValue(browser, out var folders)) return null;
        var isChrome = browser is "chrome" or "chromium";
        if (isChrome && environment("CHROMIUM_PATH") is { Length: > 0 } given)
        {
            return Executables.Resolve(given) is not null ? null
                : new MissingBrowser(browser, $"CHROMIUM_PATH is '{given}', which is not an executable file", "point CHROMIUM_PATH at a Chromium, or unset it");
        }

        if (isChrome && Executables.Resolve("/usr/bin/chromium") is not null) return null;
        var root = BrowsersFolder();
        var revisions = Revisions();
        foreach (var folder in folders)
        {
            var found = revisions.TryGetValue(folder, out var revision)
                ? Directory.Exists(Path.Combine(root, $"{folder}-{revision}"))
                : Directory.Exists(root) && Directory.EnumerateDirectories(root, folder + "-*").Any();
            if (found) return null;
        }

        var expected = revisions.TryGetValue(folders[0], out var pinned) ? $"{folders[0]}-{pinned}" : $"{folders[0]}-*";
        var install = isChrome ? "chromium" : browser;
        return new MissingBrowser(browser,
            $"Playwright's {install} is not in {root} (no {expected})" + (isChrome ? " and there is no /usr/bin/chromium or CHROMIUM_PATH" : ""),
            isChrome
                ? "apt-get install chromium (or set CHROMIUM_PATH), or run npx playwright install chromium in the spec root"
                : $"run npx playwright install --with-deps {install} in the spec root (it downloads Playwright's own {install} build)");
    }

    /// <summary>Where Playwright keeps its browsers, as Playwright decides it.</summary>
    public string BrowsersFolder()
    {
        var configured = environment("PLAYWRIGHT_BROWSERS_PATH");
        if (configured == "0") return Path.Combine(specRoot, "node_modules", "playwright-core", ".local-browsers");
        if (configured is { Length: > 0 }) return Path.GetFullPath(configured, specRoot);
        var cache = environment("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg : Path.Combine(environment("HOME") ?? "/root", ".cache");
        return Path.Combine(cache, "ms-playwright");
    }

    /// <summary>The revisions the installed playwright-core pins (<c>browsers.json</c>), by folder name; empty when unreadable.</summary>
    private Dictionary<string, string> Revisions()
    {
        var revisions = new Dictionary<string, string>(StringComparer.Ordinal);
        var file = Path.Combine(specRoot, "node_modules", "playwright-core", "browsers.json");
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(file));
            foreach (var browser in document.RootElement.GetProperty("browsers").EnumerateArray())
            {
                if (browser.TryGetProperty("name", out var name) && browser.TryGetProperty("revision", out var revision)
                    && name.GetString() is { } n && revision.GetString() is { } r)
                {
                    revisions[n.Replace('-', '_')] = r;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            // No installed Playwright to ask: any revision will do.
        }

        return revisions;
    }
}
