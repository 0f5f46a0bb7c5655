namespace Corral.Node.Apps;

/// <summary>
/// An app that can show a finished run's report again from the results it stored (<c>corral report &lt;run-id&gt;</c>):
/// the work queue serves its reporter page. Optional.
/// </summary>
public interface IRunReport
{
    /// <summary>Serves the report of the run in <paramref name="runFolder"/> until cancelled; returns the exit code.</summary>
    Task<int> ServeReportAsync(string runFolder, string bindAddress, int port, TextWriter output, TextWriter errors, CancellationToken cancellationToken);
}
