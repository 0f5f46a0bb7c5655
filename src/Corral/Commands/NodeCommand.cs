using System.CommandLine;
using System.Text.Json;
using Corral.Node.Apps;
using Corral.Node.Control;
using Corral.Node.Nodes;
using Corral.Node.Randomness;
using Corral.Node.Resilience;

namespace Corral.Commands;

/// <summary>
/// <c>corral node &lt;app.role&gt;</c>: runs one node. The supervisor starts nodes this way with their identity in the
/// environment and their credential in a private file; a person can too, with <c>--join</c> and <c>--credential-file</c>.
/// </summary>
internal static class NodeCommand
{
    public static Command Create(AppCatalog catalog)
    {
        var role = new Argument<string>("role") { Description = "The node's role, app.role: " + string.Join(", ", catalog.Modules.SelectMany(m => m.Roles)) };
        var id = new Option<string?>("--id") { Description = $"The node id (default: ${NodeEnvironment.NodeId})." };
        var join = new Option<string?>("--join") { Description = $"The supervisor's control API URL (default: ${NodeEnvironment.ControlUrl}).", HelpName = "URL" };
        var credential = new Option<string?>("--credential-file")
        {
            Description = $"The node's credential file, 0600, read and removed at start (default: ${NodeEnvironment.CredentialFile}); 'corral credential' writes one.",
            HelpName = "PATH",
        };
        var bind = new Option<string?>("--bind") { Description = "The address to listen on (default 127.0.0.1)." };
        var port = new Option<string[]>("--port") { Description = "A port to listen on, name=port (http=8101); 0 picks a free one. Repeatable.", HelpName = "name=port" };
        var command = new Command("node", "Run one node of an app (started by 'corral up', or by hand with --join).") { role, id, join, credential, bind, port };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (result, cancellationToken) =>
        {
            var errors = result.InvocationConfiguration.Error;
            var roleName = result.GetValue(role)!;
            if (catalog.FindByRole(roleName) is not { } module)
            {
                errors.WriteLine($"unknown role '{roleName}': expected one of {string.Join(", ", catalog.Modules.SelectMany(m => m.Roles))}");
                return ExitCodes.BadInput;
            }

            NodeContext context;
            try
            {
                var ports = result.GetValue(port) is { Length: > 0 } given ? NodeContext.ParsePorts(string.Join(';', given)) : null;
                context = NodeContext.FromEnvironment(roleName, result.GetValue(id), result.GetValue(join), result.GetValue(bind), ports,
                    credentialFile: result.GetValue(credential));
            }
            catch (InvalidOperationException e)
            {
                errors.WriteLine($"{roleName}: {e.Message}");
                return ExitCodes.BadInput;
            }

            if (await FetchConfigAsync(context, cancellationToken) is not { } config)
            {
                errors.WriteLine($"{context.NodeId}: the supervisor at {context.ControlUrl} did not answer with the app's config; is the run up and the credential this run's?");
                return ExitCodes.Failure;
            }

            return await module.RunNodeAsync(roleName, context with { Config = config }, result.UnmatchedTokens.ToArray(), cancellationToken);
        });
        return command;
    }

    /// <summary>The app's config from the control API, with a bounded number of tries (the supervisor may still be starting its API).</summary>
    private static async Task<JsonElement?> FetchConfigAsync(NodeContext context, CancellationToken cancellationToken)
    {
        using var control = new ControlClient(context.ControlUrl, context.Token) { Seed = context.Seed };
        var backoff = new Backoff(new BackoffOptions { Initial = TimeSpan.FromMilliseconds(50), Max = TimeSpan.FromSeconds(1) },
            context.Time, new SeededRandom(context.Seed, $"{context.NodeId}/config"));
        while (backoff.Attempt < 20)
        {
            try
            {
                return (await control.GetConfigAsync(cancellationToken)).Config;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                await backoff.WaitAsync(cancellationToken);
            }
        }

        return null;
    }
}
