namespace Corral.Supervisor.Supervision;

/// <summary>
/// One running instance of a planned node as its <see cref="SupervisedNode"/> watches it: a local process it started
/// (<see cref="NodeProcess"/>), or a node an engine started and that joined (<see cref="JoinedNode"/>).
/// </summary>
internal interface INodeInstance
{
    /// <summary>The local process id, or null for a node that runs elsewhere.</summary>
    int? Pid { get; }

    /// <summary>Completes when the instance has ended (exited, or was lost).</summary>
    Task Exited { get; }

    bool HasExited { get; }

    /// <summary>Asks the instance to drain and stop.</summary>
    void Terminate();

    /// <summary>Ends the instance now (it failed its probes).</summary>
    void Kill();

    /// <summary>Kills the instance if it has not ended within <paramref name="grace"/>; true when it had to.</summary>
    Task<bool> KillAfterAsync(TimeSpan grace, TimeProvider time);

    /// <summary>The exit code once it has ended.</summary>
    Task<int> WaitAsync();
}
