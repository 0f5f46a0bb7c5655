using System.CommandLine;
using Corral.Node.Control;
using Corral.Supervisor.Supervision;

namespace Corral.Commands;

/// <summary>
/// What the commands that talk to a running run share: its id and data folder on the command line, and the look-up of
/// its control API (address and operator credential) in the run's folder.
/// </summary>
internal static class RunningRun
{
    public static Argument<string> RunIdArgument() =>
        new("run-id") { Description = "The run's id, as 'corral up' printed it (e.g. 20261122-041500-ab12)." };

    public static Option<string> DataOption() =>
        new("--data") { Description = "The data folder the run uses.", DefaultValueFactory = _ => ".corral", HelpName = "DIR" };

    /// <summary>The run's control access, or null after telling <paramref name="errors"/> why there is none.</summary>
    /// <param name="whenStopped">Appended to the "not running" line: what only a running run can do.</param>
    public static ControlAccess? Find(string dataFolder, string runId, TextWriter errors, string whenStopped = "")
    {
        ControlAccess? access;
        try
        {
            access = RunFolder.Open(Path.GetFullPath(dataFolder), runId).ReadControlAccess();
        }
        catch (SupervisorException e)
        {
            errors.WriteLine($"corral: {e.Message}");
            return null;
        }

        if (access is null) errors.WriteLine($"corral: run {runId} is not running (it has no control.json){whenStopped}");
        return access;
    }

    /// <summary>The line for a run whose control API did not answer.</summary>
    public static string NotAnswering(string runId, ControlAccess access, Exception e) =>
        $"corral: run {runId} does not answer at {access.Url} ({e.Message}); is it still running?";
}
