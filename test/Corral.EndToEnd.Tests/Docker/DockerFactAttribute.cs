using System.Diagnostics;

namespace Corral.EndToEnd.Tests.Docker;

/// <summary>
/// A test that needs a Docker engine: skipped, saying why, when the <c>docker</c> command line cannot reach a daemon
/// (<c>./test.sh</c> starts one with its own data root when it can and exports <c>DOCKER_HOST</c>).
/// </summary>
internal sealed class DockerFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> Missing = new(Probe);

    /// <summary>Whether no Docker daemon answers (the tests are skipped).</summary>
    public static bool Unavailable => Missing.Value is not null;

    public DockerFactAttribute()
    {
        if (Missing.Value is { } reason)
        {
            Skip = reason;
        }
    }

    /// <summary>A program the test runs besides docker (<c>/usr/bin/docker-compose</c>): the test is skipped, saying so, without it.</summary>
    public string? Needs
    {
        get;
        init
        {
            field = value;
            if (Skip is null && value is not null && !File.Exists(value))
            {
                Skip = $"{value} is not installed";
            }
        }
    }

    private static string? Probe()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("docker", ["info", "--format", "{{.ServerVersion}}"])
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            })!;
            if (!process.WaitForExit(TimeSpan.FromSeconds(20)))
            {
                process.Kill(entireProcessTree: true);
                return "no Docker daemon answered within 20 s";
            }

            return process.ExitCode == 0 ? null : $"no Docker daemon reachable: {process.StandardError.ReadToEnd().Trim()}";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "the docker command line is not installed";
        }
    }
}
