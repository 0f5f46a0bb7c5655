using Corral.Node.Topology;

namespace Corral.Node.Apps;

/// <summary>The apps this binary knows, and the rule that picks one for a topology document.</summary>
public sealed class AppCatalog(IEnumerable<IAppModule> modules)
{
    private readonly IReadOnlyList<IAppModule> _modules = modules.ToArray();

    public IReadOnlyList<IAppModule> Modules => _modules;

    public IAppModule? Find(string name) => _modules.FirstOrDefault(m => m.Name == name);

    public IAppModule? FindByRole(string role) => _modules.FirstOrDefault(m => m.Roles.Contains(role));

    /// <summary>
    /// Corral's own files name their app (<c>app: shootout</c>); the originals' files are recognised by shape.
    /// </summary>
    public IAppModule Select(TopologyDocument document)
    {
        var names = string.Join(", ", _modules.Select(m => m.Name));
        if (document.Root is TopologyMapping mapping && mapping["app"] is { } appNode)
        {
            if (appNode is TopologyScalar { IsNull: false } app && Find(app.Value) is { } module)
            {
                return module;
            }

            throw new TopologyException(appNode.Position, $"unknown app {MappingReader.Show(appNode)}: expected one of {names}");
        }

        var matches = _modules.Where(m => m.RecognisesOriginal(document.Root)).ToArray();
        return matches.Length switch
        {
            1 => matches[0],
            0 => throw new TopologyException(document.Root.Position,
                $"cannot tell which app this file is for: add 'app:' with one of {names}, or use an original's file unchanged"),
            _ => throw new TopologyException(document.Root.Position,
                $"this file could be for {string.Join(" or ", matches.Select(m => m.Name))}: add 'app:' to say which"),
        };
    }

    /// <summary>Selects the app and loads the document, throwing one exception that lists every error.</summary>
    public (LoadedApp App, IReadOnlyList<TopologyError> Warnings) Load(TopologyDocument document)
    {
        var module = Select(document);
        var diagnostics = new TopologyDiagnostics();
        var loaded = module.Load(document, diagnostics);
        diagnostics.ThrowIfErrors();
        return (loaded, diagnostics.Warnings);
    }
}
