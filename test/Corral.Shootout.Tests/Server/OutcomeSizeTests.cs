using System.Text.Json;
using Corral.Node.Control;
using Corral.Shootout.Config;
using Corral.Shootout.Game;
using Corral.Shootout.Server;

namespace Corral.Shootout.Tests.Server;

/// <summary>The outcome the server reports must fit the control API's body limit, however large a valid shootout is.</summary>
public sealed class OutcomeSizeTests
{
    [Theory]
    [InlineData(300, 1)]
    [InlineData(ShootoutConfigReader.MaxCowboys, 1)]
    [InlineData(ShootoutConfigReader.MaxCowboys, 1000)]
    [InlineData(ShootoutConfigReader.MaxCowboys, 10_000)]
    public void The_outcome_of_a_shootout_with_the_longest_names_and_largest_counts_fits_the_control_api(int cowboys, int rounds)
    {
        Assert.True(ShootoutConfigReader.MaxCowboys == 1000, "the largest case below follows the loader's limits: update it");
        var names = Enumerable.Range(0, cowboys).Select(i => i.ToString("D6") + new string('n', ShootoutConfigReader.MaxNameLength - 6)).ToArray();
        var summary = new ShootoutSummary
        {
            Rounds = rounds,
            Winners = Enumerable.Range(1, rounds).Select(r => new RoundWinner(r, names[r % cowboys], DateTimeOffset.MaxValue.AddTicks(-1))).ToArray(),
            DurationMs = double.MaxValue,
            ShotsFired = long.MaxValue,
            Cowboys = names.Select(n => new CowboyTotals(n, int.MaxValue, long.MaxValue, long.MaxValue, long.MaxValue)).ToArray(),
        };

        // Exactly what ShootoutServer sends: the summary as a JSON element inside the outcome.
        var outcome = new RunOutcome(true, JsonSerializer.SerializeToElement(summary, JsonSerializerOptions.Web));
        var bytes = JsonSerializer.SerializeToUtf8Bytes(outcome, JsonSerializerOptions.Web).Length;

        Assert.True(bytes <= ControlLimits.MaxOutcomeBytes, $"{cowboys} cowboys over {rounds} rounds: {bytes} bytes > {ControlLimits.MaxOutcomeBytes}");
    }
}
