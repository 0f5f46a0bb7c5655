using System.Buffers;
using System.Net;

namespace Corral.Balancer.Proxy;

/// <summary>
/// The client's request body, streamed upstream as it arrives (bounded memory). It remembers whether any of it was
/// sent, because a body that has started cannot be replayed to another worker, and whether reading from the client
/// failed, because a client that stalls or hangs up mid-body is not the worker's fault.
/// </summary>
internal sealed class StreamingBodyContent(Stream body, long? length, CancellationToken clientAborted) : HttpContent
{
    private const int BufferSize = 64 * 1024;
    private volatile bool _started;
    private volatile bool _clientFailed;

    public bool Started => _started;
    public bool ClientFailed => _clientFailed;

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        _started = true;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, clientAborted);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            while (true)
            {
                int read;
                try
                {
                    read = await body.ReadAsync(buffer.AsMemory(0, BufferSize), linked.Token);
                }
                catch (Exception) when (!cancellationToken.IsCancellationRequested)
                {
                    _clientFailed = true;
                    throw;
                }

                if (read == 0) return;
                await stream.WriteAsync(buffer.AsMemory(0, read), linked.Token);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    protected override bool TryComputeLength(out long length2)
    {
        length2 = length ?? -1;
        return length is not null;
    }
}
