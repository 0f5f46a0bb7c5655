using System.Globalization;
using System.Text.Json;
using Corral.Node.Apps;
using Corral.Node.Control;
using Corral.Node.Dashboard;
using Corral.Node.Nodes;
using Corral.Node.Planning;
using Corral.Node.Topology;
using Corral.WorkQueue.Config;
using Corral.WorkQueue.Controller;
using Corral.WorkQueue.Worker;

namespace Corral.WorkQueue;

/// <summary>The work queue app (seed 004): a controller expands spec × browser × viewport into tasks; workers claim, run and report them.</summary>
public sealed class WorkQueueModule : IAppModule, ILiveStatus, IDashboardPanel, IRunReport
{
    public Task<int> ServeReportAsync(string runFolder, string bindAddress, int port, TextWriter output, TextWriter errors, CancellationToken cancellationToken) =>
        Reporter.ReportServer.RunAsync(runFolder, bindAddress, port, output, errors, cancellationToken);

    public DashboardPanel Panel { get; } = Dashboard.WorkQueuePanel.Create();

    private readonly Live.WorkQueueLiveStatus _live = new();

    public IAsyncEnumerable<IReadOnlyList<string>> WatchAsync(ControlClient control, CancellationToken cancellationToken) =>
        _live.WatchAsync(control, cancellationToken);

    public string Name => WorkQueuePlan.App;

    public IReadOnlyList<string> Roles { get; } = [WorkQueuePlan.ControllerRole, WorkQueuePlan.WorkerRole];

    /// <summary>Only the controller decides whether the run passed; a worker (and a spec it runs) cannot.</summary>
    public IReadOnlyList<string> OutcomeRoles { get; } = [WorkQueuePlan.ControllerRole];

    public bool RecognisesOriginal(TopologyNode root) => WorkQueueConfigReader.IsOriginal(root);

    public LoadedApp Load(TopologyDocument document, TopologyDiagnostics diagnostics)
    {
        var (config, reader, _) = WorkQueueConfigReader.Read(document, diagnostics);
        if (config is null)
        {
            // With errors recorded the caller throws before using the result.
            return new LoadedApp(this, new AppPlan { App = WorkQueuePlan.App, Roles = [] }, default);
        }

        var plan = WorkQueuePlan.Create(config);
        if (reader is not null && reader.Mapping[RestartCaps.Key] is not null)
        {
            plan = RestartCaps.Apply(new MappingReader(reader.Mapping, diagnostics), plan);
        }

        return new LoadedApp(this, plan, config.ToJson());
    }

    /// <summary>The topology's <c>prepare:</c> command, once per run in the spec root, before any node starts.</summary>
    public Task PrepareAsync(JsonElement config, Action<string> say, CancellationToken cancellationToken)
    {
        var queue = WorkQueueConfig.FromJson(config);
        return queue.Prepare is { } prepare ? Prepare.PrepareStep.RunAsync(queue.SpecRoot, prepare, say, cancellationToken) : Task.CompletedTask;
    }

    public Task<int> RunNodeAsync(string role, NodeContext context, string[] args, CancellationToken cancellationToken)
    {
        if (args.Length > 0) throw new ArgumentException($"{role} takes no arguments, got '{string.Join(' ', args)}'");
        var config = WorkQueueConfig.FromJson(context.Config);
        return role switch
        {
            WorkQueuePlan.ControllerRole => ControllerNode.RunAsync(context, config, cancellationToken),
            WorkQueuePlan.WorkerRole => WorkerNode.RunAsync(context, config, cancellationToken),
            _ => throw new ArgumentException($"unknown role '{role}': the work queue runs {string.Join(" and ", Roles)}", nameof(role)),
        };
    }

    /// <summary>The results files are the record: the check reads them back and says whether every task is final once.</summary>
    public CheckReport Check(string runFolder)
    {
        var path = Path.Combine(runFolder, ResultsWriter.Folder, ResultsWriter.JsonFile);
        if (!File.Exists(path)) return new CheckReport(false, [$"{path} does not exist: the run did not finish"], []);
        var results = JsonSerializer.Deserialize(File.ReadAllText(path), WorkQueueJson.Default.ResultsFile)!;
        var violations = new List<string>();
        foreach (var t in results.Tasks)
        {
            if (t.Task.Status != "complete") violations.Add($"{t.Task.Key} is {t.Task.Status}, not final");
            var numbers = t.Attempts.Select(a => a.Attempt).ToArray();
            if (numbers.Distinct().Count() != numbers.Length) violations.Add($"{t.Task.Key} has an attempt recorded twice");
        }

        if (results.Tasks.Select(t => t.Task.Key).Distinct().Count() != results.Tasks.Count) violations.Add("a task key appears twice");
        return new CheckReport(violations.Count == 0, violations,
            [string.Create(CultureInfo.InvariantCulture, $"{results.Tasks.Count} tasks, {results.Tasks.Sum(t => t.Attempts.Count)} attempts recorded")]);
    }

    public IEnumerable<string> DescribeOutcome(JsonElement summary, string runFolder)
    {
        WorkQueueSummary? s;
        try
        {
            s = summary.Deserialize(WorkQueueJson.Default.WorkQueueSummary);
        }
        catch (JsonException)
        {
            s = null;
        }

        if (s is null)
        {
            yield return $"workqueue finished; results in {Path.Combine(runFolder, ResultsWriter.Folder)}";
            yield break;
        }

        var p = s.Progress;
        yield return string.Create(CultureInfo.InvariantCulture,
            $"workqueue: {p.Total} tasks: {p.Passed} passed, {p.Flaky} flaky, {p.Failed} failed, {p.Errors} error, {p.TimedOut} timed-out{(p.Skipped > 0 ? $", {p.Skipped} skipped" : "")} in {ResultsView.GoDuration(p.ElapsedMs)}");
        foreach (var line in s.NotPassed) yield return "  " + line;
        foreach (var line in s.SkippedBrowsers) yield return "  skipped: " + line;
        yield return $"junit: {s.JUnit}";
        yield return $"results: {s.ResultsJson}";
    }
}
