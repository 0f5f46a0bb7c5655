namespace Corral.Shootout.Tests.Helpers;

/// <summary>Bounded waits for a condition that another thread makes true.</summary>
public static class Until
{
    /// <summary>Polls <paramref name="condition"/> every few milliseconds; fails the test naming <paramref name="what"/> after <paramref name="bound"/>.</summary>
    public static async Task TrueAsync(Func<bool> condition, TimeSpan bound, string what)
    {
        var deadline = DateTime.UtcNow + bound;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"waited {bound.TotalSeconds:0.#} s for {what}");
            await Task.Delay(5);
        }
    }
}
