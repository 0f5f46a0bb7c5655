using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Corral.Balancer.Config;
using Corral.Balancer.Tests.Helpers;

namespace Corral.Balancer.Tests.Proxy;

/// <summary>The exchange's deadlines on real sockets: they bound the worker, never a healthy client's upload.</summary>
public sealed class TimeoutTests
{
    [Fact]
    public async Task An_upload_slower_than_the_attempt_and_request_timeouts_succeeds()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var lb = await Balancers.StartAsync(Balancers.Config(c => c with
        {
            Timeouts = new TimeoutConfig { Attempt = TimeSpan.FromMilliseconds(500), Request = TimeSpan.FromMilliseconds(600), Activity = TimeSpan.FromSeconds(5) },
        }), backend.Url);
        using var client = TestNodes.Client(lb.Port);

        // Six chunks 300 ms apart: 1.5 s of upload, over twice the request timeout, and never idle for long.
        var content = new SlowContent(chunks: 6, chunkBytes: 1000, pause: TimeSpan.FromMilliseconds(300));
        using var response = await client.PostAsync("/upload", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(6000, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("bytes").GetInt64());
        var worker = (await client.GetFromJsonAsync<JsonElement>("/lb/stats")).GetProperty("workers")[0];
        Assert.Equal(0, worker.GetProperty("failures").GetInt64());
    }

    [Fact]
    public async Task A_worker_that_stalls_after_its_headers_is_cut_by_the_activity_timeout_and_its_slot_is_freed()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var lb = await Balancers.StartAsync(Balancers.Config(c => c with
        {
            Timeouts = new TimeoutConfig { Activity = TimeSpan.FromMilliseconds(300) },
            Passive = new PassiveHealthConfig { ConsecutiveFailures = 100 },
        }), backend.Url);
        using var client = TestNodes.Client(lb.Port);

        using var response = await client.GetAsync("/stall-after-headers", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var body = await response.Content.ReadAsStreamAsync();
        // The first chunk arrives, then the worker is silent: the balancer resets the client's connection rather than
        // let a truncated answer look complete, long before the worker's 20 s.
        var started = DateTime.UtcNow;
        await Assert.ThrowsAnyAsync<Exception>(async () => await body.CopyToAsync(Stream.Null).WaitAsync(TestNodes.Wait));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5), "the stalled answer was not cut by timeouts.activity");

        await Eventually.TrueAsync(() => backend.Aborted == 1, TestNodes.Wait, "the worker's request to be cancelled");
        await Eventually.TrueAsync(() => lb.Pool.All[0].InFlight == 0, TestNodes.Wait, "the stalled attempt's slot to be freed");
        var worker = (await client.GetFromJsonAsync<JsonElement>("/lb/stats")).GetProperty("workers")[0];
        Assert.Equal(1, worker.GetProperty("failures").GetInt64());
    }

    [Fact]
    public async Task A_reloaded_attempt_timeout_applies_from_the_next_request_without_a_restart()
    {
        await using var first = await TestBackend.StartAsync("first");
        await using var second = await TestBackend.StartAsync("second");
        await using var lb = await Balancers.StartAsync(Balancers.Config(c => c with
        {
            // Generous for the fast worker's first answer on a loaded machine, far below the slow one's 20 s.
            Timeouts = new TimeoutConfig { Attempt = TimeSpan.FromSeconds(1) },
        }), first.Url, second.Url);
        using var client = TestNodes.Client(lb.Port);
        using (var response = await client.GetAsync("/slow-on/first"))
            Assert.Equal("\"second\"", await response.Content.ReadAsStringAsync());

        // Reloaded: the slow worker now gets 60 s, so the next request to it waits for it, and is cut only by the client.
        lb.State.Update(lb.State.Config with { Timeouts = new TimeoutConfig { Attempt = TimeSpan.FromSeconds(60) } });
        using var impatient = TestNodes.Client(lb.Port, TimeSpan.FromSeconds(3));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => impatient.GetAsync("/slow-on/first"));
        Assert.Equal(2, first.SlowStarted);
    }

    /// <summary>A request body sent in chunks with pauses between them, as a slow but live client uploads.</summary>
    private sealed class SlowContent(int chunks, int chunkBytes, TimeSpan pause) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var chunk = new byte[chunkBytes];
            for (var i = 0; i < chunks; i++)
            {
                await stream.WriteAsync(chunk);
                await stream.FlushAsync();
                if (i < chunks - 1) await Task.Delay(pause);
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = (long)chunks * chunkBytes;
            return true;
        }
    }
}
