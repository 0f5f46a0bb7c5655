using Corral.Node.Nodes;
using Corral.Shootout.Config;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Corral.Shootout.Cowboy;

/// <summary>
/// The <c>shootout.cowboy</c> node: a small host for <c>/healthz</c> and <c>/readyz</c> around the
/// <see cref="CowboyLoop"/>. It reports ready once it has registered (so "all ready" means "all in the game").
/// </summary>
internal static class CowboyNode
{
    public static WebApplication Build(NodeContext context, ShootoutConfig config, CowboyOptions options)
    {
        var builder = NodeHost.CreateBuilder(context);
        builder.Services.AddSingleton(config);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<CowboyLoop>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<CowboyLoop>());
        var app = builder.Build();
        app.UseNodeDefaults();
        return app;
    }

    public static async Task<int> RunAsync(NodeContext context, ShootoutConfig config, CowboyOptions options, CancellationToken cancellationToken)
    {
        await using var app = Build(context, config, options);
        return await NodeHost.RunAsync(app, cancellationToken);
    }

    /// <summary>Reads <c>--server URL</c> from the node's arguments.</summary>
    public static CowboyOptions ParseArgs(IReadOnlyList<string> args)
    {
        Uri? server = null;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            string? value = null;
            if (arg == "--server" && i + 1 < args.Count) value = args[++i];
            else if (arg.StartsWith("--server=", StringComparison.Ordinal)) value = arg["--server=".Length..];
            else throw new ArgumentException($"unknown argument '{arg}' for shootout.cowboy: expected --server URL");

            if (!Uri.TryCreate(value, UriKind.Absolute, out server) || server.Scheme is not ("http" or "https"))
            {
                throw new ArgumentException($"--server '{value}' is not an http:// URL");
            }
        }

        return new CowboyOptions(server);
    }
}
