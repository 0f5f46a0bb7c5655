using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Corral.Node.Control;
using Corral.Node.Storage;
// RunFolder has a Path property of its own.
using IOPath = System.IO.Path;

namespace Corral.Supervisor.Supervision;

/// <summary>One run's folder, <c>&lt;data&gt;/runs/&lt;run-id&gt;/</c>: <c>logs/</c> and the <c>run.json</c> summary.</summary>
public sealed partial class RunFolder
{
    private RunFolder(string runId, string path)
    {
        RunId = runId;
        Path = path;
    }

    public string RunId { get; }
    public string Path { get; }
    public string LogsPath => IOPath.Combine(Path, "logs");
    public string SummaryPath => IOPath.Combine(Path, "run.json");

    /// <summary>Where node credentials wait for their nodes (0700; each file 0600, removed by the node that reads it).</summary>
    public string SecretsPath => IOPath.Combine(Path, "secrets");

    /// <summary>Where a running run's <see cref="ControlAccess"/> is, for commands such as <c>corral dashboard</c>.</summary>
    public string ControlPath => IOPath.Combine(Path, "control.json");

    /// <summary>
    /// Writes <see cref="ControlPath"/> readable by the owner only (it holds the run's token), with this process's id
    /// so that <see cref="RunRetention"/> can tell a running run from one whose supervisor died without removing it.
    /// </summary>
    public void WriteControlAccess(ControlAccess access)
    {
        var temporary = ControlPath + ".tmp";
        File.Delete(temporary);
        using (var stream = PrivateFiles.OpenForWriting(temporary, FileMode.CreateNew))
        {
            JsonSerializer.Serialize(stream, new ControlFile(access.Url, access.Token, Environment.ProcessId), RunSummaryJson.Default.ControlFile);
        }

        File.Move(temporary, ControlPath, overwrite: true);
    }

    public void DeleteControlAccess() => File.Delete(ControlPath);

    /// <summary>The running run's control access, or null when the run is not running (or never wrote it).</summary>
    public ControlAccess? ReadControlAccess() => ReadControlFile() is { } file ? new ControlAccess(file.Url, file.Token) : null;

    /// <summary><see cref="ControlPath"/> as written, the supervisor's process id included (absent in files of older versions).</summary>
    internal ControlFile? ReadControlFile() =>
        File.Exists(ControlPath) ? JsonSerializer.Deserialize(File.ReadAllText(ControlPath), RunSummaryJson.Default.ControlFile) : null;

    /// <summary>An existing run's folder by id (for commands that look at a run without resuming it).</summary>
    public static RunFolder Open(string dataDirectory, string runId) => Resume(dataDirectory, runId, create: false);

    public string LogOf(string nodeId) => IOPath.Combine(LogsPath, nodeId + ".log");

    /// <summary><c>&lt;data&gt;/runs/</c>: every run's folder is in it.</summary>
    public static string RunsPath(string dataDirectory) => IOPath.Combine(IOPath.GetFullPath(dataDirectory), "runs");

    /// <summary>Whether <paramref name="name"/> has the form of a run id (a folder under <c>runs/</c> that is a run's).</summary>
    public static bool IsRunId(string name) => RunIdPattern().IsMatch(name);

