using System.Diagnostics;
using System.Globalization;
using Corral.Node.Nodes;
using Corral.Node.Planning;

namespace Corral.Supervisor.Supervision;

/// <summary>What to run for one process of a node: an executable, its arguments and its environment.</summary>
internal sealed record Launch(string Executable, IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string> Environment)
{
    /// <summary>The node's credential file, removed by the supervisor if the node has not read it by the time its process ends.</summary>
    public string? CredentialFile { get; init; }

    /// <summary>The folder the process starts in; null: the supervisor's own.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>
    /// <c>corral node &lt;role&gt; [args]</c>, with the node's identity, the run and its ports in the environment; its
    /// credential is in neither environment nor argv, only the path of the private file that holds it.
    /// </summary>
    public static Launch CorralNode(NodeLauncher launcher, RolePlan role, NodeEnvironmentValues values) =>
        new(launcher.Executable, launcher.Arguments(role.Role, role.Args), new Dictionary<string, string>
        {
            [NodeEnvironment.NodeId] = values.NodeId,
            [NodeEnvironment.CredentialFile] = values.CredentialFile,
            [NodeEnvironment.PublicKey] = values.PublicKey,
            [NodeEnvironment.ControlUrl] = values.ControlUrl,
            [NodeEnvironment.RunId] = values.RunId,
            [NodeEnvironment.RunDirectory] = values.RunDirectory,
            [NodeEnvironment.DataDirectory] = values.DataDirectory,
            [NodeEnvironment.Seed] = values.Seed.ToString(CultureInfo.InvariantCulture),
            [NodeEnvironment.Ports] = NodeContext.FormatPorts(values.Ports),
            [NodeEnvironment.BindAddress] = values.BindAddress,
        }) { CredentialFile = values.CredentialFile };

    /// <summary>
    /// A program role's executable with its argument and environment templates filled in, started in its data folder
    /// (found before that, so a relative executable path still means the supervisor's folder); it gets none of the run's secrets.
    /// </summary>
    public static Launch Program(ProgramSpec program, IReadOnlyDictionary<string, int> ports, string data, string nodeId, string bind)
    {
        string Expand(string template) => ProgramTemplate.Expand(template, ports, data, nodeId, bind);
        return new(program.Resolve() ?? program.Executable, program.Arguments.Select(Expand).ToArray(), program.Environment.ToDictionary(e => e.Key, e => Expand(e.Value)))
        {
            WorkingDirectory = data,
        };
    }
}

/// <summary>What a Corral node is told about itself and its run.</summary>
internal sealed record NodeEnvironmentValues(string NodeId, string CredentialFile, string PublicKey, string ControlUrl, string RunId, string RunDirectory,
    string DataDirectory, long Seed, IReadOnlyDictionary<string, int> Ports, string BindAddress);

/// <summary>
/// One OS process of a node, in its own session (<see cref="ProcessSpawner"/>) and, where the kernel allows, in a cgroup
/// of its own (<see cref="Cgroup"/>): its output pumped line by line, SIGTERM to ask it to stop and SIGKILL to end it, both
/// through a <see cref="ProcessHandle"/> opened at the start (so neither reaches a process that later got its pid), and
/// once it has ended, whatever it left behind is killed too: everything in its cgroup (daemons that left its session
/// included), or without one, everything in its session (children, grandchildren that moved to another process group).
/// </summary>
internal sealed class NodeProcess : INodeInstance, IDisposable
{
    private static readonly TimeSpan OutputDrainTimeout = TimeSpan.FromSeconds(2);

    private readonly Process _process;
    private readonly ProcessHandle _handle;
    private readonly Cgroup? _cgroup;
    private readonly Task _pumps;

    private NodeProcess(Process process, ProcessHandle handle, Cgroup? cgroup, NodeOutput output)
    {
        _process = process;
        _handle = handle;
        _cgroup = cgroup;
        Pid = process.Id;
        Exited = process.WaitForExitAsync();
        _pumps = Task.WhenAll(output.PumpAsync(process.StandardOutput), output.PumpAsync(process.StandardError));
    }

