using System.Runtime.InteropServices;

namespace Corral.Supervisor.Supervision;

/// <summary>
/// Maps the first Ctrl+C (SIGINT) or SIGTERM to a cancellation, so <c>corral up</c> drains its nodes in order.
/// A second signal is left to its default (the process ends at once); the kernel then kills every child
/// through its parent-death signal, so even an impatient user leaks nothing.
/// </summary>
public sealed class StopSignals : IDisposable
{
    private readonly PosixSignalRegistration[] _registrations;

    private StopSignals(CancellationTokenSource stop)
    {
        void Handle(PosixSignalContext context)
        {
            if (!stop.IsCancellationRequested)
            {
                context.Cancel = true;
                stop.Cancel();
            }
        }

        _registrations = [PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle), PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle)];
    }

    public static StopSignals Register(CancellationTokenSource stop) => new(stop);

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
    }
}
