namespace Corral.Supervisor.Supervision;

/// <summary>
/// A node that an external engine (Compose, Kubernetes) runs and that joined the run: the supervisor cannot signal or
/// kill it, only stop counting on it. It ends when the supervisor lets it go (a stop: exit 0, the engine stops its
/// container) or gives up on it (not ready in time, failed liveness: lost, a failure the engine's restart answers).
/// </summary>
internal sealed class JoinedNode : INodeInstance
{
    /// <summary>The exit code of a lost node: a failure, never a clean exit.</summary>
    public const int LostExitCode = -1;

    private readonly TaskCompletionSource<int> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int? Pid => null;
    public Task Exited => _ended.Task;
    public bool HasExited => _ended.Task.IsCompleted;

    /// <summary>Let go: the run is stopping or the node is drained; the engine stops its container.</summary>
    public void Terminate() => _ended.TrySetResult(0);

    /// <summary>Given up on: lost.</summary>
    public void Kill() => _ended.TrySetResult(LostExitCode);

    public Task<bool> KillAfterAsync(TimeSpan grace, TimeProvider time) => Task.FromResult(false);

    public Task<int> WaitAsync() => _ended.Task;
}