    /// <summary>The process id, which is also its session and process-group id.</summary>
    public int Pid { get; }

    int? INodeInstance.Pid => Pid;

    /// <summary>The cgroup the process and everything it starts are in, or null when its session is what gets swept.</summary>
    public string? CgroupPath => _cgroup?.Path;

    /// <summary>Completes when the process itself has exited (its session may still hold others until <see cref="WaitAsync"/>).</summary>
    public Task Exited { get; }

    public bool HasExited => Exited.IsCompleted;

    /// <summary>
    /// Starts <paramref name="launch"/>, in a cgroup named <paramref name="cgroupName"/> inside <paramref name="runCgroup"/>
    /// when there is one and the kernel lets the process in; throws what <see cref="Process.Start()"/> throws when it cannot.
    /// </summary>
    public static async Task<NodeProcess> StartAsync(Launch launch, NodeOutput output, Cgroup? runCgroup = null, string? cgroupName = null)
    {
        var cgroup = runCgroup is not null && cgroupName is not null ? runCgroup.CreateChild(cgroupName, out _) : null;
        Process process;
        try
        {
            process = await ProcessSpawner.Shared.StartAsync(launch.Executable, launch.Arguments, info =>
            {
                info.RedirectStandardInput = true;
                info.RedirectStandardOutput = true;
                info.RedirectStandardError = true;
                if (launch.WorkingDirectory is { } folder)
                {
                    info.WorkingDirectory = folder;
                }

                foreach (var (name, value) in launch.Environment)
                {
                    info.Environment[name] = value;
                }
            });
        }
        catch
        {
            if (cgroup is not null)
            {
                await cgroup.KillAndRemoveAsync();
            }

            throw;
        }

        // A child's pid is not reused before it is reaped: if it is not reaped once the pidfd is open, the pidfd is its.
        var handle = ProcessHandle.Open(process.Id, () => !process.HasExited);

        // Moved in right after the start, before it can start anything of its own: a Corral node starts nothing before
        // its host runs, and a program role starts in the foreground (setsid and setpriv exec, they do not fork).
        if (cgroup is not null && !cgroup.Adopt(process.Id))
        {
            await cgroup.KillAndRemoveAsync();
            cgroup = null;
        }

        // A node reads nothing from the terminal: give it end-of-file, not the supervisor's input.
        process.StandardInput.Close();
        return new NodeProcess(process, handle, cgroup, output);
    }

    /// <summary>Asks the process to stop (SIGTERM to it alone: it decides how to drain its own children).</summary>
    public void Terminate() => _handle.Signal(Signals.Term);

    /// <summary>SIGKILL to the process and everything in its cgroup, or without one, in its session.</summary>
    public void Kill()
    {
        _handle.Signal(Signals.Kill);
        if (_cgroup is { } cgroup)
        {
            cgroup.Kill();
        }
        else
        {
            Signals.KillSession(Pid);
        }
    }

    /// <summary>Kills the process if it has not exited within <paramref name="grace"/>; true if it had to.</summary>
    public async Task<bool> KillAfterAsync(TimeSpan grace, TimeProvider time)
    {
        try
        {
            await Exited.WaitAsync(grace, time);
            return false;
        }
        catch (TimeoutException)
        {
            Kill();
            return true;
        }
    }

    /// <summary>
    /// Waits for the process to exit, then kills whatever is left in its cgroup (and removes it) or its session (no
    /// process outlives its node, whatever ended it, SIGKILL included) and lets the output pipes drain; returns the exit code.
    /// </summary>
    public async Task<int> WaitAsync()
    {
        await Exited;
        if (_cgroup is { } cgroup)
        {
            // What is still there after the wait stays in the run's cgroup, which the run's end kills and removes.
            await cgroup.KillAndRemoveAsync();
        }
        else
        {
            Signals.KillSession(Pid);
        }

        await Task.WhenAny(_pumps, Task.Delay(OutputDrainTimeout));
        return _process.ExitCode;
    }

    public void Dispose()
    {
        _handle.Dispose();
        _process.Dispose();
    }
}
