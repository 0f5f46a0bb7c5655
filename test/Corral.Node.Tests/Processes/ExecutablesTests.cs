using System.Runtime.Versioning;
using Corral.Node.Processes;

namespace Corral.Node.Tests.Processes;

/// <summary>The kit's PATH look-up, on a PATH the test makes.</summary>
[UnsupportedOSPlatform("windows")]
public sealed class ExecutablesTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string Folder(string name) => Directory.CreateDirectory(Path.Combine(_folder.Path, name)).FullName;

    private static string Program(string folder, string name, bool executable = true)
    {
        var path = Path.Combine(folder, name);
        File.WriteAllText(path, "#!/bin/sh\n");
        File.SetUnixFileMode(path, executable ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute : UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }

    [Fact]
    public void A_bare_name_is_found_in_the_first_folder_of_the_injected_path_that_has_it_executable()
    {
        var first = Folder("first");
        var second = Folder("second");
        var third = Folder("third");
        Program(first, "tool", executable: false);
        var expected = Program(second, "tool");
        Program(third, "tool");

        Assert.Equal(expected, Executables.Resolve("tool", $"{Folder("empty")}::{first}:{second}:{third}"));
    }

    [Fact]
    public void A_name_on_no_folder_of_the_path_is_not_found()
    {
        Program(Folder("elsewhere"), "tool");

        Assert.Null(Executables.Resolve("tool", Folder("bin")));
        Assert.Null(Executables.Resolve("tool", ""));
        Assert.Null(Executables.Resolve("", Folder("elsewhere")));
    }

    [Fact]
    public void A_name_with_a_slash_is_a_path_from_the_given_folder_and_the_path_is_not_searched()
    {
        var specs = Folder("specs");
        var bin = Folder("bin");
        var script = Program(Directory.CreateDirectory(Path.Combine(specs, "scripts")).FullName, "run.sh");
        Program(bin, "run.sh");

        Assert.Equal(script, Executables.Resolve("./scripts/run.sh", bin, specs));
        Assert.Equal(script, Executables.Resolve(script, bin));
        Assert.Null(Executables.Resolve("./run.sh", bin, specs));
        Assert.Null(Executables.Resolve(Program(specs, "plain.txt", executable: false), bin));
    }
}
