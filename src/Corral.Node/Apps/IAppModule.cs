using System.Text.Json;
using Corral.Node.Nodes;
using Corral.Node.Planning;
using Corral.Node.Topology;

namespace Corral.Node.Apps;

/// <summary>
/// One app plugged into Corral. The supervisor knows nothing app-specific: it asks the module to read
/// the topology, to plan nodes, to run a node's role, to check a finished run and to describe its outcome.
/// </summary>
public interface IAppModule
{
    /// <summary>The app's name as written in <c>app:</c> (<c>shootout</c>).</summary>
    string Name { get; }

    /// <summary>The roles a node may run, fully qualified (<c>shootout.server</c>).</summary>
    IReadOnlyList<string> Roles { get; }

    /// <summary>Whether a document without an <c>app:</c> key is one of this app's originals' files, by shape.</summary>
    bool RecognisesOriginal(TopologyNode root);

    /// <summary>Reads and validates the app's config; records every problem in <paramref name="diagnostics"/>.</summary>
    LoadedApp Load(TopologyDocument document, TopologyDiagnostics diagnostics);

    /// <summary>
    /// Why a reload may not move the running config to <paramref name="next"/> (a setting fixed for the run, such as
    /// where the store lives), or null when it may. The supervisor keeps the running plan and says why.
    /// </summary>
    string? ReloadProblem(JsonElement running, JsonElement next) => null;

    /// <summary>
    /// Work the run needs done once, before any node starts (install a test suite's packages). Lines for the terminal
    /// go to <paramref name="say"/>. Throws <see cref="AppPrepareException"/> with the remedy when it cannot be done.
    /// </summary>
    Task PrepareAsync(JsonElement config, Action<string> say, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// The roles whose nodes may report the run's outcome (<c>finished</c>): their credentials carry the outcome scope,
    /// no other's does. A finite app names the role that decides (the shootout's server, or its cowboys of which the
    /// elected leader reports; the work queue's controller).
    /// </summary>
    IReadOnlyList<string> OutcomeRoles => [];

    /// <summary>Runs one node of <paramref name="role"/> until it drains (exit 0) or fails.</summary>
    Task<int> RunNodeAsync(string role, NodeContext context, string[] args, CancellationToken cancellationToken);

    /// <summary>The app's history checker over a run folder (<c>corral check</c>).</summary>
    CheckReport Check(string runFolder);

    /// <summary>Lines for the supervisor's final summary, from the outcome the app reported.</summary>
    IEnumerable<string> DescribeOutcome(JsonElement summary, string runFolder);
}

/// <summary>A validated topology: the plan to run, and the config every node reads through the control API.</summary>
public sealed record LoadedApp(IAppModule Module, AppPlan Plan, JsonElement Config);

/// <summary>The verdict of an app's history checker.</summary>
public sealed record CheckReport(bool Passed, IReadOnlyList<string> Violations, IReadOnlyList<string> Facts);
