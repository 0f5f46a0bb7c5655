using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;
using Corral.Node.Feeds;
using Corral.Node.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;

namespace Corral.Node.Tests.Http;

/// <summary>The kit's server-sent-event writer and reader: heartbeats on the injected clock, and what one writes the other reads.</summary>
public sealed class EventStreamTests
{
    // Far longer than any wait here, so only the fake clock can bring a heartbeat within the test.
    private static readonly TimeSpan Interval = TimeSpan.FromHours(1);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_heartbeat_is_written_exactly_when_the_fake_clock_passes_the_interval_and_never_before()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var start = time.GetUtcNow();
        var frames = Channel.CreateUnbounded<string>();
        var body = new RecordingStream(time);
        var context = new DefaultHttpContext { Response = { Body = body } };
        using var abort = new CancellationTokenSource();
        context.RequestAborted = abort.Token;
        await frames.Writer.WriteAsync(EventStream.Frame("first"));

        var writing = EventStream.WriteAsync(context, Read(frames.Reader), Interval, time);
        Assert.Equal("data: first\n\n", await body.Writes.ReadAsync().AsTask().WaitAsync(Bound));

        time.Advance(Interval - TimeSpan.FromTicks(1));
        Assert.False(body.Writes.TryRead(out var early), $"written before the interval: {early}");
        time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(EventStream.Heartbeat + "\n\n", await body.Writes.ReadAsync().AsTask().WaitAsync(Bound));
        Assert.Equal(start + Interval, body.LastWriteAt);

        // An event restarts the interval: the next heartbeat is one interval after it, not after the last heartbeat.
        time.Advance(TimeSpan.FromSeconds(2));
        await frames.Writer.WriteAsync(EventStream.Frame("second"));
        Assert.Equal("data: second\n\n", await body.Writes.ReadAsync().AsTask().WaitAsync(Bound));
        time.Advance(Interval - TimeSpan.FromTicks(1));
        Assert.False(body.Writes.TryRead(out early), $"written before the interval: {early}");
        time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(EventStream.Heartbeat + "\n\n", await body.Writes.ReadAsync().AsTask().WaitAsync(Bound));
        Assert.Equal(start + Interval + TimeSpan.FromSeconds(2) + Interval, body.LastWriteAt);

        await abort.CancelAsync();
        await writing.WaitAsync(Bound);
        Assert.Equal("text/event-stream", context.Response.ContentType);
    }

    [Fact]
    public async Task What_the_writer_sends_the_reader_reads_back_and_heartbeats_are_skipped()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var pipe = new Pipe();
        var context = new DefaultHttpContext { Response = { Body = pipe.Writer.AsStream() } };
        var frames = Channel.CreateUnbounded<string>();
        var writing = EventStream.WriteAsync(context, Read(frames.Reader), Interval, time);
        await using var events = EventStreamReader.ReadAsync(pipe.Reader.AsStream(), 3 * Interval, time).GetAsyncEnumerator();

        await frames.Writer.WriteAsync(EventStream.Retry(TimeSpan.FromSeconds(1)) + EventStream.Frame("{\"a\":1}"));
        await frames.Writer.WriteAsync(EventStream.Frame("line one\nline two", "log", "7"));
        Assert.True(await events.MoveNextAsync().AsTask().WaitAsync(Bound));
        Assert.Equal(("message", "{\"a\":1}", TimeSpan.FromSeconds(1)), (events.Current.EventType, events.Current.Data, events.Current.ReconnectionInterval));
        Assert.True(await events.MoveNextAsync().AsTask().WaitAsync(Bound));
        Assert.Equal(("log", "line one\nline two", "7"), (events.Current.EventType, events.Current.Data, events.Current.EventId));

        var next = events.MoveNextAsync().AsTask();
        time.Advance(Interval);
        time.Advance(Interval);
        await frames.Writer.WriteAsync(EventStream.Frame("after two heartbeats", "state"));
        Assert.True(await next.WaitAsync(Bound));
        Assert.Equal(("state", "after two heartbeats"), (events.Current.EventType, events.Current.Data));

        frames.Writer.Complete();
        await writing.WaitAsync(Bound);
        await pipe.Writer.CompleteAsync();
        Assert.False(await events.MoveNextAsync().AsTask().WaitAsync(Bound));
    }

    [Fact]
    public async Task A_subscriber_dropped_for_falling_behind_ends_the_response_quietly()
    {
        var frames = Channel.CreateUnbounded<string>();
        var context = new DefaultHttpContext { Response = { Body = new MemoryStream() } };
        frames.Writer.Complete(new SubscriberTooSlowException(4));

        await EventStream.WriteAsync(context, Read(frames.Reader), Interval, new FakeTimeProvider()).WaitAsync(Bound);
    }

    [Fact]
    public async Task The_reader_gives_up_on_a_stream_silent_past_its_timeout_but_not_on_one_that_sends_heartbeats()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var pipe = new Pipe();
        var source = new CountingStream(pipe.Reader.AsStream());
        await using var events = EventStreamReader.ReadAsync(source, TimeSpan.FromSeconds(15), time).GetAsyncEnumerator();
        var next = events.MoveNextAsync().AsTask();
        await Eventually.TrueAsync(() => source.Reads == 1, Bound, "the first read");

        // Forty seconds in all, never fifteen without a byte.
        for (var i = 0; i < 4; i++)
        {
            time.Advance(TimeSpan.FromSeconds(10));
            await pipe.Writer.WriteAsync(Encoding.UTF8.GetBytes(EventStream.Heartbeat + "\n\n"));
            await Eventually.TrueAsync(() => source.Reads >= i + 2, Bound, "the read after the heartbeat");
        }

        Assert.False(next.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(15));
        await Assert.ThrowsAsync<TimeoutException>(() => next.WaitAsync(Bound));
    }

    private static async IAsyncEnumerable<string> Read(ChannelReader<string> frames, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var frame in frames.ReadAllAsync(cancellationToken))
        {
            yield return frame;
        }
    }

    /// <summary>Counts the reads made of a stream (a read is where the reader arms its silence timer).</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        private int _reads;

        public int Reads => Volatile.Read(ref _reads);

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _reads);
            return inner.ReadAsync(buffer, cancellationToken);
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A response body that hands each write over as text and notes the fake clock's time of the last one.</summary>
    private sealed class RecordingStream(TimeProvider time) : Stream
    {
        private readonly Channel<string> _writes = Channel.CreateUnbounded<string>();

        public ChannelReader<string> Writes => _writes.Reader;
        public DateTimeOffset LastWriteAt { get; private set; }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            LastWriteAt = time.GetUtcNow();
            _writes.Writer.TryWrite(Encoding.UTF8.GetString(buffer.Span));
            return ValueTask.CompletedTask;
        }

        public override void Write(byte[] buffer, int offset, int count) => _ = WriteAsync(buffer.AsMemory(offset, count));
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
