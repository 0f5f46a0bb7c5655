using System.Diagnostics;
using Corral.Node.Randomness;
using Corral.Node.Resilience;

namespace Corral.Node.Tests.Resilience;

public sealed class BackoffTests
{
    private static readonly BackoffOptions Steps = new() { Initial = TimeSpan.FromMilliseconds(100), Max = TimeSpan.FromSeconds(1) };

    private static Backoff Create(BackoffOptions options, string actor = "cowboy-1/retry") =>
        new(options, TimeProvider.System, new SeededRandom(42, actor));

    [Fact]
    public void Without_jitter_each_wait_doubles_up_to_the_cap()
    {
        var backoff = Create(Steps with { Jitter = 0 });
        Assert.Equal([100, 200, 400, 800, 1000, 1000], Enumerable.Range(0, 6).Select(_ => backoff.Next().TotalMilliseconds));
        Assert.Equal(6, backoff.Attempt);
    }

    [Fact]
    public void Jitter_shortens_each_step_by_a_seeded_share_and_never_passes_the_cap()
    {
        var backoff = Create(Steps);
        var waits = Enumerable.Range(1, 200).Select(_ => backoff.Next()).ToArray();
        for (var i = 0; i < waits.Length; i++)
        {
            var step = Math.Min(100 * Math.Pow(2, i), 1000);
            Assert.InRange(waits[i].TotalMilliseconds, step / 2, step);
        }

        // Jittered: the capped waits are not all alike. Seeded: the same actor waits the same, another does not.
        Assert.True(waits.Skip(4).Distinct().Count() > 100);
        var again = Create(Steps);
        Assert.Equal(waits, Enumerable.Range(1, 200).Select(_ => again.Next()));
        var other = Create(Steps, "cowboy-2/retry");
        Assert.NotEqual(waits, Enumerable.Range(1, 200).Select(_ => other.Next()));
    }

    [Fact]
    public void Reset_after_a_success_starts_again_from_the_first_step()
    {
        var backoff = Create(Steps with { Jitter = 0 });
        for (var i = 0; i < 5; i++) backoff.Next();
        backoff.Reset();
        Assert.Equal(0, backoff.Attempt);
        Assert.Equal(TimeSpan.FromMilliseconds(100), backoff.Next());
    }

    [Fact]
    public async Task Once_trouble_has_lasted_the_budget_the_loop_is_told_to_give_up()
    {
        var budget = TimeSpan.FromMilliseconds(200);
        var backoff = Create(new BackoffOptions { Initial = TimeSpan.FromMilliseconds(10), Max = TimeSpan.FromMilliseconds(40), Budget = budget });
        var clock = Stopwatch.StartNew();
        var retries = 0;
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (await backoff.WaitAsync(bound.Token)) retries++;
        Assert.True(clock.Elapsed >= budget, $"gave up after {clock.Elapsed.TotalMilliseconds} ms, before the {budget.TotalMilliseconds} ms budget");
        // Retried meanwhile (how often depends on how busy the machine is: the clock here is the real one).
        Assert.True(retries >= 1, "gave up without a single retry");

        // A success gives the next trouble the whole budget again.
        backoff.Reset();
        Assert.True(await backoff.WaitAsync(bound.Token));
    }

    [Theory]
    [InlineData(0, 1000, 0.5, "initial")]
    [InlineData(500, 100, 0.5, "largest")]
    [InlineData(100, 1000, 1.5, "jitter")]
    public void Options_out_of_range_are_refused_naming_the_setting(int initialMs, int maxMs, double jitter, string named)
    {
        var options = new BackoffOptions { Initial = TimeSpan.FromMilliseconds(initialMs), Max = TimeSpan.FromMilliseconds(maxMs), Jitter = jitter };
        Assert.Contains(named, Assert.Throws<ArgumentException>(() => Create(options)).Message);
    }
}
