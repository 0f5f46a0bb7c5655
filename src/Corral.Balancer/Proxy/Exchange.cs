using Corral.Balancer.Config;

namespace Corral.Balancer.Proxy;

/// <summary>Why an exchange's deadline cut an attempt short; it decides whom the failure is charged to.</summary>
internal enum Expiry
{
    None,

    /// <summary>The client went quiet mid-upload, or stopped reading the answer: not the worker's fault.</summary>
    ClientIdle,

    /// <summary>The worker went quiet mid-answer (<c>timeouts.activity</c>).</summary>
    WorkerIdle,

    /// <summary>The worker's headers did not come within <c>timeouts.attempt</c> of the end of the request body.</summary>
    Attempt,

    /// <summary>No worker's headers came within <c>timeouts.request</c> of the end of the request body, over all attempts.</summary>
    Request,
}

/// <summary>
/// One client request's deadlines, on one timer from the injected clock. The upload and the answer's body are bounded
/// by <c>timeouts.activity</c> (idle time, refreshed by every read and write); the wait for the worker's headers by
/// <c>timeouts.attempt</c> and <c>timeouts.request</c>, both measured from the end of the request body, so a slow but
/// steady upload is never charged to a worker. An upgraded connection (WebSocket) has no deadline of its own.
/// Reads and writes only stamp a time; the timer re-arms itself when it finds fresh activity, so the hot path takes no lock.
/// </summary>
internal sealed class Exchange : IDisposable
{
    private enum Phase { Upload, AwaitingHeaders, Answer, Upgraded }

    private readonly TimeProvider _time;
    private readonly TimeoutConfig _timeouts;
    private readonly ITimer _timer;
    private readonly Lock _lock = new();
    private CancellationTokenSource _attempt = new();
    private Phase _phase;
    private long _lastActivity;
    private long _bodyEnded = -1;
    private long _attemptStarted;
    private int _pendingWrites;
    private int _bodyStarted;
    private Expiry _expired;

    public Exchange(TimeProvider time, TimeoutConfig timeouts, bool hasBody)
    {
        _time = time;
        _timeouts = timeouts;
        _lastActivity = _attemptStarted = time.GetTimestamp();
        if (!hasBody) _bodyEnded = _lastActivity;
        _phase = hasBody ? Phase.Upload : Phase.AwaitingHeaders;
        _timer = time.CreateTimer(static s => ((Exchange)s!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        lock (_lock) Schedule();
    }

    /// <summary>Cancelled when a deadline passes; a new one for every attempt.</summary>
    public CancellationToken Token => _attempt.Token;

    public Expiry Expired { get { lock (_lock) return _expired; } }

    /// <summary>Whether any of the client's body was read: a streamed body that started cannot be replayed.</summary>
    public bool BodyStarted => Volatile.Read(ref _bodyStarted) == 1;

    public bool BodyEnded => Volatile.Read(ref _bodyEnded) >= 0;

    /// <summary>Set for the attempt in flight: whether a 5xx answer may be dropped and tried on another worker, and takes the budget.</summary>
    public Func<bool>? RetryOn5xx { get; set; }

    /// <summary>Set when the attempt's 5xx answer was held back for a retry.</summary>
    public int? RetriedStatus { get; set; }

    public void BeginAttempt()
    {
        lock (_lock)
        {
            if (_attempt.IsCancellationRequested)
            {
                _attempt.Dispose();
                _attempt = new CancellationTokenSource();
            }

            _expired = Expiry.None;
            RetryOn5xx = null;
            RetriedStatus = null;
            _attemptStarted = _time.GetTimestamp();
            _phase = _bodyEnded >= 0 ? Phase.AwaitingHeaders : Phase.Upload;
            Schedule();
        }
    }

    public void BodyRead()
    {
        Volatile.Write(ref _bodyStarted, 1);
        Volatile.Write(ref _lastActivity, _time.GetTimestamp());
    }

    public void EndOfBody()
    {
        lock (_lock)
        {
            if (_bodyEnded >= 0) return;
            _bodyEnded = _time.GetTimestamp();
            if (_phase == Phase.Upload)
            {
                _phase = Phase.AwaitingHeaders;
                Schedule();
            }
        }
    }

    public void HeadersReceived(bool upgraded)
    {
        lock (_lock)
        {
            _phase = upgraded ? Phase.Upgraded : Phase.Answer;
            _lastActivity = _time.GetTimestamp();
            Schedule();
        }
    }

    public void WriteStarted()
    {
        Interlocked.Increment(ref _pendingWrites);
        Volatile.Write(ref _lastActivity, _time.GetTimestamp());
    }

    public void WriteEnded()
    {
        Volatile.Write(ref _lastActivity, _time.GetTimestamp());
        Interlocked.Decrement(ref _pendingWrites);
    }

    /// <summary>The deadline of the current phase, as a timestamp; null when there is none.</summary>
    private long? Due()
    {
        var frequency = _time.TimestampFrequency;
        long After(long start, TimeSpan span) => span == Timeout.InfiniteTimeSpan || span.Ticks > TimeSpan.FromDays(1).Ticks
            ? long.MaxValue
            : start + (long)(span.TotalSeconds * frequency);

        return _phase switch
        {
            Phase.Upload or Phase.Answer => After(Volatile.Read(ref _lastActivity), _timeouts.Activity),
            Phase.AwaitingHeaders => Math.Min(After(Math.Max(_attemptStarted, _bodyEnded), _timeouts.Attempt), After(_bodyEnded, _timeouts.Request)),
            _ => null,
        };
    }

    private void Schedule()
    {
        var due = Due();
        if (due is null or long.MaxValue)
        {
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }

        var wait = _time.GetElapsedTime(_time.GetTimestamp(), due.Value);
        _timer.Change(wait < TimeSpan.Zero ? TimeSpan.Zero : wait, Timeout.InfiniteTimeSpan);
    }

    private void OnTimer()
    {
        CancellationTokenSource cancel;
        lock (_lock)
        {
            var due = Due();
            if (due is null || _attempt.IsCancellationRequested) return;
            if (_time.GetTimestamp() < due.Value)
            {
                // Activity since the timer was set: the deadline moved on.
                Schedule();
                return;
            }

            _expired = _phase switch
            {
                Phase.Upload => Expiry.ClientIdle,
                Phase.Answer => Volatile.Read(ref _pendingWrites) > 0 ? Expiry.ClientIdle : Expiry.WorkerIdle,
                _ => RequestPassed() ? Expiry.Request : Expiry.Attempt,
            };
            cancel = _attempt;
        }

        cancel.Cancel();
    }

    private bool RequestPassed() =>
        _bodyEnded >= 0 && _time.GetElapsedTime(_bodyEnded) >= _timeouts.Request;

    public void Dispose()
    {
        _timer.Dispose();
        lock (_lock) _attempt.Dispose();
    }
}
