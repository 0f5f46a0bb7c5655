using System.Text;
using Corral.Counter.Items;
using Corral.Node.Nodes;
using Microsoft.AspNetCore.Http;

namespace Corral.Counter.Tests.Items;

/// <summary>The <c>POST /items</c> body reader: it grows with what arrives, whatever the client's Content-Length claims.</summary>
public sealed class BodyReaderTests
{
    [Fact]
    public async Task A_lying_content_length_allocates_nothing_near_what_it_claims()
    {
        var body = Encoding.UTF8.GetBytes("""[{"id":"1","tenant":"t1"}]""");
        var request = Request(body, claimed: NodeHost.DefaultMaxRequestBodyBytes);
        await BodyReader.ReadAsync(Request(body, claimed: body.Length), NodeHost.DefaultMaxRequestBodyBytes); // warm-up: JIT, pools

        var before = GC.GetAllocatedBytesForCurrentThread();
        var (read, length, problem) = await BodyReader.ReadAsync(request, NodeHost.DefaultMaxRequestBodyBytes);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Null(problem);
        Assert.Equal(body, read!.AsSpan(0, length).ToArray());
        // A 1 MiB claim with a 26-byte body: a buffer sized from the header would be 1 MiB per request.
        Assert.True(allocated < 64 * 1024, $"reading a {body.Length}-byte body that claimed 1 MiB allocated {allocated} bytes");
    }

    [Fact]
    public async Task A_body_over_the_limit_is_413_whatever_its_content_length_said()
    {
        var request = Request(new byte[5000], claimed: 100);

        var (_, _, problem) = await BodyReader.ReadAsync(request, 4096);

        Assert.Equal(StatusCodes.Status413PayloadTooLarge, problem!.StatusCode);
    }

    private static HttpRequest Request(byte[] body, long claimed)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.ContentLength = claimed;
        context.Request.Body = new MemoryStream(body);
        return context.Request;
    }
}
