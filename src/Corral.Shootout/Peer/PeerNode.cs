using Corral.Node.Nodes;
using Corral.Shootout.Config;
using Corral.Shootout.Peer.Etcd;
using Corral.Shootout.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Corral.Shootout.Peer;

/// <summary>What a peer cowboy's endpoints read: its etcd connection once it has one, and its own counters.</summary>
internal sealed class PeerView
{
    private volatile Attached? _attached;

    public PeerStats Stats { get; } = new();

    public void Attach(EtcdStore etcd, PeerGame game) => _attached = new Attached(etcd, game);

    private sealed record Attached(EtcdStore Etcd, PeerGame Game);

    /// <summary>The agreed state, read from etcd now (any cowboy shows the same), with the current leader.</summary>
    public async Task<GameSnapshot?> SnapshotAsync(CancellationToken ct)
    {
        if (_attached is not { } a) return null;
        var state = await a.Game.ReadAsync(ct);
        state.Leader = (await a.Etcd.LeaderAsync(a.Game.Keys.Election, ct))?.Value.ToStringUtf8();
        return state.ToSnapshot();
    }
}

/// <summary>The <c>shootout.cowboy</c> node in peer mode: <c>/healthz</c>, <c>/readyz</c>, <c>GET /state</c> and <c>GET /peer/stats</c> around a <see cref="PeerCowboy"/>.</summary>
internal static class PeerNode
{
    public static WebApplication Build(NodeContext context, ShootoutConfig config)
    {
        var builder = NodeHost.CreateBuilder(context);
        builder.AddJsonContext(ShootoutJson.Default);
        builder.Services.AddSingleton(config);
        builder.Services.AddSingleton<PeerView>();
        builder.Services.AddSingleton<PeerCowboy>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PeerCowboy>());
        var app = builder.Build();
        app.UseNodeDefaults();
        app.MapPeer();
        return app;
    }

    public static async Task<int> RunAsync(NodeContext context, ShootoutConfig config, CancellationToken cancellationToken)
    {
        await using var app = Build(context, config);
        return await NodeHost.RunAsync(app, cancellationToken);
    }

    private static void MapPeer(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/state", GetStateAsync);
        routes.MapGet("/peer/stats", (PeerView view) => TypedResults.Ok(view.Stats.View()));
    }

    private static async Task<Results<Ok<GameSnapshot>, ProblemHttpResult>> GetStateAsync(PeerView view, CancellationToken ct)
    {
        try
        {
            return await view.SnapshotAsync(ct) is { } snapshot
                ? TypedResults.Ok(snapshot)
                : TypedResults.Problem("this cowboy has not reached etcd yet", statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        catch (Exception e) when (EtcdStore.IsTransient(e) && !ct.IsCancellationRequested)
        {
            return TypedResults.Problem($"etcd is unreachable: {e.Message}", statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }
}
