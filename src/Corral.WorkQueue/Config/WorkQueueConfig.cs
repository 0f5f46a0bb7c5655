using System.Text.Json;
using Corral.Node.Storage;

namespace Corral.WorkQueue.Config;

/// <summary>A validated work queue: what every node of the run reads from the supervisor.</summary>
public sealed record WorkQueueConfig
{
    public const int DefaultReporterPort = 3000;
    public const int DefaultWorkerPort = 3100;
    public const int MaxLostLeases = 3;

    /// <summary>The original's worker command: <c>npx playwright test --project=&lt;viewport&gt;-&lt;browser&gt; &lt;spec&gt;</c>.</summary>
    public static readonly IReadOnlyList<string> PlaywrightCommand = ["npx", "playwright", "test", "--project={viewport}-{browser}", "{spec}"];

    public static readonly IReadOnlyList<Combination> DefaultInvalid = [new("mobile", "firefox")];

    /// <summary>The spec list's full path.</summary>
    public required string SpecList { get; init; }

    /// <summary>The folder every spec command runs in (full path).</summary>
    public required string SpecRoot { get; init; }

    /// <summary>The command as an argument list with placeholders (<see cref="CommandTemplate"/>); never run through a shell.</summary>
    public IReadOnlyList<string> Command { get; init; } = PlaywrightCommand;

    /// <summary>Run once in the spec root before any node starts (<c>[npm, ci]</c>), unless node_modules matches the lock file; null: nothing.</summary>
    public IReadOnlyList<string>? Prepare { get; init; }

    public int Workers { get; init; } = 2;

    /// <summary>How many tasks one worker runs at once, each with its own lease, heartbeat, process group and report.</summary>
    public int Concurrency { get; init; } = 1;

    /// <summary>How many tasks the run can have running at once.</summary>
    public int Slots => Workers * Concurrency;

    /// <summary>How long one attempt may run before its process group is killed and it counts as timed-out.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How many times a failed (failed, error, timed-out) task is run again.</summary>
    public int Retries { get; init; } = 2;

    /// <summary>How long a claim lasts without a heartbeat; an expired lease puts the task back (not counted as a retry).</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromSeconds(30);

    public IReadOnlyList<Combination> Invalid { get; init; } = DefaultInvalid;

    public int ReporterPort { get; init; } = DefaultReporterPort;

    /// <summary><c>sqlite</c> (the default), <c>redis</c> (the plan runs redis-server), or a <c>redis://host:port</c> URL.</summary>
    public string Store { get; init; } = "sqlite";

    /// <summary>How hard a SQLite commit waits for the disk; Redis keeps <c>appendfsync always</c> either way.</summary>
    public Durability Durability { get; init; } = Durability.Sync;

    /// <summary>Every task to run, in the original's expansion order.</summary>
    public required IReadOnlyList<TaskDefinition> Tasks { get; init; }

    /// <summary>Tasks not run because their browser is missing here (<c>missing-browsers: skip</c>), final as <c>skipped</c>.</summary>
    public IReadOnlyList<SkippedTask> Skipped { get; init; } = [];

    /// <summary>The browsers found missing when the run started, with the remedy.</summary>
    public IReadOnlyList<MissingBrowser> MissingBrowsers { get; init; } = [];

    /// <summary>How often a running worker renews its lease: three heartbeats per lease, so one late one is not a loss.</summary>
    public TimeSpan Heartbeat => TimeSpan.FromTicks(Math.Max(Lease.Ticks / 3, TimeSpan.FromMilliseconds(20).Ticks));

    public bool ManagedRedis => Store == "redis";
    public bool UsesRedis => Store.StartsWith("redis", StringComparison.Ordinal);

    /// <summary>The command a task runs: its group's when the spec list names one, else the topology's.</summary>
    public IReadOnlyList<string> CommandFor(TaskDefinition task) =>
        (task.Command ?? Tasks.FirstOrDefault(t => t.Key == task.Key)?.Command) ?? Command;

    public JsonElement ToJson() => JsonSerializer.SerializeToElement(this, WorkQueueJson.Default.WorkQueueConfig);

    public static WorkQueueConfig FromJson(JsonElement json) =>
        json.Deserialize(WorkQueueJson.Default.WorkQueueConfig)
        ?? throw new InvalidOperationException("the work queue config from the supervisor is empty");
}
