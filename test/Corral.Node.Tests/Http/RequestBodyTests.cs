using System.Text;
using Corral.Node.Http;
using Microsoft.AspNetCore.Http;

namespace Corral.Node.Tests.Http;

/// <summary>Reading a body whole: as it arrives, bounded in size and in time, every failure a 4xx.</summary>
public sealed class RequestBodyTests
{
    [Fact]
    public async Task A_body_is_read_whole_past_the_first_buffer()
    {
        var body = Encoding.UTF8.GetBytes(new string('x', RequestBody.InitialBytes * 5 + 3));

        var read = await RequestBody.ReadAsync(Request(new MemoryStream(body), body.Length), 1024 * 1024);

        Assert.Null(read.Problem);
        Assert.Equal(body, read.Span.ToArray());
    }

    [Fact]
    public async Task A_lying_content_length_sizes_no_buffer()
    {
        var request = Request(new MemoryStream(new byte[10]), claimed: 1024 * 1024);
        await RequestBody.ReadAsync(Request(new MemoryStream(new byte[10]), 10), 1024 * 1024); // warm-up

        var before = GC.GetAllocatedBytesForCurrentThread();
        var read = await RequestBody.ReadAsync(request, 1024 * 1024);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(10, read.Length);
        Assert.True(allocated < 16 * 1024, $"10 bytes that claimed 1 MiB allocated {allocated} bytes");
    }

    [Theory]
    [InlineData(100L)]
    [InlineData(null)]
    public async Task A_body_over_the_limit_is_413_whatever_its_header_says(long? claimed)
    {
        var read = await RequestBody.ReadAsync(Request(new MemoryStream(new byte[5000]), claimed), 4096, "send less");

        Assert.Equal(StatusCodes.Status413PayloadTooLarge, read.Problem!.StatusCode);
        Assert.Equal("the body may be at most 4096 bytes: send less", read.Problem.ProblemDetails.Detail);
    }

    [Fact]
    public async Task A_body_that_does_not_arrive_in_time_is_408()
    {
        var read = await RequestBody.ReadAsync(Request(new StalledStream(), 100), 4096, timeout: TimeSpan.FromMilliseconds(100))
            .WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(StatusCodes.Status408RequestTimeout, read.Problem!.StatusCode);
    }

    [Fact]
    public async Task Kestrels_own_verdict_on_a_body_keeps_its_status()
    {
        var read = await RequestBody.ReadAsync(Request(new FailingStream(), 100), 4096);

        Assert.Equal(StatusCodes.Status408RequestTimeout, read.Problem!.StatusCode);
    }

    private static HttpRequest Request(Stream body, long? claimed)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.ContentLength = claimed;
        context.Request.Body = body;
        return context.Request;
    }

    /// <summary>A client that sent its headers and then nothing.</summary>
    private sealed class StalledStream : MemoryStream
    {
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }
    }

    /// <summary>What Kestrel throws when a body arrives below the minimum data rate.</summary>
    private sealed class FailingStream : MemoryStream
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            throw new BadHttpRequestException("Reading the request body timed out due to data arriving too slowly.", StatusCodes.Status408RequestTimeout);
    }
}
