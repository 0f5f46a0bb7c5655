using System.CommandLine;

namespace Corral.Bench;

/// <summary>A <c>corral</c> executable under test, with the label its figures are printed under (<c>jit</c>, <c>native</c>).</summary>
internal sealed record CorralBinary(string Label, string Path)
{
    /// <summary>
    /// <c>--binary label=path</c>, repeatable, so one run compares builds side by side (the machines are noisy:
    /// only ratios within one run mean something). Without it: the JIT build of this checkout.
    /// </summary>
    public static Option<string[]> Option() => new("--binary")
    {
        Description = "label=path of a corral executable; repeat to compare (default: jit=the JIT build of this checkout)",
        AllowMultipleArgumentsPerToken = false,
        DefaultValueFactory = _ => [],
    };

    public static IReadOnlyList<CorralBinary> Parse(IEnumerable<string> values)
    {
        var binaries = values.Select(value =>
        {
            var (label, path) = value.Split('=', 2) is [var l, var p] ? (l, p) : (System.IO.Path.GetFileName(value), value);
            var full = System.IO.Path.GetFullPath(path);
            return File.Exists(full)
                ? new CorralBinary(label, full)
                : throw new ArgumentException($"--binary {value}: {full} does not exist (build it first: dotnet build -c Release, or ./corral --version)");
        }).ToList();
        return binaries.Count > 0 ? binaries : [new CorralBinary("jit", Jit())];
    }

    /// <summary>The repository this benchmark was built in (the folder holding <c>Corral.slnx</c>).</summary>
    public static string Repository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Corral.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("run the benchmarks from the repository (Corral.slnx not found)");
    }

    public static string Example(string name) => System.IO.Path.Combine(Repository(), "examples", name);

    /// <summary>The apphost <c>dotnet build -c Release</c> leaves (JIT-compiled at run time).</summary>
    private static string Jit()
    {
        var bin = System.IO.Path.Combine(Repository(), "src", "Corral", "bin", "Release", "net10.0");
        return new[] { System.IO.Path.Combine(bin, "corral"), System.IO.Path.Combine(bin, "linux-x64", "corral") }.FirstOrDefault(File.Exists)
               ?? throw new InvalidOperationException($"no JIT build under {bin}: run dotnet build Corral.slnx -c Release");
    }
}
