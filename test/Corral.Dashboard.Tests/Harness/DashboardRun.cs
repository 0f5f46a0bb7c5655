using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Corral.Dashboard.Tests.Harness;

/// <summary>
/// A real <c>corral up</c> with its dashboard, on dynamic ports in its own data folder: the link it printed, its run id,
/// fresh links from <c>corral dashboard &lt;run-id&gt;</c>, and HTTP clients signed in through a link.
/// </summary>
public sealed partial class DashboardRun : IAsyncDisposable
{
    /// <summary>Generous: two cores, and other work runs beside the tests.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private readonly TempFolder _folder = new("corral-dashboard-");
    private CorralProcess? _corral;

    internal CorralProcess Corral => _corral ?? throw new InvalidOperationException("not started");
    public string DataFolder => _folder.Combine("data");
    public string RunId { get; private set; } = "";
    public string FirstLink { get; private set; } = "";
    public Uri BaseUrl { get; private set; } = new("http://127.0.0.1/");
    public int Port => BaseUrl.Port;

    public static async Task<DashboardRun> StartAsync(string topology, params string[] extra)
    {
        var run = new DashboardRun();
        var file = run._folder.Write("topology.yaml", topology);
        run._corral = CorralProcess.Start(run._folder.Path, ["up", file, "--ports", "dynamic", "--data", run.DataFolder, .. extra]);
        var line = await run.Corral.WaitForLineAsync(l => l.Contains("Dashboard: http"), Bound, "the dashboard's link");
        run.FirstLink = LinkIn(line);
        run.BaseUrl = new Uri(new Uri(run.FirstLink).GetLeftPart(UriPartial.Authority) + "/");
        var runLine = await run.Corral.WaitForLineAsync(l => RunLine().IsMatch(l), Bound, "the run's id");
        run.RunId = RunLine().Match(runLine).Groups["id"].Value;
        return run;
    }

    /// <summary>A fresh one-time link, as a user who lost the first one gets it.</summary>
    public async Task<string> NewLinkAsync()
    {
        var (code, output) = await CorralProcess.RunAsync(_folder.Path, Bound, "dashboard", RunId, "--data", DataFolder);
        Assert.True(code == 0, $"corral dashboard exited {code}: {output}");
        return LinkIn(output.Split('\n').Single(l => l.StartsWith("Dashboard: ", StringComparison.Ordinal)));
    }

    /// <summary>A client that does not follow redirects and keeps cookies; not signed in.</summary>
    public static (HttpClient Client, CookieContainer Cookies) NewClient()
    {
        var cookies = new CookieContainer();
        var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, CookieContainer = cookies })
        {
            Timeout = TimeSpan.FromSeconds(30),
        };
        return (client, cookies);
    }

    /// <summary>A client signed in through a fresh link (it holds the session cookie).</summary>
    public async Task<HttpClient> SignedInClientAsync()
    {
        var (client, _) = NewClient();
        client.BaseAddress = BaseUrl;
        using var response = await client.GetAsync(await NewLinkAsync());
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return client;
    }

    /// <summary>The node table as the dashboard serves it.</summary>
    public static async Task<JsonElement[]> NodesAsync(HttpClient client)
    {
        using var document = JsonDocument.Parse(await client.GetStringAsync("/api/nodes"));
        return document.RootElement.GetProperty("nodes").EnumerateArray().Select(n => n.Clone()).ToArray();
    }

    public static async Task WaitAllReadyAsync(HttpClient client, int count) =>
        await Eventually.TrueAsync(async _ =>
        {
            var nodes = await NodesAsync(client);
            return nodes.Length == count && nodes.All(n => n.GetProperty("state").GetString() == "ready");
        }, Bound, $"{count} ready nodes");

    private static string LinkIn(string line) => line[(line.IndexOf("http://", StringComparison.Ordinal))..].Trim();

    [GeneratedRegex(@"\| run (?<id>\d{8}-\d{6}-[0-9a-f]{4}) of ")]
    private static partial Regex RunLine();

    public async ValueTask DisposeAsync()
    {
        if (_corral is not null) await _corral.DisposeAsync();
        _folder.Dispose();
    }
}
