using System.CommandLine;
using Corral.Node.Apps;
using Corral.Node.Topology;

namespace Corral.Commands;

/// <summary>The topology argument and its overrides, shared by <c>up</c> and <c>validate</c>.</summary>
internal sealed class TopologyOptions
{
    public Argument<string> File { get; } = new("topology")
    {
        Description = "The topology file: Corral's YAML (examples/*.yaml) or an original's own file, unchanged.",
    };

    public Option<string[]> Set { get; } = new("--set")
    {
        Description = "Override a topology value, e.g. --set tick=50ms or --set cowboys.0.health=3. Repeatable.",
        HelpName = "key=value",
    };

    public Option<long?> Seed { get; } = new("--seed")
    {
        Description = "The run's random seed (same as --set seed=N). Same seed, same choices.",
    };

    public void AddTo(Command command)
    {
        command.Arguments.Add(File);
        command.Options.Add(Set);
        command.Options.Add(Seed);
    }

    /// <summary>Every override, <c>--seed</c> last so it wins over a <c>--set seed=</c>.</summary>
    public IReadOnlyList<string> Overrides(ParseResult result)
    {
        var overrides = new List<string>(result.GetValue(Set) ?? []);
        if (result.GetValue(Seed) is { } seed)
        {
            overrides.Add($"seed={seed}");
        }

        return overrides;
    }

    /// <summary>Loads and validates the topology; prints warnings; returns null after printing the errors.</summary>
    /// <param name="offThisMachine">Whether an engine runs the nodes elsewhere (see <see cref="TopologyDocument.NodesOffThisMachine"/>).</param>
    public static (LoadedApp App, TopologyDocument Document)? TryLoad(AppCatalog catalog, string path, IReadOnlyList<string> overrides, TextWriter output, TextWriter errors,
        bool offThisMachine = false)
    {
        try
        {
            var document = TopologyLoader.Load(path, overrides) with { NodesOffThisMachine = offThisMachine };
            var (app, warnings) = catalog.Load(document);
            foreach (var warning in warnings)
            {
                output.WriteLine($"{warning.Position}: warning: {warning.Message}");
            }

            return (app, document);
        }
        catch (TopologyException e)
        {
            foreach (var error in e.Errors)
            {
                errors.WriteLine($"{error.Position}: error: {error.Message}");
            }

            errors.WriteLine($"{path}: {e.Errors.Count} error{(e.Errors.Count == 1 ? "" : "s")}; nothing was started.");
            return null;
        }
    }
}
