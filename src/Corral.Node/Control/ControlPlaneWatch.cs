namespace Corral.Node.Control;

/// <summary>How <see cref="ControlPlaneWatch"/> decides the control plane is gone.</summary>
public sealed record ControlPlaneWatchOptions
{
    /// <summary>How long every call may fail before the control plane counts as lost.</summary>
    public required TimeSpan Grace { get; init; }

    /// <summary>How often the control API is asked.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(1);
}

/// <summary>What <see cref="ControlPlaneWatch"/> saw when it gave up: how long nothing answered, and the last failure.</summary>
public sealed record ControlPlaneLost(TimeSpan Silence, string LastError);

/// <summary>
/// Notices that the supervisor is gone. A node started as a local process dies with its supervisor (the kernel's
/// parent-death signal); a node in a container has no such tie, and a SIGKILLed supervisor leaves it running. So it
/// asks the control API every <see cref="ControlPlaneWatchOptions.Interval"/>, and once no call has succeeded for
/// <see cref="ControlPlaneWatchOptions.Grace"/> (counted from the last answer, or from the start) the control plane is
/// lost. A brief hiccup (a restart of the control API, a slow answer) is shorter than the grace and changes nothing.
/// </summary>
public sealed class ControlPlaneWatch(Func<CancellationToken, Task> ask, ControlPlaneWatchOptions options, TimeProvider time)
{
    /// <summary>Completes when the control plane is lost; runs until <paramref name="cancellationToken"/> otherwise.</summary>
    public async Task<ControlPlaneLost> WaitLostAsync(CancellationToken cancellationToken)
    {
        // Created first: a tick that falls while a call is in flight is kept, so the asks stay on the interval's beat.
        using var timer = new PeriodicTimer(options.Interval, time);
        var lastAnswer = time.GetTimestamp();
        while (true)
        {
            // Times are taken when a call starts: an answer proves the control plane was there then, and a failure
            // that took its full timeout does not stretch the silence it is judged by.
            var asked = time.GetTimestamp();
            try
            {
                await ask(cancellationToken);
                lastAnswer = asked;
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                var silence = time.GetElapsedTime(lastAnswer, asked);
                if (silence >= options.Grace)
                {
                    return new ControlPlaneLost(silence, e.Message);
                }
            }

            await timer.WaitForNextTickAsync(cancellationToken);
        }
    }
}
