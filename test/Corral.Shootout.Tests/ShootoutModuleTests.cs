using System.Text.Json;
using Corral.Node.Control;
using Corral.Shootout.Checking;
using Corral.Shootout.Config;
using Corral.Shootout.Game;
using Corral.Shootout.Server;
using Corral.Shootout.Tests.Helpers;

namespace Corral.Shootout.Tests;

public sealed class ShootoutModuleTests
{
    [Fact]
    public void Module_names_its_app_and_roles()
    {
        var module = new ShootoutModule();
        Assert.Equal("shootout", module.Name);
        Assert.Equal(["shootout.server", "shootout.cowboy"], module.Roles);
    }

    [Fact]
    public void Check_reads_the_run_folder_history()
    {
        using var dir = new TempFolder();
        var game = new ShootoutGame(Configs.Of(TimeSpan.Zero, cowboys: [("A", 1, 1), ("B", 1, 1)]), 1);
        var events = new List<GameEvent>();
        game.Register("cowboy-1", DateTimeOffset.UnixEpoch, events);
        game.Register("cowboy-2", DateTimeOffset.UnixEpoch, events);
        game.Shoot("A", "cowboy-1", DateTimeOffset.UnixEpoch, events);
        File.WriteAllLines(dir.Combine(ShootoutChecker.EventsFile), events.Select(e => JsonSerializer.Serialize(e, GameEventJson.Default.GameEvent)));

        var report = new ShootoutModule().Check(dir.Path);
        Assert.True(report.Passed, string.Join("; ", report.Violations));
        Assert.Contains("round 1: A wins", report.Facts);

        File.AppendAllText(dir.Combine(ShootoutChecker.EventsFile), "not json\n");
        var broken = new ShootoutModule().Check(dir.Path);
        Assert.False(broken.Passed);
        Assert.StartsWith("line 7: malformed-line:", Assert.Single(broken.Violations));
    }

    [Fact]
    public void Outcome_lists_winners_duration_shots_and_damage_per_cowboy()
    {
        var summary = new ShootoutSummary
        {
            Rounds = 2,
            Winners = [new RoundWinner(1, "Philip", DateTimeOffset.UnixEpoch), new RoundWinner(2, "Bill", DateTimeOffset.UnixEpoch)],
            DurationMs = 65_000,
            ShotsFired = 42,
            Cowboys = [new CowboyTotals("Philip", 1, 30, 30, 12), new CowboyTotals("Bill", 1, 12, 24, 42)],
        };
        var lines = new ShootoutModule().DescribeOutcome(JsonSerializer.SerializeToElement(summary, JsonSerializerOptions.Web), "/runs/r1").ToArray();
        Assert.Equal("round 1: Philip wins", lines[0]);
        Assert.Equal("round 2: Bill wins", lines[1]);
        Assert.Contains("42 shots fired", lines[2]);
        Assert.Contains("1:05", lines[2]);
        Assert.Contains(lines, l => l.StartsWith("Philip") && l.Contains("30") && l.Contains("12"));
        Assert.Equal("history: /runs/r1/events.jsonl", lines[^1]);
    }

    [Fact]
    public async Task RunNodeAsync_runs_the_server_role_until_cancelled_and_exits_0()
    {
        await using var control = await ControlApiStub.StartAsync();
        using var dir = new TempFolder();
        var config = Configs.Many(2, 5, 1, TimeSpan.Zero);
        var module = new ShootoutModule();
        using var stop = new CancellationTokenSource();
        var run = module.RunNodeAsync(ShootoutPlan.ServerRole, control.Context("server", ShootoutPlan.ServerRole, dir.Path, config.ToJson()), [], stop.Token);
        var port = await control.PortOf("server").WaitAsync(TimeSpan.FromSeconds(20));

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestNodeContext.CredentialOf("cowboy-1", ShootoutPlan.CowboyRole));
        using var response = await http.PostAsync("/register", new StringContent("{\"nodeId\": \"cowboy-1\"}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);

        await stop.CancelAsync();
        Assert.Equal(0, await run.WaitAsync(TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public async Task RunNodeAsync_refuses_an_unknown_role()
    {
        await using var control = await ControlApiStub.StartAsync();
        using var dir = new TempFolder();
        var config = Configs.Many(2, 5, 1, TimeSpan.Zero);
        var e = await Assert.ThrowsAsync<ArgumentException>(() =>
            new ShootoutModule().RunNodeAsync("shootout.sheriff", control.Context("x", "shootout.sheriff", dir.Path, config.ToJson()), [], CancellationToken.None));
        Assert.Contains("shootout.server or shootout.cowboy", e.Message);
    }
}
