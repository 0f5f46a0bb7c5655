using System.Diagnostics;

namespace Corral.EndToEnd.Tests.Docker;

/// <summary><c>corral image</c> builds a FROM-scratch image that runs Corral, is small, and is the same image when built twice.</summary>
[Collection(EndToEnd.Collection)]
public sealed class ImageTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);
    private readonly TempFolder _folder = new();
    private readonly string _tag = $"corral-test-{Guid.NewGuid():N}:1";

    // The target is 40 MB; the image is 43.9 MB since `corral render` brought the Kubernetes models into the one
    // binary (bench/README.md). This bound guards against growth beyond that, not the target.
    private const long SizeCeiling = 44L * 1024 * 1024;

    [DockerFact]
    public async Task The_image_runs_corral_stays_under_its_size_ceiling_and_rebuilding_it_gives_the_same_id()
    {
        var (code, output) = await CorralProcess.RunAsync(_folder.Path, Timeout, "image", "--binary", NativeBinary(), "--tag", _tag);
        Assert.True(code == 0, output);
        var first = await DockerAsync("image", "inspect", "--format", "{{.Id}} {{.Size}}", _tag);

        (code, output) = await CorralProcess.RunAsync(_folder.Path, Timeout, "image", "--binary", NativeBinary(), "--tag", _tag);
        Assert.True(code == 0, output);
        var second = await DockerAsync("image", "inspect", "--format", "{{.Id}} {{.Size}}", _tag);

        Assert.Equal(first, second);
        var size = long.Parse(first.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(size < SizeCeiling, $"the image is {size} bytes, over its {SizeCeiling} byte ceiling");
        var version = await DockerAsync("run", "--rm", "--network", "none", _tag, "--version");
        Assert.Matches(@"^\d+\.\d+\.\d+", version);
        var examples = Path.Combine(CorralBinary.RepositoryRoot, "examples");
        var validated = await DockerAsync("run", "--rm", "--network", "none", "-v", $"{examples}:/examples:ro", _tag, "validate", "/examples/shootout.yaml");
        Assert.Contains("valid shootout topology", validated);
    }

    /// <summary>The image packages the native binary; a JIT build has no single file to package.</summary>
    internal static string NativeBinary() =>
        File.Exists(Path.Combine(Path.GetDirectoryName(CorralBinary.Path)!, "corral.dll"))
            ? Path.Combine(CorralBinary.RepositoryRoot, ".corral", "bin", "corral")
            : CorralBinary.Path;

    private static async Task<string> DockerAsync(params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo("docker", arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        using var cancel = new CancellationTokenSource(Timeout);
        var output = process.StandardOutput.ReadToEndAsync(cancel.Token);
        var errors = process.StandardError.ReadToEndAsync(cancel.Token);
        await process.WaitForExitAsync(cancel.Token);
        Assert.True(process.ExitCode == 0, $"docker {string.Join(' ', arguments)} failed: {await errors}");
        return (await output).Trim();
    }

    public void Dispose()
    {
        using var remove = Process.Start(new ProcessStartInfo("docker", ["image", "rm", "--force", _tag]) { RedirectStandardOutput = true, RedirectStandardError = true });
        remove?.WaitForExit(TimeSpan.FromSeconds(30));
        _folder.Dispose();
    }
}
