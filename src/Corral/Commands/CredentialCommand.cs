using System.CommandLine;
using System.Net;
using Corral.Node.Control;
using Corral.Node.Security;
using Corral.Supervisor.Supervision;

namespace Corral.Commands;

/// <summary>
/// <c>corral credential &lt;run-id&gt; &lt;node-id&gt; --out PATH</c>: writes a credential file (0600) for a node to be started
/// by hand (<c>corral node ... --join URL --credential-file PATH</c>). It asks the running run's control API with the
/// operator's credential; the file gets the node scope only, so a node started by hand never reports the run's outcome.
/// </summary>
internal static class CredentialCommand
{
    public static Command Create()
    {
        var runId = RunningRun.RunIdArgument();
        var nodeId = new Argument<string>("node-id") { Description = "The planned node the credential is for (e.g. cowboy-3)." };
        var output = new Option<string>("--out") { Description = "Where to write the credential file (created 0600; it must not exist).", Required = true, HelpName = "PATH" };
        var data = RunningRun.DataOption();
        var command = new Command("credential", "Write a credential file for a node started by hand with --join.") { runId, nodeId, output, data };
        command.SetAction(async (result, cancellationToken) =>
        {
            var errors = result.InvocationConfiguration.Error;
            var id = result.GetValue(runId)!;
            var node = result.GetValue(nodeId)!;
            var path = Path.GetFullPath(result.GetValue(output)!);
            if (RunningRun.Find(result.GetValue(data)!, id, errors) is not { } access) return ExitCodes.BadInput;

            if (File.Exists(path))
            {
                errors.WriteLine($"corral: {path} exists already; a credential file is written fresh, never over another file");
                return ExitCodes.BadInput;
            }

            using var control = new ControlClient(new Uri(access.Url), access.Token);
            try
            {
                var issued = await control.IssueCredentialAsync(node, cancellationToken);
                CredentialFile.Write(path, issued.Credential, issued.PublicKey);
                result.InvocationConfiguration.Output.WriteLine(
                    $"wrote {path} for {issued.NodeId} ({issued.Role}); start it with: corral node {issued.Role} --join {access.Url} --credential-file {path}");
                return ExitCodes.Success;
            }
            catch (HttpRequestException e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                errors.WriteLine($"corral: run {id} has no node '{node}'");
                return ExitCodes.BadInput;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                errors.WriteLine(RunningRun.NotAnswering(id, access, e));
                return ExitCodes.Failure;
            }
        });
        return command;
    }
}
