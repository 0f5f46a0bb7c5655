using Corral.Balancer.Config;
using Corral.Balancer.Proxy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;

namespace Corral.Balancer.Tests.Proxy;

/// <summary>The body kept for a retry grows with what arrives; a Content-Length is a claim, not an allocation size.</summary>
public sealed class RetryBufferTests
{
    private const int Claimed = 64 * 1024 * 1024;

    [Fact]
    public async Task A_lying_content_length_allocates_nothing_near_what_it_claims()
    {
        var time = new FakeTimeProvider();
        await BufferAsync(new byte[16], 16, time); // warm-up: JIT

        var before = GC.GetAllocatedBytesForCurrentThread();
        var buffered = await BufferAsync(new byte[16], Claimed, time);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // The client claimed 64 MiB (retries.buffer-body raised that high) and sent 16 bytes before its side ended.
        Assert.Null(buffered);
        Assert.True(allocated < 1024 * 1024, $"buffering 16 bytes of a body that claimed 64 MiB allocated {allocated} bytes");
    }

    [Fact]
    public async Task A_whole_body_is_kept_byte_for_byte()
    {
        var body = Enumerable.Range(0, 100_000).Select(i => (byte)i).ToArray();

        var buffered = await BufferAsync(body, body.Length, new FakeTimeProvider());

        Assert.Equal(body, buffered);
    }

    private static async Task<byte[]?> BufferAsync(byte[] arriving, int claimed, TimeProvider time)
    {
        var context = new DefaultHttpContext();
        using var exchange = new Exchange(time, new TimeoutConfig(), hasBody: true);
        return await BalancerProxy.BufferBodyAsync(context, new MemoryStream(arriving), claimed, exchange);
    }
}
