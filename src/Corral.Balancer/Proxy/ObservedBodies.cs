using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;

namespace Corral.Balancer.Proxy;

/// <summary>
/// The client's request body as the forwarder reads it: every read refreshes the exchange's idle deadline, and the end
/// of the body (the last byte of a known length, or the end of the stream) starts the wait for the worker's headers.
/// </summary>
internal sealed class ObservedRequestBody(Stream inner, Exchange exchange, long? length) : Stream
{
    private long _read;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _read; set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken);
        Observe(read, buffer.Length);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count)
    {
        var read = inner.Read(buffer, offset, count);
        Observe(read, count);
        return read;
    }

    private void Observe(int read, int asked)
    {
        if (read > 0)
        {
            _read += read;
            exchange.BodyRead();
            if (length is { } total && _read >= total) exchange.EndOfBody();
        }
        else if (asked > 0)
        {
            exchange.EndOfBody();
        }
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>
/// The client's response body as the forwarder writes it: each write refreshes the idle deadline, and a write still
/// pending when the deadline passes tells a client that stopped reading from a worker that stopped sending.
/// </summary>
internal sealed class ObservedResponseBody(IHttpResponseBodyFeature inner, Exchange exchange) : Stream, IHttpResponseBodyFeature
{
    Stream IHttpResponseBodyFeature.Stream => this;
    public PipeWriter Writer => inner.Writer;

    public void DisableBuffering() => inner.DisableBuffering();
    public Task StartAsync(CancellationToken cancellationToken = default) => inner.StartAsync(cancellationToken);
    public Task CompleteAsync() => inner.CompleteAsync();

    public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) =>
        inner.SendFileAsync(path, offset, count, cancellationToken);

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        exchange.WriteStarted();
        try
        {
            await inner.Stream.WriteAsync(buffer, cancellationToken);
        }
        finally
        {
            exchange.WriteEnded();
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        exchange.WriteStarted();
        try
        {
            await inner.Stream.FlushAsync(cancellationToken);
        }
        finally
        {
            exchange.WriteEnded();
        }
    }

    public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
