using Xunit;

namespace Corral.Testing;

/// <summary>Bounded waits for a condition another thread or process makes true, polling; never a fixed sleep.</summary>
public static class Eventually
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(20);

    /// <summary>Polls <paramref name="condition"/>; fails the test naming <paramref name="what"/> after <paramref name="timeout"/>.</summary>
    public static Task TrueAsync(Func<bool> condition, TimeSpan timeout, string what) =>
        TrueAsync(_ => Task.FromResult(condition()), timeout, () => what);

    /// <summary>The same, describing the wait only when it fails, so the description can show the state it ended in.</summary>
    public static Task TrueAsync(Func<bool> condition, TimeSpan timeout, Func<string> describe) =>
        TrueAsync(_ => Task.FromResult(condition()), timeout, describe);

    /// <summary>The same for a condition that has to ask over the network; each check is bounded by what is left.</summary>
    public static Task TrueAsync(Func<CancellationToken, Task<bool>> condition, TimeSpan timeout, string what) =>
        TrueAsync(condition, timeout, () => what);

    private static async Task TrueAsync(Func<CancellationToken, Task<bool>> condition, TimeSpan timeout, Func<string> describe)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            try
            {
                if (await condition(cts.Token)) return;
                await Task.Delay(Poll, cts.Token);
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested)
            {
                Assert.Fail($"waited {timeout.TotalSeconds:0.#} s for {describe()}");
            }
        }
    }
}
