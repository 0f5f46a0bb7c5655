using System.Text.RegularExpressions;

namespace Corral.EndToEnd.Tests.Engines;

/// <summary>
/// <c>corral up --engine external</c> without Docker: the supervisor starts no node, and the test plays the engine,
/// starting each node as <c>corral node ... --join</c> with the credential <c>corral render</c> issued, as a Compose
/// service would.
/// </summary>
[Collection(EndToEnd.Collection)]
public sealed partial class ExternalEngineTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);
    private readonly TempFolder _folder = new();
    private readonly List<CorralProcess> _nodes = [];

    /// <summary>Long enough to kill and restart a cowboy mid-round.</summary>
    private const string Topology = """
        app: shootout
        mode: server
        tick: 150ms
        seed: 11
        rounds: 1
        cowboys:
          - {name: John, health: 60, damage: 1}
          - {name: Bill, health: 60, damage: 2}
          - {name: Sam, health: 60, damage: 1}
          - {name: Peter, health: 60, damage: 3}
          - {name: Philip, health: 60, damage: 1}
        """;

    [Fact]
    public async Task Rendered_nodes_join_the_supervisor_a_restarted_one_rejoins_and_the_shootout_has_one_winner()
    {
        var rendered = await RenderAsync("run");
        await using var supervisor = CorralProcess.Start(_folder.Path, "up", Path.Combine(rendered, "shootout.yaml"), "--engine", "external",
            "--signing-key-file", Path.Combine(rendered, "credentials", "supervisor.key"), "--data", Path.Combine(_folder.Path, "data"),
            "--ports", "dynamic", "--no-dashboard");
        var join = await ControlUrlAsync(supervisor);
        await supervisor.WaitForLineAsync(l => l.Contains("server waits for its node to join"), Timeout, "the server's wait");

        var server = StartNode(rendered, "shootout.server", "server", join);
        await supervisor.WaitForLineAsync(l => l.EndsWith("| server ready", StringComparison.Ordinal), Timeout, "the server ready");
        var cowboys = Enumerable.Range(1, 5).Select(i => StartNode(rendered, "shootout.cowboy", $"cowboy-{i}", join)).ToList();
        await supervisor.WaitForLineAsync(l => l.EndsWith("| cowboy-5 ready", StringComparison.Ordinal), Timeout, "cowboy-5 ready");

        // The engine restarts a container that died: the same node id, the same (read-only, so still there) credential.
        await cowboys[1].DisposeAsync();
        StartNode(rendered, "shootout.cowboy", "cowboy-2", join);
        // Either it rejoined before its old instance was missed, or it was lost (a failure) and joined again.
        await Eventually.TrueAsync(() => supervisor.Lines.Count(l => l.Contains("cowboy-2 rejoined from 127.0.0.1") || l.Contains("cowboy-2 joined from 127.0.0.1")) == 2,
            Timeout, () => "cowboy-2's second join; the supervisor's output:\n" + supervisor.Output);

        Assert.Equal(0, await supervisor.WaitForExitAsync(Timeout));
        Assert.Single(supervisor.Lines, l => WinnerLine().IsMatch(l));
        Assert.Contains(supervisor.Lines, l => l.Contains(": finished (exit 0)"));
        Assert.DoesNotContain(supervisor.Lines, l => l.Contains("started (pid"));
    }

    [Fact]
    public async Task A_node_with_a_credential_for_another_run_is_refused_and_never_joins()
    {
        var rendered = await RenderAsync("run");
        var other = await RenderAsync("other");
        await using var supervisor = CorralProcess.Start(_folder.Path, "up", Path.Combine(rendered, "shootout.yaml"), "--engine", "external",
            "--signing-key-file", Path.Combine(rendered, "credentials", "supervisor.key"), "--data", Path.Combine(_folder.Path, "data"),
            "--ports", "dynamic", "--no-dashboard");
        var join = await ControlUrlAsync(supervisor);

        var stranger = StartNode(other, "shootout.server", "server", join);

        Assert.NotEqual(0, await stranger.WaitForExitAsync(Timeout));
        Assert.Contains("is the run up and the credential this run's?", stranger.Output);
        Assert.DoesNotContain(supervisor.Lines, l => l.Contains("server joined"));
        Assert.Contains(supervisor.Lines, l => l.Contains("server waits for its node to join"));
    }

    /// <summary>Renders the topology for Compose into its own folder; returns the folder (the topology, the credentials).</summary>
    private async Task<string> RenderAsync(string name)
    {
        var topology = Path.Combine(_folder.Path, "shootout.yaml");
        await File.WriteAllTextAsync(topology, Topology);
        var output = Path.Combine(_folder.Path, name);
        var (code, text) = await CorralProcess.RunAsync(_folder.Path, Timeout, "render", "compose", topology, "-o", output);
        Assert.True(code == 0, text);
        return output;
    }

    /// <summary>Starts a node as an engine would, with a copy of its credential (an engine's mount stays in place; a node removes what it may).</summary>
    private CorralProcess StartNode(string rendered, string role, string nodeId, string join)
    {
        var credential = Path.Combine(rendered, "credentials", nodeId);
        var copy = Path.Combine(_folder.Path, $"{Path.GetFileName(rendered)}-{nodeId}-{_nodes.Count}");
        File.Copy(credential, copy);
        var node = CorralProcess.Start(_folder.Path, "node", role, "--id", nodeId, "--join", join, "--credential-file", copy);
        _nodes.Add(node);
        return node;
    }

    private static async Task<string> ControlUrlAsync(CorralProcess supervisor)
    {
        var line = await supervisor.WaitForLineAsync(l => ControlLine().IsMatch(l), Timeout, "the control API's address");
        return ControlLine().Match(line).Groups["url"].Value;
    }

    [GeneratedRegex(@"control API\s+supervisor\s+(?<url>http://\S+)$")]
    private static partial Regex ControlLine();

    [GeneratedRegex(@"^round \d+: \S+ wins$")]
    private static partial Regex WinnerLine();

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Ends every node the test started (an engine would stop its containers); one killed already is skipped.</summary>
    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            try
            {
                await node.DisposeAsync();
            }
            catch (InvalidOperationException)
            {
                // Disposed already (the test killed it).
            }
        }

        _folder.Dispose();
    }
}
