using Corral.Node.Planning;
using Corral.Node.Storage;
using Corral.Node.Topology;
using Corral.Shootout.Peer;
using Corral.Shootout.Peer.Etcd;

namespace Corral.Shootout.Config;

/// <summary>What reading a shootout topology gave: the config and plan when it validated, null otherwise.</summary>
internal sealed record ShootoutReadResult(ShootoutConfig? Config, AppPlan? Plan);

/// <summary>
/// Reads the three shapes a shootout comes in: Corral's own YAML (<c>app: shootout</c>), seed 000's
/// <c>config.json</c> (a bare list of cowboys) and seed 001's <c>Shootout</c> resource. Every problem is
/// recorded with its position and what would be valid, so a user sees all of them at once.
/// </summary>
internal static class ShootoutConfigReader
{
    public const int MinCowboys = 2;
    public const int MaxCowboys = 1000;
    public const int MaxNameLength = 64;
    private const string CowboyShape = "a mapping with name, health and damage";

    public static bool IsOriginal000(TopologyNode root) =>
        root is TopologySequence { Items.Count: > 0 } sequence
        && sequence.Items.All(i => i is TopologyMapping m && m.ContainsKey("name") && (m.ContainsKey("health") || m.ContainsKey("damage")));

    public static bool IsOriginal001(TopologyNode root) =>
        root is TopologyMapping mapping
        && mapping["kind"] is TopologyScalar { Value: "Shootout" }
        && mapping["apiVersion"] is TopologyScalar { Value: var api } && api.StartsWith("example.com/", StringComparison.Ordinal);

    public static ShootoutReadResult Read(TopologyDocument document, TopologyDiagnostics diagnostics)
    {
        var errorsBefore = diagnostics.Errors.Count;
        var (config, reader) = document.Root switch
        {
            var root when IsOriginal000(root) => ReadOriginal000((TopologySequence)root, document.Settings, diagnostics),
            var root when IsOriginal001(root) => ReadOriginal001((TopologyMapping)root, diagnostics),
            TopologyMapping root => ReadCorral(root, diagnostics),
            var root => Unrecognised(root, diagnostics),
        };

        // restarts: is read even when the rest failed, so its own mistakes are reported in the same pass.
        var plan = config?.Mode == ShootoutMode.Peer
            ? PeerPlan.Create(config.Cowboys.Count, config.Etcd)
            : ShootoutPlan.Create(config?.Cowboys.Count ?? 0);
        if (reader is not null)
        {
            plan = RestartCaps.Apply(reader, plan);
            if (IsOriginal001(document.Root)) reader.WarnUnknownKeys();
            else reader.RejectUnknownKeys();
        }

        return diagnostics.Errors.Count > errorsBefore || config is null
            ? new ShootoutReadResult(null, null)
            : new ShootoutReadResult(config, plan);
    }

    private static (ShootoutConfig?, MappingReader?) Unrecognised(TopologyNode root, TopologyDiagnostics diagnostics)
    {
        diagnostics.Error(root, $"a shootout topology must be a mapping (app: shootout, cowboys: [...]) or seed 000's list of cowboys, not {root.Kind}");
        return (null, null);
    }

    private static (ShootoutConfig?, MappingReader?) ReadCorral(TopologyMapping root, TopologyDiagnostics diagnostics)
    {
        var reader = new MappingReader(root, diagnostics);
        reader.Node("app");
        var settings = ReadSettings(reader, ShootoutMode.Server);
        var cowboysNode = reader.Node("cowboys");
        IReadOnlyList<CowboySpec>? cowboys = null;
        if (cowboysNode is null)
        {
            diagnostics.Error(root, $"cowboys is missing: expected a list of at least {MinCowboys} cowboys, each {CowboyShape}");
        }
        else if (reader.OptionalSequence("cowboys") is { } sequence)
        {
            cowboys = ReadCowboys(sequence, "cowboys", diagnostics, original: false);
        }

        return (Build(settings, cowboys), reader);
    }

