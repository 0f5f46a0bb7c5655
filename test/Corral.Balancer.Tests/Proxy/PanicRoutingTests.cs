using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Corral.Balancer.Config;
using Corral.Balancer.Tests.Helpers;

namespace Corral.Balancer.Tests.Proxy;

/// <summary>When too few workers look healthy, the balancer routes to all of them rather than overload the few or answer 503.</summary>
public sealed class PanicRoutingTests
{
    private static async Task<(int[] Served, JsonElement Stats)> RouteAsync(double threshold)
    {
        var backends = await Task.WhenAll(Enumerable.Range(1, 3).Select(i => TestBackend.StartAsync($"w{i}")));
        try
        {
            await using var lb = await Balancers.StartAsync(Balancers.Config(c => c with
            {
                PanicThresholdPercent = threshold,
                Passive = c.Passive with { BaseEjection = TimeSpan.FromMinutes(5), MaxEjection = TimeSpan.FromMinutes(5) },
            }), backends.Select(b => b.Url).ToArray());
            // Two of three ejected by passive health: one third healthy.
            foreach (var backend in lb.Pool.All.Take(2))
                backend.Outlier.RecordFailure(DateTimeOffset.UtcNow, lb.State.Config.Passive, immediate: true);

            using var client = TestNodes.Client(lb.Port);
            for (var i = 0; i < 30; i++)
            {
                using var response = await client.GetAsync("/slow-on/nobody");
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            return (backends.Select(b => b.Requests).ToArray(), await client.GetFromJsonAsync<JsonElement>("/lb/stats"));
        }
        finally
        {
            foreach (var backend in backends) await backend.DisposeAsync();
        }
    }

    [Fact]
    public async Task Below_the_threshold_every_worker_is_used_and_the_panic_is_counted()
    {
        var (served, stats) = await RouteAsync(threshold: 50);
        Assert.All(served, n => Assert.Equal(10, n));
        Assert.True(stats.GetProperty("panic").GetBoolean());
        Assert.Equal(30, stats.GetProperty("panicRequests").GetInt64());
    }

    [Fact]
    public async Task A_threshold_of_zero_turns_panic_routing_off()
    {
        var (served, stats) = await RouteAsync(threshold: 0);
        Assert.Equal([0, 0, 30], served);
        Assert.False(stats.GetProperty("panic").GetBoolean());
        Assert.Equal(0, stats.GetProperty("panicRequests").GetInt64());
    }
}
