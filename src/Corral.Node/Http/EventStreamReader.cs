using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text;
using Corral.Node.Text;

namespace Corral.Node.Http;

/// <summary>
/// The one server-sent-event reader (<see cref="SseParser"/>), with a silence timeout: a stream that sends no byte,
/// not even its heartbeat comment, for that long counts as dead (a half-open connection) and ends with a
/// <see cref="TimeoutException"/>.
/// </summary>
public static class EventStreamReader
{
    /// <summary>The events of <paramref name="stream"/>, their data as text; comments (heartbeats) are skipped but keep the stream alive.</summary>
    public static async IAsyncEnumerable<SseItem<string>> ReadAsync(Stream stream, TimeSpan silence, TimeProvider time,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var watched = new SilenceWatch(stream, silence, time);
        var parser = SseParser.Create(watched, static (_, data) => Encoding.UTF8.GetString(data));
        await foreach (var item in parser.EnumerateAsync(cancellationToken))
        {
            yield return item;
        }
    }

    /// <summary>A read-only view of a stream whose every read fails when no byte arrives within the silence timeout.</summary>
    private sealed class SilenceWatch(Stream inner, TimeSpan silence, TimeProvider time) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            using var quiet = new CancellationTokenSource(silence, time);
            using var read = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, quiet.Token);
            try
            {
                return await inner.ReadAsync(buffer, read.Token);
            }
            catch (OperationCanceledException) when (quiet.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"the event stream sent nothing, not even a heartbeat, for {Durations.Brief(silence)}");
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("read asynchronously");
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