    private static (ShootoutConfig?, MappingReader?) ReadOriginal000(TopologySequence root, TopologyMapping? overrides, TopologyDiagnostics diagnostics)
    {
        // Seed 000 ran with one-second ticks and a game server; its list holds every cowboy's start state. The list has
        // no room for settings, so --set ones (tick=50ms) arrive beside it and are read as Corral's own keys.
        var cowboys = ReadCowboys(root, "", diagnostics, original: true);
        if (overrides is null)
        {
            return (Build(new Settings(ShootoutMode.Server, ShootoutConfig.DefaultTick, null, 1, ShootoutConfig.DefaultIntermission), cowboys), null);
        }

        var reader = new MappingReader(overrides, diagnostics);
        return (Build(ReadSettings(reader, ShootoutMode.Server), cowboys), reader);
    }

    private static (ShootoutConfig?, MappingReader?) ReadOriginal001(TopologyMapping root, TopologyDiagnostics diagnostics)
    {
        var reader = new MappingReader(root, diagnostics);
        reader.Node("apiVersion");
        reader.Node("kind");

        // Corral's own keys may be added to the resource with --set (mode=server); they keep their meaning.
        var settings = ReadSettings(reader, ShootoutMode.Peer);
        IReadOnlyList<CowboySpec>? cowboys = null;
        var spec = reader.OptionalMapping("spec");
        if (spec is null)
        {
            diagnostics.Error(root, "spec is missing: a Shootout resource holds its cowboys in spec.cowboys");
        }
        else
        {
            var node = spec.Node("cowboys");
            if (node is TopologyScalar { IsNull: false } text)
            {
                cowboys = ReadEmbeddedCowboys(text, diagnostics);
            }
            else
            {
                diagnostics.Error(node ?? spec.Mapping,
                    "spec.cowboys must be a string holding a JSON list such as [{\"name\": \"John\", \"health\": 10, \"damage\": 1}]");
            }

            spec.WarnUnknownKeys();
        }

        return (Build(settings, cowboys), reader);
    }

    private static IReadOnlyList<CowboySpec>? ReadEmbeddedCowboys(TopologyScalar text, TopologyDiagnostics diagnostics)
    {
        // The JSON sits inside a (folded) string, so positions inside it mean nothing in the file:
        // report each problem at spec.cowboys with the item it concerns.
        TopologyNode parsed;
        try
        {
            parsed = TopologyParser.Parse(text.Value, "spec.cowboys");
        }
        catch (TopologyException e)
        {
            diagnostics.Error(text, $"spec.cowboys does not hold valid JSON: {e.Errors[0].Message}");
            return null;
        }

        if (parsed is not TopologySequence sequence)
        {
            diagnostics.Error(text, $"spec.cowboys must hold a JSON list of cowboys, each {CowboyShape}, not {parsed.Kind}");
            return null;
        }

        var inner = new TopologyDiagnostics();
        var cowboys = ReadCowboys(sequence, "spec.cowboys", inner, original: true);
        foreach (var error in inner.Errors) diagnostics.Error(text.Position, error.Message);
        foreach (var warning in inner.Warnings) diagnostics.Warn(text, warning.Message);
        return cowboys;
    }

    private sealed record Settings(ShootoutMode Mode, TimeSpan Tick, long? Seed, int Rounds, TimeSpan Intermission, Durability Durability = Durability.Fsync,
        string? Etcd = null);

    private static Settings ReadSettings(MappingReader reader, ShootoutMode defaultMode)
    {
        var modeText = reader.OptionalChoice("mode", "server", "peer");
        var mode = modeText switch
        {
            "server" => ShootoutMode.Server,
            "peer" => ShootoutMode.Peer,
            _ => defaultMode,
        };
        var etcd = reader.OptionalString("etcd");
        if (etcd is not null)
        {
            try
            {
                EtcdStore.Parse(etcd);
            }
            catch (ArgumentException e)
            {
                reader.Diagnostics.Error(reader.Mapping["etcd"]!, $"{reader.Name("etcd")}: {e.Message}");
                etcd = null;
            }

            if (mode != ShootoutMode.Peer)
            {
                reader.Diagnostics.Warn(reader.Mapping["etcd"]!, $"{reader.Name("etcd")} is used only in peer mode (mode: peer); ignored in server mode");
            }
        }

        var tick = reader.OptionalDuration("tick", min: TimeSpan.Zero) ?? ShootoutConfig.DefaultTick;
        var seed = reader.OptionalLong("seed");
        var rounds = reader.OptionalInt("rounds", min: 1, max: 10_000) ?? 1;
        var intermission = reader.OptionalDuration("intermission", min: TimeSpan.Zero) ?? ShootoutConfig.DefaultIntermission;
        // The shootout once said full | normal: those words still work, with a warning naming the new one.
        var durability = reader.OptionalDurability("durability", [Durability.Sync, Durability.Fsync], oldNames: true) ?? Durability.Fsync;
        return new Settings(mode, tick, seed, rounds, intermission, durability, etcd);
    }

