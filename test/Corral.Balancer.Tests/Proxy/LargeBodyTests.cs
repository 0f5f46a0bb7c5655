using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Corral.Balancer.Tests.Helpers;

namespace Corral.Balancer.Tests.Proxy;

[Collection(Serial.Name)]
public sealed class LargeBodyTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const long Size = 100L * 1024 * 1024;

    /// <summary>
    /// Allocations of the whole process (client, balancer and backend live in it) while 100 MB pass through: streaming
    /// keeps them far below the body's size.
    /// </summary>
    private static long AllocatedBytes() => GC.GetTotalAllocatedBytes(precise: true);

    [Fact]
    public async Task Hundred_megabyte_download_and_upload_stream_with_bounded_memory()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var lb = await Balancers.StartAsync(Balancers.Config(), backend.Url);
        using var client = TestNodes.Client(lb.Port, TimeSpan.FromSeconds(60));
        // Warm the paths so JIT and connection set-up are not counted.
        using (var warm = await client.GetAsync("/download/1024")) Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        using (var warm = await client.PostAsync("/upload", new StreamContent(new PatternStream(1024)))) Assert.Equal(HttpStatusCode.OK, warm.StatusCode);

        var before = AllocatedBytes();
        using (var response = await client.GetAsync($"/download/{Size}", HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(Size, response.Content.Headers.ContentLength);
            await using var body = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[64 * 1024];
            long total = 0;
            int read;
            var expected = new PatternStream(Size);
            var check = new byte[64 * 1024];
            while ((read = await body.ReadAsync(buffer)) > 0)
            {
                expected.ReadExactly(check, 0, read);
                Assert.True(buffer.AsSpan(0, read).SequenceEqual(check.AsSpan(0, read)));
                total += read;
            }

            Assert.Equal(Size, total);
        }

        var download = AllocatedBytes() - before;

        before = AllocatedBytes();
        var content = new StreamContent(new PatternStream(Size), 64 * 1024);
        content.Headers.ContentLength = Size;
        using (var response = await client.PostAsync("/upload", content))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var reply = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(Size, reply.GetProperty("bytes").GetInt64());
        }

        var upload = AllocatedBytes() - before;
        output.WriteLine($"allocated while 100 MiB passed: download {download / 1048576.0:F1} MiB, upload {upload / 1048576.0:F1} MiB");
        Assert.True(download < 16 * 1024 * 1024, $"download allocated {download / 1024 / 1024.0:F1} MiB for a 100 MiB body");
        Assert.True(upload < 16 * 1024 * 1024, $"upload allocated {upload / 1024 / 1024.0:F1} MiB for a 100 MiB body");
    }
}
