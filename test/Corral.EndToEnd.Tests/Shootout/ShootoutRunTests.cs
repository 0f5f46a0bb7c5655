using System.Text.RegularExpressions;

namespace Corral.EndToEnd.Tests.Shootout;

/// <summary>The real CLI runs a server-mode shootout; processes are really killed; every history is checked.</summary>
[Collection(EndToEnd.Collection)]
public sealed partial class ShootoutRunTests : IDisposable
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(2);
    private readonly TempFolder _folder = new();

    /// <summary>Long enough to kill something mid-round: every cowboy has 60 health and shoots every 150 ms.</summary>
    private const string LongRound = """
        app: shootout
        mode: server
        tick: 150ms
        seed: 7
        rounds: 1
        cowboys:
          - {name: John, health: 60, damage: 1}
          - {name: Bill, health: 60, damage: 2}
          - {name: Sam, health: 60, damage: 1}
          - {name: Peter, health: 60, damage: 3}
          - {name: Philip, health: 60, damage: 1}
        """;

    [Fact]
    public async Task The_example_runs_to_one_winner_exits_zero_and_its_history_checks()
    {
        await using var corral = Up(CorralBinary.Example("shootout.yaml"), "--set", "tick=50ms");

        Assert.Equal(0, await corral.WaitForExitAsync(RunTimeout));

        Assert.Single(corral.Lines, l => WinnerLine().IsMatch(l));
        Assert.Contains(corral.Lines, l => l.Contains("shots fired"));
        await AssertHistoryChecksAsync(corral, expectedWinners: 1);
    }

    [Fact]
    public async Task Three_rounds_give_three_winners()
    {
        await using var corral = Up(CorralBinary.Example("shootout.yaml"), "--set", "tick=50ms", "--set", "rounds=3");

        Assert.Equal(0, await corral.WaitForExitAsync(RunTimeout));

        Assert.Equal(["1", "2", "3"], corral.Lines.Select(l => WinnerLine().Match(l)).Where(m => m.Success).Select(m => m.Groups["round"].Value));
        await AssertHistoryChecksAsync(corral, expectedWinners: 3);
    }

    [Fact]
    public async Task Seed_001s_resource_runs_unchanged_in_server_mode_with_one_override()
    {
        await using var corral = Up(CorralBinary.Example("originals/shootout-001-shootout.yaml"), "--set", "mode=server", "--set", "tick=50ms");

        Assert.Equal(0, await corral.WaitForExitAsync(RunTimeout));

        Assert.Contains(corral.Lines, l => l.Contains("warning: key 'metadata' has no meaning in Corral and is ignored"));
        Assert.Single(corral.Lines, l => WinnerLine().IsMatch(l));
        await AssertHistoryChecksAsync(corral, expectedWinners: 1);
    }

    [Fact]
    public async Task Seed_000s_own_list_shaped_file_takes_set_overrides_and_the_run_prints_and_keeps_its_seed()
    {
        await using var corral = Up(CorralBinary.Example("originals/shootout-000-config.json"), "--set", "tick=50ms", "--seed", "31");

        Assert.Equal(0, await corral.WaitForExitAsync(RunTimeout));

        Assert.Contains("corral | seed 31", corral.Lines.Take(5).Select(l => Regex.Replace(l, @"\s+\|", " |")));
        Assert.Single(corral.Lines, l => WinnerLine().IsMatch(l));
        var folder = RunFolder().Match(corral.Lines.Last(l => RunFolder().IsMatch(l))).Groups["folder"].Value;
        Assert.Contains("\"seed\": 31", File.ReadAllText(Path.Combine(folder, "run.json")));
        await AssertHistoryChecksAsync(corral, expectedWinners: 1);
    }

    [Fact]
    public async Task A_server_killed_mid_round_is_restarted_resumes_and_the_round_still_has_one_winner()
    {
        await using var corral = Up(_folder.Write("long.yaml", LongRound));
        await corral.WaitForLineAsync(l => ServerShot().IsMatch(l), RunTimeout, "shots at the server", skip: 10);
        var first = Assert.Single(corral.PidsOf("server"));

        Posix.Signal(first, Posix.SigKill);

        await Eventually.TrueAsync(() => corral.PidsOf("server").Count == 2, RunTimeout, "the server to be restarted");
        await corral.WaitForLineAsync(l => l.Contains("Resumed run"), RunTimeout, "the server to resume from its store");
        Assert.Equal(0, await corral.WaitForExitAsync(RunTimeout));
        Assert.Single(corral.Lines, l => WinnerLine().IsMatch(l));
        await AssertHistoryChecksAsync(corral, expectedWinners: 1);
    }

    [Fact]
    public async Task A_cowboy_killed_mid_round_returns_with_its_identity_and_its_current_health()
    {
        await using var corral = Up(_folder.Write("long.yaml", LongRound));
        var bound = await corral.WaitForLineAsync(l => l.Contains(" is node cowboy-2 "), RunTimeout, "cowboy-2's identity");
        var name = NodeBinding().Match(bound).Groups["cowboy"].Value;
        await corral.WaitForLineAsync(l => l.StartsWith("server") && l.Contains($" shot {name} ("), RunTimeout, $"{name} to be hit");
        var first = Assert.Single(corral.PidsOf("cowboy-2"));

        Posix.Signal(first, Posix.SigKill);

        await Eventually.TrueAsync(() => corral.PidsOf("cowboy-2").Count == 2, RunTimeout, "cowboy-2 to be restarted");
        var registrations = await WaitForRegistrationsAsync(corral, "cowboy-2", 2);
        Assert.All(registrations, r => Assert.Equal(name, r.Name));
        Assert.True(registrations[1].Health < 60, $"{name} came back with health {registrations[1].Health}: a restart must not heal it");
        Assert.Equal(0, await corral.WaitForExitAsync(RunTimeout));
        await AssertHistoryChecksAsync(corral, expectedWinners: 1);
    }

    private CorralProcess Up(string topology, params string[] extra) =>
        CorralProcess.Start(_folder.Path, ["up", topology, "--ports", "dynamic", "--data", Path.Combine(_folder.Path, "data"), .. extra]);

    private static async Task<IReadOnlyList<(string Name, int Health)>> WaitForRegistrationsAsync(CorralProcess corral, string nodeId, int count)
    {
        bool Matches(string l) => l.StartsWith(nodeId + " ") && CowboyRegistered().IsMatch(l);
        await corral.WaitForLineAsync(Matches, RunTimeout, $"{nodeId} to register {count} times", skip: count - 1);
        return corral.Lines.Where(Matches)
            .Select(l => CowboyRegistered().Match(l))
            .Select(m => (m.Groups["cowboy"].Value, int.Parse(m.Groups["health"].Value)))
            .ToArray();
    }

    private async Task AssertHistoryChecksAsync(CorralProcess corral, int expectedWinners)
    {
        var folder = RunFolder().Match(corral.Lines.Last(l => RunFolder().IsMatch(l))).Groups["folder"].Value;
        Assert.True(File.Exists(Path.Combine(folder, "events.jsonl")), "the run keeps its history in events.jsonl");

        var (code, output) = await CorralProcess.RunAsync(_folder.Path, TimeSpan.FromMinutes(1), "check", folder);

        Assert.True(code == 0, output);
        Assert.Contains("passed", output);
        Assert.Equal(expectedWinners, File.ReadLines(Path.Combine(folder, "events.jsonl")).Count(l => l.Contains("\"kind\":\"winner\"")));
    }

    [GeneratedRegex(@"^round (?<round>\d+): \S+ wins$")]
    private static partial Regex WinnerLine();

    [GeneratedRegex(@"^server\s*\| .* \S+ shot \S+ \(")]
    private static partial Regex ServerShot();

    [GeneratedRegex(@" (?<cowboy>\S+) is node cowboy-\d+ ")]
    private static partial Regex NodeBinding();

    [GeneratedRegex(@"I, (?<cowboy>[^,]+), have registered \(health (?<health>\d+)")]
    private static partial Regex CowboyRegistered();

    [GeneratedRegex(@"^run \S+: .* folder (?<folder>.+)$")]
    private static partial Regex RunFolder();

    public void Dispose() => _folder.Dispose();
}