    private static ShootoutConfig? Build(Settings settings, IReadOnlyList<CowboySpec>? cowboys) =>
        cowboys is null
            ? null
            : new ShootoutConfig
            {
                Mode = settings.Mode,
                Tick = settings.Tick,
                Seed = settings.Seed,
                Rounds = settings.Rounds,
                Intermission = settings.Intermission,
                Durability = settings.Durability,
                Cowboys = cowboys,
                Etcd = settings.Mode == ShootoutMode.Peer ? settings.Etcd : null,
            };

    private static IReadOnlyList<CowboySpec>? ReadCowboys(TopologySequence sequence, string path, TopologyDiagnostics diagnostics, bool original)
    {
        var listName = path.Length == 0 ? "the list" : path;
        if (sequence.Items.Count < MinCowboys)
        {
            diagnostics.Error(sequence, $"{listName} must hold at least {MinCowboys} cowboys (a shootout needs a rival), got {sequence.Items.Count}");
        }
        else if (sequence.Items.Count > MaxCowboys)
        {
            diagnostics.Error(sequence, $"{listName} may hold at most {MaxCowboys} cowboys, got {sequence.Items.Count}");
        }

        var cowboys = new List<CowboySpec>();
        var seen = new Dictionary<string, (int Index, TopologyNode Node)>(StringComparer.Ordinal);
        var ok = true;
        for (var i = 0; i < sequence.Items.Count; i++)
        {
            var itemPath = $"{path}[{i}]";
            var item = MappingReader.From(sequence.Items[i], diagnostics, itemPath);
            if (item is null)
            {
                ok = false;
                continue;
            }

            var cowboy = ReadCowboy(item, original);
            if (cowboy is null)
            {
                ok = false;
                continue;
            }

            if (seen.TryGetValue(cowboy.Name, out var first))
            {
                diagnostics.Error(item.Mapping["name"]!,
                    $"{item.Name("name")} '{cowboy.Name}' is already the name of {path}[{first.Index}] ({first.Node.Position}): names must be unique");
                ok = false;
                continue;
            }

            seen[cowboy.Name] = (i, item.Mapping["name"]!);
            cowboys.Add(cowboy);
        }

        return ok && sequence.Items.Count is >= MinCowboys and <= MaxCowboys ? cowboys : null;
    }

    private static CowboySpec? ReadCowboy(MappingReader item, bool original)
    {
        var errors = item.Diagnostics.Errors.Count;
        var name = item.RequiredString("name", $"a name of 1 to {MaxNameLength} letters, digits, '-' or '_'");
        if (name.Length > 0 && !IsValidName(name))
        {
            item.Diagnostics.Error(item.Mapping["name"]!,
                $"{item.Name("name")} '{name}' is not a valid cowboy name: use 1 to {MaxNameLength} letters, digits, '-' or '_'");
        }

        var health = item.RequiredInt("health", min: 1, max: 1_000_000);
        var damage = item.RequiredInt("damage", min: 1, max: 1_000_000);
        if (original)
        {
            // Seed 000 keeps each cowboy's live state in the same objects; at the start it is always "alive, no winner".
            if (item.OptionalBool("is_alive") == false)
            {
                item.Diagnostics.Warn(item.Mapping["is_alive"]!, $"{item.Name("is_alive")} is false, but every cowboy starts a shootout alive; ignored");
            }

            if (item.Mapping["winner"] is TopologyScalar { IsNull: false, Value.Length: > 0 } winner)
            {
                item.Diagnostics.Warn(winner, $"{item.Name("winner")} is a result, not a setting; ignored");
            }

            item.Node("winner");
            item.WarnUnknownKeys();
        }
        else
        {
            item.RejectUnknownKeys();
        }

        return item.Diagnostics.Errors.Count > errors ? null : new CowboySpec { Name = name, Health = health, Damage = damage };
    }

    public static bool IsValidName(string name) =>
        name.Length is > 0 and <= MaxNameLength && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}
