using Corral.Balancer;
using Corral.Counter;
using Corral.Node.Apps;
using Corral.Node.Topology;
using Corral.Render;
using Corral.Shootout;
using Corral.WorkQueue;

namespace Corral.Render.Tests;

/// <summary>Renders the repository's topology files as the command does, with placeholder credentials so output is stable.</summary>
internal static class Rendering
{
    private static readonly AppCatalog Catalog = new([new ShootoutModule(), new BalancerModule(), new CounterModule(), new WorkQueueModule()]);

    /// <summary>Every example and every original's file, relative to examples/.</summary>
    public static TheoryData<string> Topologies()
    {
        var examples = Path.Combine(Repo.Root, "examples");
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(examples, "*.yaml").Concat(Directory.GetFiles(Path.Combine(examples, "originals"))).Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetRelativePath(examples, file));
        }

        return data;
    }

    public static RenderInput Input(string relative, params string[] overrides)
    {
        var path = Path.Combine(Repo.Root, "examples", relative);
        var document = TopologyLoader.Load(path, overrides);
        var (app, _) = Catalog.Load(document);
        return new RenderInput
        {
            App = app,
            TopologyFileName = Path.GetFileName(path),
            TopologyText = File.ReadAllText(path),
            Version = "0.1.0",
            Credentials = RenderedCredentials.Placeholders(app.Plan),
            CustomResource = CustomResourceKind.Of(document),
            Overrides = overrides,
        };
    }

    /// <summary>The golden file's path for a topology: originals/x.json → originals-x.json.yaml.</summary>
    public static string Golden(string kind, string relative, string extension) =>
        Path.Combine(Repo.Root, "test", "Corral.Render.Tests", "Golden", kind, relative.Replace('/', '-') + extension);

    /// <summary>Compares with the golden file; CORRAL_UPDATE_GOLDEN=1 rewrites it instead (review the diff before committing).</summary>
    public static void AssertGolden(string path, string actual)
    {
        if (Environment.GetEnvironmentVariable("CORRAL_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(path, actual);
            return;
        }

        Assert.True(File.Exists(path), $"no golden file {path}: run the test with CORRAL_UPDATE_GOLDEN=1 and review it");
        Assert.Equal(File.ReadAllText(path), actual);
    }
}
