using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Corral.EndToEnd.Tests.Shootout;

/// <summary>The real CLI runs peer-mode shootouts through etcd; leaders, followers, etcd members and the supervisor are really killed.</summary>
[Collection(EndToEnd.Collection)]
public sealed partial class PeerRunTests : IDisposable
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(2);
    private readonly TempFolder _folder = new();

    /// <summary>Long enough to kill something mid-round: 40 health each, a beat every 100 ms.</summary>
    private const string LongRound = """
        app: shootout
        mode: peer
        tick: 100ms
        seed: 7
        rounds: 1
        cowboys:
          - {name: John, health: 40, damage: 1}
          - {name: Bill, health: 40, damage: 2}
          - {name: Sam, health: 40, damage: 1}
          - {name: Peter, health: 40, damage: 3}
          - {name: Philip, health: 40, damage: 1}
        """;

    [Fact]
    public async Task The_example_runs_in_peer_mode_with_a_throwaway_etcd_to_one_winner_and_its_history_checks()
    {
        await using var corral = Up(CorralBinary.Example("shootout-peer.yaml"), "--set", "tick=50ms");

        Assert.Equal(0, await corral.WaitForExitAsync(RunTimeout));

        Assert.NotEmpty(corral.PidsOf("etcd"));
        Assert.Single(corral.Lines, l => WinnerLine().IsMatch(l));
        Assert.Contains(corral.Lines, l => l.Contains("shots fired"));
        await AssertHistoryChecksAsync(corral);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task The_throwaway_etcd_listens_on_no_tcp_port_only_on_a_socket_in_a_0700_folder_and_comes_back_there_after_sigkill()
    {
        await using var corral = Up(_folder.Write("long.yaml", LongRound));
        await corral.WaitForLineAsync(l => ShotLine().IsMatch(l), RunTimeout, "shots");
        var etcd = corral.PidsOf("etcd")[^1];
        var folder = Path.Combine(Directory.GetDirectories(Path.Combine(_folder.Path, "data", "runs")).Single(), "data", "etcd");

        // On a loopback port, any local process could read and write the game: etcd asks for no password.
        Assert.Empty(Posix.ListeningTcpPorts(etcd));
        Assert.Contains("etcd.sock:0", Posix.ListeningUnixSockets(etcd));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));
        Assert.Contains(corral.Lines, l => Registered().IsMatch(l) && l.Contains($"; etcd at unix://{folder}/etcd.sock:0", StringComparison.Ordinal));

        // A SIGKILL leaves the socket files behind, and etcd will not bind over them: the restart must clear them.
        Posix.Signal(etcd, Posix.SigKill);
        await corral.WaitForLineAsync(l => EtcdReady().IsMatch(l), RunTimeout, "etcd ready again", skip: 1);
        var again = corral.PidsOf("etcd")[^1];
        Assert.NotEqual(etcd, again);
        Assert.Empty(Posix.ListeningTcpPorts(again));
        Assert.Equal(0, await corral.WaitForExitAsync(RunTimeout));
        Assert.Single(corral.Lines, l => WinnerLine().IsMatch(l));
    }

    [Fact]
    public async Task A_leader_killed_mid_game_is_replaced_within_5_seconds_and_the_game_has_one_winner()
    {
        await using var corral = Up(_folder.Write("long.yaml", LongRound));
        await corral.WaitForLineAsync(l => ShotLine().IsMatch(l), RunTimeout, "shots", skip: 15);
        var leaderLines = corral.Lines.Count(l => LeaderLine().IsMatch(l));
        var leader = LeaderLine().Match(corral.Lines.Last(l => LeaderLine().IsMatch(l))).Groups["node"].Value;
        var pid = corral.PidsOf(leader)[^1];

        var clock = Stopwatch.StartNew();
        Posix.Signal(pid, Posix.SigKill);
        await corral.WaitForLineAsync(l => LeaderLine().IsMatch(l), TimeSpan.FromSeconds(20), "a new leader", skip: leaderLines);
        var failover = clock.Elapsed;

        // A SIGKILLed leader's lease has to expire first: 1 s asked, which etcd raises to its minimum (2 s with its default
        // ticks), then a campaign and the line's way to this test; 3 s of margin on top holds with both cores busy.
        Assert.True(failover < TimeSpan.FromSeconds(5), $"the new leader took {failover.TotalSeconds:0.00} s");
        Assert.Equal(0, await corral.WaitForExitAsync(RunTimeout));
        Assert.Single(corral.Lines, l => WinnerLine().IsMatch(l));
        await AssertHistoryChecksAsync(corral);
    }

    [Fact]
    public async Task A_follower_killed_mid_game_returns_with_its_identity_and_its_current_health()
    {
        // Longer still: the restarted process must be back before the game ends.
        await using var corral = Up(_folder.Write("long.yaml", LongRound.Replace("health: 40", "health: 100")));
        await corral.WaitForLineAsync(l => LeaderLine().IsMatch(l), RunTimeout, "a leader");
        var leader = LeaderLine().Match(corral.Lines.First(l => LeaderLine().IsMatch(l))).Groups["node"].Value;
        var node = leader == "cowboy-2" ? "cowboy-3" : "cowboy-2";
        var name = Registered().Match(await corral.WaitForLineAsync(l => l.StartsWith(node + " ") && Registered().IsMatch(l), RunTimeout, $"{node}'s identity"))
            .Groups["cowboy"].Value;
        await corral.WaitForLineAsync(l => l.Contains($"just shot {name} ("), RunTimeout, $"{name} to be hit");

        Posix.Signal(corral.PidsOf(node)[0], Posix.SigKill);

        await Eventually.TrueAsync(() => corral.PidsOf(node).Count == 2, RunTimeout, $"{node} to be restarted");
        await corral.WaitForLineAsync(l => l.StartsWith(node + " ") && Registered().IsMatch(l), RunTimeout, $"{node} to come back", skip: 1);
        var comeback = corral.Lines.Where(l => l.StartsWith(node + " ") && Registered().IsMatch(l)).Select(l => Registered().Match(l)).ToArray();
        Assert.All(comeback, m => Assert.Equal(name, m.Groups["cowboy"].Value));
        var health = int.Parse(comeback[1].Groups["health"].Value);
        Assert.True(health < 100, $"{name} came back with health {health}: a restart must not heal it");
        Assert.Equal(0, await corral.WaitForExitAsync(RunTimeout));
        await AssertHistoryChecksAsync(corral);
    }

    [Fact]
    public async Task Against_a_3_member_etcd_cluster_a_member_killed_mid_game_still_gives_one_winner()
    {
        await using var etcd = await EtcdServer.StartAsync(3);
        await using var corral = Up(_folder.Write("long.yaml", LongRound), "--set", $"etcd={etcd.Endpoints}");
        await corral.WaitForLineAsync(l => ShotLine().IsMatch(l), RunTimeout, "shots", skip: 10);

        etcd.Kill(0);

        Assert.Equal(0, await corral.WaitForExitAsync(RunTimeout));
        Assert.Empty(corral.PidsOf("etcd"));
        Assert.Single(corral.Lines, l => WinnerLine().IsMatch(l));
        await AssertHistoryChecksAsync(corral);
    }

    [Fact]
    public async Task Ctrl_c_ends_etcd_and_every_cowboy()
    {
        await using var corral = Up(_folder.Write("long.yaml", LongRound));
        await corral.WaitForLineAsync(l => ShotLine().IsMatch(l), RunTimeout, "shots");
        var pids = corral.AllNodePids();
        Assert.NotEmpty(corral.PidsOf("etcd"));

        corral.Signal(Posix.SigInt);

        Assert.Equal(130, await corral.WaitForExitAsync(RunTimeout));
        Assert.All(pids, pid => Assert.False(Posix.IsAlive(pid), $"pid {pid} outlived corral"));
    }

    [Fact]
    public async Task Sigkill_of_the_supervisor_ends_etcd_and_every_cowboy()
    {
        await using var corral = Up(_folder.Write("long.yaml", LongRound));
        await corral.WaitForLineAsync(l => ShotLine().IsMatch(l), RunTimeout, "shots");
        var pids = corral.AllNodePids();
        Assert.Contains(corral.PidsOf("etcd")[0], pids);

        corral.Signal(Posix.SigKill);

        await Eventually.TrueAsync(() => pids.All(pid => !Posix.IsAlive(pid)), TimeSpan.FromSeconds(10), "etcd and every cowboy to end with the supervisor");
    }

    private CorralProcess Up(string topology, params string[] extra) =>
        CorralProcess.Start(_folder.Path, ["up", topology, "--ports", "dynamic", "--data", Path.Combine(_folder.Path, "data"), .. extra]);

    private async Task AssertHistoryChecksAsync(CorralProcess corral)
    {
        var folder = RunFolder().Match(corral.Lines.Last(l => RunFolder().IsMatch(l))).Groups["folder"].Value;
        var events = Path.Combine(folder, "events.jsonl");
        Assert.True(File.Exists(events), "the run keeps its history in events.jsonl");

        var (code, output) = await CorralProcess.RunAsync(_folder.Path, TimeSpan.FromMinutes(1), "check", folder);

        Assert.True(code == 0, output);
        Assert.Contains("passed", output);
        Assert.Single(File.ReadLines(events), l => l.Contains("\"kind\":\"winner\""));
        Assert.All(File.ReadLines(events), l => Assert.Contains("\"revision\":", l));
    }

    [GeneratedRegex(@"^round (?<round>\d+): \S+ wins$")]
    private static partial Regex WinnerLine();

    [GeneratedRegex(@"^cowboy-\d+\s*\| .*just shot \S+ \(")]
    private static partial Regex ShotLine();

    [GeneratedRegex(@"^corral\s*\| etcd ready$")]
    private static partial Regex EtcdReady();

    [GeneratedRegex(@"^(?<node>cowboy-\d+)\s*\| .*I, \S+, lead now")]
    private static partial Regex LeaderLine();

    [GeneratedRegex(@"I, (?<cowboy>[^,]+), am node \S+ cowboy \(health (?<health>\d+)")]
    private static partial Regex Registered();

    [GeneratedRegex(@"^run \S+: .* folder (?<folder>.+)$")]
    private static partial Regex RunFolder();

    public void Dispose() => _folder.Dispose();
}
