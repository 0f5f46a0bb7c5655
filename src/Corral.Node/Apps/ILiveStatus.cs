using Corral.Node.Control;

namespace Corral.Node.Apps;

/// <summary>
/// An app that can show a live summary under the scrolling logs when <c>corral up</c> runs on a terminal
/// (the shootout shows each cowboy's health). Optional: the supervisor needs none of it.
/// </summary>
public interface ILiveStatus
{
    /// <summary>Each item is the whole status as it is now, a few short lines; the sequence ends with the run.</summary>
    IAsyncEnumerable<IReadOnlyList<string>> WatchAsync(ControlClient control, CancellationToken cancellationToken);
}
