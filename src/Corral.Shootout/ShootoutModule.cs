using System.Globalization;
using System.Text.Json;
using Corral.Node.Apps;
using Corral.Node.Control;
using Corral.Node.Dashboard;
using Corral.Node.Nodes;
using Corral.Node.Topology;
using Corral.Shootout.Checking;
using Corral.Shootout.Config;
using Corral.Shootout.Cowboy;
using Corral.Shootout.Peer;
using Corral.Shootout.Server;

namespace Corral.Shootout;

/// <summary>
/// The shootout app: cowboys shoot a random live rival every tick, and the last one standing wins. In server mode a
/// game server owns the game; in peer mode the cowboys agree through etcd and an elected leader keeps the beat.
/// </summary>
public sealed class ShootoutModule : IAppModule, ILiveStatus, IDashboardPanel
{
    public DashboardPanel Panel { get; } = Dashboard.ShootoutPanel.Create();

    private readonly Live.ShootoutLiveStatus _live = new();

    public IAsyncEnumerable<IReadOnlyList<string>> WatchAsync(ControlClient control, CancellationToken cancellationToken) =>
        _live.WatchAsync(control, cancellationToken);

    public string Name => ShootoutPlan.App;

    public IReadOnlyList<string> Roles { get; } = [ShootoutPlan.ServerRole, ShootoutPlan.CowboyRole];

    /// <summary>The server reports in server mode; in peer mode the elected leader, which may be any cowboy.</summary>
    public IReadOnlyList<string> OutcomeRoles { get; } = [ShootoutPlan.ServerRole, ShootoutPlan.CowboyRole];

    public bool RecognisesOriginal(TopologyNode root) => ShootoutConfigReader.IsOriginal000(root) || ShootoutConfigReader.IsOriginal001(root);

    public LoadedApp Load(TopologyDocument document, TopologyDiagnostics diagnostics)
    {
        var (config, plan) = ShootoutConfigReader.Read(document, diagnostics);

        // With errors recorded the caller throws before using the result; an empty placeholder keeps the signature honest.
        return config is null || plan is null
            ? new LoadedApp(this, ShootoutPlan.Create(0), default)
            : new LoadedApp(this, plan, config.ToJson());
    }

    public async Task<int> RunNodeAsync(string role, NodeContext context, string[] args, CancellationToken cancellationToken)
    {
        var config = await ConfigOfAsync(context, cancellationToken);
        return role switch
        {
            ShootoutPlan.ServerRole when args.Length == 0 => await ShootoutServer.RunAsync(context, config, cancellationToken),
            ShootoutPlan.ServerRole => throw new ArgumentException($"shootout.server takes no arguments, got '{string.Join(' ', args)}'"),
            ShootoutPlan.CowboyRole when config.Mode == ShootoutMode.Peer => await PeerNode.RunAsync(context, config, cancellationToken),
            ShootoutPlan.CowboyRole => await CowboyNode.RunAsync(context, config, CowboyNode.ParseArgs(args), cancellationToken),
            _ => throw new ArgumentException($"unknown shootout role '{role}': expected {string.Join(" or ", Roles)}"),
        };
    }

    private static async Task<ShootoutConfig> ConfigOfAsync(NodeContext context, CancellationToken cancellationToken)
    {
        if (context.Config.ValueKind == JsonValueKind.Object) return ShootoutConfig.FromJson(context.Config);

        // A node started without its config in hand asks the supervisor for it.
        using var control = new ControlClient(context.ControlUrl, context.Token, context.Time) { Seed = context.Seed };
        return ShootoutConfig.FromJson((await control.GetConfigAsync(cancellationToken)).Config);
    }

    public CheckReport Check(string runFolder)
    {
        var result = ShootoutChecker.CheckFile(Path.Combine(runFolder, ShootoutChecker.EventsFile));
        return new CheckReport(result.Passed, result.Violations.Select(v => v.ToString()).ToArray(), result.Facts);
    }

    public IEnumerable<string> DescribeOutcome(JsonElement summary, string runFolder)
    {
        ShootoutSummary? s;
        try
        {
            s = summary.Deserialize(ShootoutJson.Default.ShootoutSummary);
        }
        catch (JsonException)
        {
            s = null;
        }

        if (s is null)
        {
            yield return $"shootout finished; history in {Path.Combine(runFolder, ShootoutChecker.EventsFile)}";
            yield break;
        }

        foreach (var w in s.Winners) yield return $"round {w.Round}: {w.Winner} wins";
        yield return string.Create(CultureInfo.InvariantCulture, $"duration {TimeSpan.FromMilliseconds(s.DurationMs):g}, {s.ShotsFired} shots fired");
        var width = Math.Max(6, s.Cowboys.Max(c => c.Name.Length));
        yield return $"{"cowboy".PadRight(width)}  wins  shots  dealt  taken";
        foreach (var c in s.Cowboys)
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"{c.Name.PadRight(width)}  {c.Wins,4}  {c.ShotsFired,5}  {c.DamageDealt,5}  {c.DamageTaken,5}");
        }

        yield return $"history: {Path.Combine(runFolder, ShootoutChecker.EventsFile)}";
    }
}