    /// <summary>A run id such as <c>20261122-041500-ab12</c>: sortable by start time, unique by its random tail.</summary>
    public static string NewRunId(DateTimeOffset now) =>
        now.UtcDateTime.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-" +
        Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(2));

    /// <summary>Creates a new run folder under <paramref name="dataDirectory"/>.</summary>
    public static RunFolder Create(string dataDirectory, DateTimeOffset now)
    {
        for (var attempt = 0; ; attempt++)
        {
            var id = NewRunId(now);
            var path = IOPath.Combine(RunsPath(dataDirectory), id);
            if (Directory.Exists(path) && attempt < 10)
            {
                continue;
            }

            PrivateFiles.CreateFolder(RunsPath(dataDirectory));
            PrivateFiles.CreateFolder(path);
            PrivateFiles.CreateFolder(IOPath.Combine(path, "logs"));
            return new RunFolder(id, path);
        }
    }

    /// <summary>
    /// The folder of the run <paramref name="runId"/> whose id was chosen before it started (<c>corral render</c> put it in
    /// the credentials): made the first time, reopened (logs appended) when its supervisor starts again.
    /// </summary>
    public static RunFolder CreateOrReopen(string dataDirectory, string runId)
    {
        if (!RunIdPattern().IsMatch(runId))
        {
            throw new SupervisorException($"'{runId}' is not a run id: expected the form 20261122-041500-ab12");
        }

        PrivateFiles.CreateFolder(RunsPath(dataDirectory));
        var path = IOPath.Combine(RunsPath(dataDirectory), runId);
        PrivateFiles.CreateFolder(path);
        PrivateFiles.CreateFolder(IOPath.Combine(path, "logs"));
        return new RunFolder(runId, path);
    }

    /// <summary>Reopens an earlier run's folder (<c>--resume</c>); its logs are appended to.</summary>
    public static RunFolder Resume(string dataDirectory, string runId) => Resume(dataDirectory, runId, create: true);

    private static RunFolder Resume(string dataDirectory, string runId, bool create)
    {
        if (!RunIdPattern().IsMatch(runId))
        {
            throw new SupervisorException($"'{runId}' is not a run id: expected the form 20261122-041500-ab12");
        }

        var path = IOPath.Combine(RunsPath(dataDirectory), runId);
        if (!Directory.Exists(path))
        {
            throw new SupervisorException($"{(create ? "cannot resume" : "no")} run {runId}: there is no folder {path}");
        }

        if (create) PrivateFiles.CreateFolder(IOPath.Combine(path, "logs"));
        return new RunFolder(runId, path);
    }

    /// <summary>Writes <c>run.json</c> atomically (a reader never sees half a file).</summary>
    public void WriteSummary(RunSummary summary)
    {
        var temporary = SummaryPath + ".tmp";
        File.Delete(temporary);
        using (var stream = PrivateFiles.OpenForWriting(temporary, FileMode.CreateNew))
        {
            JsonSerializer.Serialize(stream, summary, RunSummaryJson.Default.RunSummary);
        }

        File.Move(temporary, SummaryPath, overwrite: true);
    }

    /// <summary>The seed an earlier run recorded in its <c>run.json</c>, or null when it has none (or no readable file).</summary>
    public long? StoredSeed()
    {
        try
        {
            return ReadSummary()?.Seed;
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            return null;
        }
    }

    public RunSummary? ReadSummary() =>
        File.Exists(SummaryPath) ? JsonSerializer.Deserialize(File.ReadAllText(SummaryPath), RunSummaryJson.Default.RunSummary) : null;

    [GeneratedRegex("^[0-9]{8}-[0-9]{6}-[0-9a-f]{4}$")]
    private static partial Regex RunIdPattern();
}

/// <summary>
/// The contents of <c>control.json</c>: a <see cref="ControlAccess"/> (same names, so older readers still read it)
/// and the supervisor's process id.
/// </summary>
internal sealed record ControlFile(string Url, string Token, int? Pid);

/// <summary>The contents of <c>run.json</c>: written when a run starts and again when it ends.</summary>
public sealed record RunSummary
{
    public required string RunId { get; init; }
    public required string App { get; init; }

    /// <summary>The run's seed, kept by <c>--resume</c> so a resumed run makes the same choices.</summary>
    public long? Seed { get; init; }

    public required DateTimeOffset Started { get; init; }
    public DateTimeOffset? Ended { get; init; }
    public int? ExitCode { get; init; }
    public RunEnd? End { get; init; }
    public string? Error { get; init; }
    public RunOutcome? Outcome { get; init; }
    public IReadOnlyList<NodeStatus> Nodes { get; init; } = [];
}
