using Corral.Node.Apps;
using Corral.Node.Planning;
using Corral.Node.Topology;
using Corral.Supervisor.Control;

namespace Corral.Supervisor.Supervision;

/// <summary>
/// Follows the topology while the run lasts: on each change it reloads it and applies the new plan and config,
/// unless the edit does not validate, changes the app, or changes a setting the app fixes for a run's lifetime;
/// then the running plan stays and the reason is said.
/// </summary>
/// <param name="running">The plan running now.</param>
/// <param name="apply">Moves the run to a new plan (only the difference); a plan that cannot run is refused there.</param>
internal sealed class TopologyWatcher(ITopologySource source, Func<AppPlan> running, ConfigFeed config,
    Func<AppPlan, string?> apply, Action<string> say)
{
    /// <summary>Applies every change until <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task WatchAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await source.WaitForChangeAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            Reload();
        }
    }

    /// <summary>Loads the topology as it is now and applies it, or says why it stays as it runs.</summary>
    public void Reload()
    {
        LoadedApp next;
        try
        {
            next = source.Load();
        }
        catch (TopologyException e)
        {
            say($"reload rejected: {string.Join("; ", e.Errors)}");
            return;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A reader that fails on an input it did not foresee refuses that edit only: reloads go on for the rest of
            // the run, and the running plan stays.
            say($"reload rejected, the running plan stays: the topology could not be read ({e.GetType().Name}: {e.Message})");
            return;
        }

        var plan = running();
        if (next.Plan.App != plan.App)
        {
            say($"reload rejected: the app changed from {plan.App} to {next.Plan.App}; stop and start corral again");
            return;
        }

        if (next.Module.ReloadProblem(config.Current.Config, next.Config) is { } fixedSetting)
        {
            say($"reload rejected, the running plan stays: {fixedSetting}");
            return;
        }

        apply(next.Plan);
        if (config.Publish(next.Config))
        {
            say($"config version {config.Current.Version} published");
        }
    }
}
