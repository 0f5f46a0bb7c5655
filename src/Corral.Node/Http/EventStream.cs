using System.Globalization;
using System.Text;
using Corral.Node.Feeds;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Corral.Node.Http;

/// <summary>
/// The one server-sent-event writer: frames as they come, and a <see cref="Heartbeat"/> comment whenever the stream
/// was quiet for an interval of the injected clock.
/// </summary>
/// <remarks>
/// Not <c>TypedResults.ServerSentEvents</c> / <c>SseFormatter</c>: they cannot write a comment line, and a comment is
/// the only keep-alive that an <c>EventSource</c> and <see cref="EventStreamReader"/> both skip without a trace while
/// it still proves the connection alive (a reader's silence timeout counts bytes, not events).
/// </remarks>
public static class EventStream
{
    /// <summary>The comment line sent when a stream had nothing to say for a heartbeat interval.</summary>
    public const string Heartbeat = ": heartbeat";

    public const string ContentType = "text/event-stream";

    /// <summary>Every stream's interval unless its server says otherwise; readers allow a few of them (see <c>ControlClient.FeedSilenceTimeout</c>).</summary>
    public static readonly TimeSpan DefaultHeartbeat = TimeSpan.FromSeconds(5);

    private static readonly byte[] HeartbeatFrame = Encoding.UTF8.GetBytes(Heartbeat + "\n\n");

    /// <summary>One event as wire text: <c>event:</c> (omitted for the default <c>message</c>), <c>id:</c>, one <c>data:</c> per line, a blank line.</summary>
    public static string Frame(string data, string? eventType = null, string? id = null)
    {
        var frame = new StringBuilder(data.Length + 32);
        if (eventType is { Length: > 0 } and not "message") frame.Append("event: ").Append(eventType).Append('\n');
        if (id is not null) frame.Append("id: ").Append(id).Append('\n');
        if (data.AsSpan().IndexOfAny('\r', '\n') < 0)
        {
            // The common case: one line of JSON.
            frame.Append("data: ").Append(data).Append('\n');
        }
        else
        {
            foreach (var line in data.ReplaceLineEndings("\n").Split('\n'))
            {
                frame.Append("data: ").Append(line).Append('\n');
            }
        }

        return frame.Append('\n').ToString();
    }

    /// <summary>The <c>retry:</c> field: how long a browser's <c>EventSource</c> waits before it reconnects.</summary>
    public static string Retry(TimeSpan delay) =>
        "retry: " + ((long)delay.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "\n";

    /// <summary>
    /// Answers with <paramref name="frames"/> (each already wire text, see <see cref="Frame"/>) until the source ends,
    /// the client leaves, or the source drops a subscriber that fell behind (<see cref="SubscriberTooSlowException"/>:
    /// the response ends, the client reconnects for a fresh snapshot). The source is enumerated with a token that is
    /// cancelled when the stream ends, so it must honour it (<c>[EnumeratorCancellation]</c>).
    /// </summary>
    /// <remarks>
    /// A heartbeat falls exactly one interval after the last write as <paramref name="time"/> counts it (the wait is
    /// measured from the write's timestamp, not from when the timer happened to be armed), never earlier.
    /// </remarks>
    public static async Task WriteAsync(HttpContext context, IAsyncEnumerable<string> frames, TimeSpan heartbeat, TimeProvider time,
        string cacheControl = "no-cache")
    {
        var response = context.Response;
        response.ContentType = ContentType;
        response.Headers.CacheControl = cacheControl;
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        var cancellationToken = stop.Token;
        var source = frames.GetAsyncEnumerator(cancellationToken);
        Task<bool>? moved = null;
        try
        {
            moved = source.MoveNextAsync().AsTask();
            var lastWrite = time.GetTimestamp();
            while (true)
            {
                if (!moved.IsCompleted)
                {
                    var quietFor = heartbeat - time.GetElapsedTime(lastWrite);
                    if (quietFor > TimeSpan.Zero)
                    {
                        using var quiet = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                        var beat = Task.Delay(quietFor, time, quiet.Token);
                        await Task.WhenAny(moved, beat);
                        await quiet.CancelAsync();
                        cancellationToken.ThrowIfCancellationRequested();
                        // Either way, look again: the source may have an item, or the interval may be up.
                        continue;
                    }

                    lastWrite = time.GetTimestamp();
                    await WriteAsync(response, HeartbeatFrame, cancellationToken);
                    continue;
                }

                if (!await moved)
                {
                    break;
                }

                var frame = Encoding.UTF8.GetBytes(source.Current);
                moved = null;
                lastWrite = time.GetTimestamp();
                await WriteAsync(response, frame, cancellationToken);
                moved = source.MoveNextAsync().AsTask();
            }
        }
        catch (SubscriberTooSlowException)
        {
            // Dropped for falling behind: ending the response makes the client resubscribe.
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The client went away.
        }
        finally
        {
            await stop.CancelAsync();
            if (moved is not null)
            {
                // An async iterator cannot be disposed while a MoveNextAsync is pending: let the cancellation end it.
                await moved.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }

            await source.DisposeAsync();
        }
    }

    private static async Task WriteAsync(HttpResponse response, byte[] bytes, CancellationToken cancellationToken)
    {
        await response.Body.WriteAsync(bytes, cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }
}
