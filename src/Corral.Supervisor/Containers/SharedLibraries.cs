using System.Diagnostics;

namespace Corral.Supervisor.Containers;

/// <summary>
/// The shared libraries an executable loads, as the dynamic loader resolves them on this host (<c>ldd</c>), plus the
/// OpenSSL libraries .NET opens at run time (<c>dlopen</c>, invisible to <c>ldd</c>) for its random numbers and TLS.
/// </summary>
public static class SharedLibraries
{
    /// <summary>The libraries .NET's crypto shim loads by name; searched beside libc, where Debian keeps them.</summary>
    public static readonly IReadOnlyList<string> OpenSsl = ["libssl.so.3", "libcrypto.so.3"];

    /// <summary>
    /// The absolute paths <paramref name="executable"/> needs (the loader included), sorted, or an empty list for a
    /// static executable. Throws <see cref="InvalidOperationException"/> when a library is missing on this host.
    /// </summary>
    public static async Task<IReadOnlyList<string>> ResolveAsync(string executable, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo("ldd") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(executable);
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not run ldd (from libc-bin)");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        var text = await output + await errors;
        if (process.ExitCode != 0)
        {
            // ldd says so and exits 1 for a static executable (Go programs such as etcd): it needs nothing.
            return text.Contains("not a dynamic executable", StringComparison.Ordinal)
                ? []
                : throw new InvalidOperationException($"ldd {executable} failed: {text.Trim()}");
        }

        return Parse(text);
    }

    /// <summary>The library paths in <c>ldd</c>'s output; the kernel's vDSO has no file and is left out.</summary>
    public static IReadOnlyList<string> Parse(string lddOutput)
    {
        var paths = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var raw in lddOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var arrow = raw.IndexOf("=>", StringComparison.Ordinal);
            var target = (arrow >= 0 ? raw[(arrow + 2)..] : raw).Trim();
            if (target.StartsWith("not found", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"a library is missing on this host: {raw}");
            }

            var end = target.IndexOf(" (", StringComparison.Ordinal);
            var path = end >= 0 ? target[..end] : target;
            if (path.StartsWith('/'))
            {
                paths.Add(path);
            }
        }

        return [.. paths];
    }

    /// <summary>The OpenSSL libraries found in the folder of libc among <paramref name="libraries"/>.</summary>
    public static IReadOnlyList<string> FindOpenSsl(IReadOnlyList<string> libraries)
    {
        var libc = libraries.FirstOrDefault(l => Path.GetFileName(l) == "libc.so.6")
            ?? throw new InvalidOperationException("the executable does not link libc; is it Corral's native binary?");
        var folder = Path.GetDirectoryName(libc)!;
        return OpenSsl.Select(name => Path.Combine(folder, name)).Select(path => File.Exists(path)
            ? path
            : throw new InvalidOperationException($"{path} is missing; install libssl3 (apt-get install libssl3)")).ToArray();
    }
}
