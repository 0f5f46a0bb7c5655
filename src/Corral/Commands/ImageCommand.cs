using System.CommandLine;
using System.Reflection;
using Corral.Node.Processes;
using Corral.Supervisor.Containers;
using Corral.Supervisor.Supervision;

namespace Corral.Commands;

/// <summary>
/// <c>corral image</c>: builds one OCI image for every Corral role from the native binary, <c>FROM scratch</c> plus the
/// libraries and files it needs, tagged with the version; the same binary gives the same image id. <c>--program</c>
/// builds an image for a program role (etcd, redis-server) the same way from the host's executable. The images are
/// loaded into the Docker engine (<c>docker load</c>), or written as archives with <c>--output</c>.
/// </summary>
internal static class ImageCommand
{
    public static Command Create()
    {
        var binary = new Option<string?>("--binary") { Description = "The native corral binary to package (default: this one).", HelpName = "PATH" };
        var tag = new Option<string?>("--tag") { Description = $"The image's name (default: corral:{Version})." };
        var programs = new Option<string[]>("--program")
        {
            Description = "Also build corral-<name>:<version> from this host's executable (etcd, redis-server); repeatable.",
            HelpName = "NAME", AllowMultipleArgumentsPerToken = false,
        };
        var output = new Option<string?>("--output") { Description = "Write the image archives (docker load format) to this folder instead of loading them.", HelpName = "DIR" };
        var command = new Command("image", "Build Corral's container image (FROM scratch) and, if asked, images for program roles.") { binary, tag, programs, output };
        command.SetAction(async (result, cancellationToken) =>
        {
            var errors = result.InvocationConfiguration.Error;
            var say = result.InvocationConfiguration.Output;
            var corral = result.GetValue(binary) ?? OwnBinary();
            if (corral is null || Executables.Resolve(corral) is not { } corralPath)
            {
                errors.WriteLine(corral is null
                    ? "corral: this corral is not the native binary (dotnet run?); run ./corral image, or name the binary with --binary PATH"
                    : $"corral: --binary {corral} is not an executable file");
                return ExitCodes.BadInput;
            }

            var corralTag = result.GetValue(tag) ?? $"corral:{Version}";
            var builds = new List<(string Tag, string Name, Func<Task<(IReadOnlyList<ImageFile>, string)>> Recipe)>
            {
                (corralTag, "corral", () => ImageRecipe.ForCorralAsync(corralPath, cancellationToken)),
            };
            foreach (var program in result.GetValue(programs) ?? [])
            {
                if (program.Contains('/') || Executables.Resolve(program) is not { } programPath)
                {
                    errors.WriteLine($"corral: --program {program}: give the name of a program installed on this host's PATH (etcd, redis-server)");
                    return ExitCodes.BadInput;
                }

                builds.Add((Node.Planning.ProgramImage.For(corralTag, program), program, () => ImageRecipe.ForProgramAsync(programPath, cancellationToken)));
            }

            var folder = result.GetValue(output);
            try
            {
                foreach (var (name, label, recipe) in builds)
                {
                    var (files, executable) = await recipe();
                    var archive = new ImageArchive(name, [executable], ImageRecipe.Environment(executable),
                        new Dictionary<string, string> { ["org.opencontainers.image.version"] = Version, ["org.opencontainers.image.title"] = label });
                    using var buffer = new MemoryStream();
                    var id = archive.Write(files, buffer);
                    buffer.Position = 0;
                    if (folder is not null)
                    {
                        Directory.CreateDirectory(folder);
                        var path = Path.Combine(folder, $"{label}-{Version}.tar");
                        await using (var file = File.Create(path))
                        {
                            await buffer.CopyToAsync(file, cancellationToken);
                        }

                        say.WriteLine($"{name} {id} ({Sizes.Describe(buffer.Length)}) written to {path}");
                        continue;
                    }

                    var (exit, _, problem) = await DockerCli.RunAsync(["load"], buffer, cancellationToken);
                    if (exit != 0)
                    {
                        errors.WriteLine($"corral: docker load failed for {name}: {problem.Trim()}");
                        return ExitCodes.Failure;
                    }

                    say.WriteLine($"{name} {id} ({Sizes.Describe(buffer.Length)}, {files.Count(f => !f.IsFolder)} files)");
                }
            }
            catch (InvalidOperationException e)
            {
                errors.WriteLine($"corral: {e.Message}");
                return ExitCodes.Failure;
            }

            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The version images are tagged with (the build's, without its source revision).</summary>
    public static string Version { get; } =
        (typeof(ImageCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0").Split('+')[0];

    /// <summary>
    /// This process's own executable when it is the native binary: not the <c>dotnet</c> host, nor the JIT build's
    /// launcher (which has its <c>corral.dll</c> beside it).
    /// </summary>
    private static string? OwnBinary() =>
        Environment.ProcessPath is { } path && Path.GetFileName(path) == "corral" &&
        !File.Exists(Path.Combine(Path.GetDirectoryName(path)!, "corral.dll")) ? path : null;
}
