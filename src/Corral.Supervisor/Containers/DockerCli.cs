using System.Diagnostics;

namespace Corral.Supervisor.Containers;

/// <summary>
/// The <c>docker</c> command line, the one way Corral talks to a Docker engine (its client library relies on
/// reflection; the CLI keeps the binary Native AOT clean). <c>DOCKER_HOST</c> and the CLI's own settings apply.
/// </summary>
public static class DockerCli
{
    /// <summary>Runs <c>docker</c> with <paramref name="arguments"/>, feeding <paramref name="input"/> to its standard input.</summary>
    public static async Task<(int ExitCode, string Output, string Errors)> RunAsync(IReadOnlyList<string> arguments, Stream? input, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo("docker")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = input is not null, UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException("could not start docker");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new InvalidOperationException("the docker command line is not installed (apt-get install docker.io)");
        }

        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var errors = process.StandardError.ReadToEndAsync(cancellationToken);
            if (input is not null)
            {
                await input.CopyToAsync(process.StandardInput.BaseStream, cancellationToken);
                process.StandardInput.Close();
            }

            await process.WaitForExitAsync(cancellationToken);
            return (process.ExitCode, await output, await errors);
        }
    }
}
