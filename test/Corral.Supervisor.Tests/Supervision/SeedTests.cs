using Corral.Supervisor.Supervision;

namespace Corral.Supervisor.Tests.Supervision;

/// <summary>The run's seed is printed at start, stored in <c>run.json</c>, and kept by <c>--resume</c>.</summary>
public sealed class SeedTests
{
    [Fact]
    public async Task The_seed_is_among_the_supervisors_first_lines_and_in_run_json()
    {
        await using var h = await new Harness(StubApp.Loaded(StubApp.Role("a", 1)), o => o with { Seed = 4242, ExplicitSeed = true }).StartAsync();

        var first = h.Sink.Of("corral").Take(3).Select(l => l.Line).ToArray();
        Assert.Contains("seed 4242", first);
        Assert.Equal(4242, h.Supervisor.Run.ReadSummary()!.Seed);

        var result = await h.StopAsync();
        Assert.Equal(4242, result.Run.ReadSummary()!.Seed);
    }

    [Fact]
    public async Task A_resumed_run_keeps_its_stored_seed_unless_one_is_given()
    {
        var app = StubApp.Loaded(StubApp.Role("a", 1));
        await using var first = await new Harness(app, o => o with { Seed = 4242, ExplicitSeed = true }).StartAsync();
        var runId = first.Supervisor.Run.RunId;
        await first.StopAsync();

        // No seed given: the fresh one the command line drew is replaced by the run's own.
        await using (var resumed = await new Harness(app, o => o with
                     {
                         DataDirectory = first.DataDirectory, ResumeRunId = runId, Seed = 99, ExplicitSeed = false,
                     }).StartAsync())
        {
            Assert.Equal(4242, resumed.Supervisor.Seed);
            Assert.Contains("seed 4242", resumed.Sink.Of("corral").Take(3).Select(l => l.Line));
            Assert.Equal(4242, resumed.Supervisor.Run.ReadSummary()!.Seed);
            await resumed.StopAsync();
        }

        // A seed given on the command line wins, and is what the run records from now on.
        await using var overridden = await new Harness(app, o => o with
        {
            DataDirectory = first.DataDirectory, ResumeRunId = runId, Seed = 7, ExplicitSeed = true,
        }).StartAsync();
        Assert.Equal(7, overridden.Supervisor.Seed);
        Assert.Equal(7, overridden.Supervisor.Run.ReadSummary()!.Seed);
    }
}
