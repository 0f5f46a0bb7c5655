using System.Net;

namespace Corral.Balancer.Proxy;

/// <summary>
/// The client's request body, streamed upstream as it arrives (bounded memory). It remembers whether any of it was
/// sent, because a body that has started cannot be replayed to another worker.
/// </summary>
public sealed class StreamingBodyContent(Stream body, long? length, CancellationToken clientAborted) : HttpContent
{
    private const int BufferSize = 64 * 1024;
    private volatile bool _started;

    public bool Started => _started;

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        _started = true;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, clientAborted);
        await body.CopyToAsync(stream, BufferSize, linked.Token);
    }

    protected override bool TryComputeLength(out long length2)
    {
        length2 = length ?? -1;
        return length is not null;
    }
}
