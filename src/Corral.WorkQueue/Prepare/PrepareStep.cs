using System.Collections;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Corral.Node.Apps;
using Corral.Node.Processes;
using Corral.Node.Text;
using Corral.Node.Topology;
using Corral.WorkQueue.Worker;

namespace Corral.WorkQueue.Prepare;

/// <summary>
/// The topology's <c>prepare:</c> command (<c>[npm, ci]</c>): run once per run in the spec root before any node starts,
/// skipped when <c>node_modules</c> was prepared from the same lock file by the same command (a stamp in
/// <c>node_modules/.corral-prepared</c> holds their hash). Without a lock file it runs every time.
/// </summary>
internal static class PrepareStep
{
    public const string Key = "prepare";
    public const string StampFile = ".corral-prepared";
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);
    private static readonly string[] LockFiles = ["package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml"];
    private static readonly string[] NodeTools = ["npm", "npx", "yarn", "pnpm", "corepack"];

    /// <summary>Reads <c>prepare:</c> (an argument list, no placeholders, its program present), or null when absent.</summary>
    public static IReadOnlyList<string>? Read(MappingReader reader, string specRoot, string? searchPath)
    {
        var d = reader.Diagnostics;
        var node = reader.Node(Key);
        if (node is null or TopologyScalar { IsNull: true }) return null;
        if (node is not TopologySequence list || list.Items.Count == 0)
        {
            d.Error(node, $"{Key} must be a command as a list of arguments, run once in the spec root before any node starts, such as [npm, ci]");
            return null;
        }

        var parts = new List<string>();
        foreach (var item in list.Items)
        {
            if (item is TopologyScalar { IsNull: false } scalar && scalar.Value.Length > 0) parts.Add(scalar.Value);
            else d.Error(item, $"{Key}: each argument must be a non-empty text value (the command is run without a shell)");
        }

        if (parts.Count != list.Items.Count) return null;
        var program = parts[0];
        if (Executables.Resolve(program, searchPath, specRoot) is null)
        {
            d.Error(list, $"{Key}: the program '{program}' is not {(program.Contains('/') ? $"an executable file (relative to the spec root {specRoot})" : "on the PATH")}: "
                + (NodeTools.Contains(program) ? "install Node.js and npm (apt-get install npm), or remove prepare:" : "install it, or remove prepare:"));
            return null;
        }

        // npm and its kin are Node scripts: without node they fail with a confusing 127 after the run has started.
        if (NodeTools.Contains(program) && Executables.Resolve("node", searchPath) is null)
        {
            d.Error(list, $"{Key}: '{program}' needs Node.js, and 'node' is not on the PATH: install it (apt-get install nodejs), or remove prepare:");
            return null;
        }

        return parts;
    }

    /// <summary>The hash of the command and the spec root's lock file, or null when there is no lock file (then it always runs).</summary>
    public static string? Stamp(string specRoot, IReadOnlyList<string> command)
    {
        var lockFile = LockFiles.Select(f => Path.Combine(specRoot, f)).FirstOrDefault(File.Exists);
        if (lockFile is null) return null;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(string.Join('\0', command) + "\n" + Path.GetFileName(lockFile) + "\n"));
        hash.AppendData(File.ReadAllBytes(lockFile));
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    public static string StampPath(string specRoot) => Path.Combine(specRoot, "node_modules", StampFile);

    /// <summary>Whether <c>node_modules</c> was prepared from this lock file by this command.</summary>
    public static bool IsCurrent(string specRoot, IReadOnlyList<string> command) =>
        Stamp(specRoot, command) is { } stamp && File.Exists(StampPath(specRoot)) && File.ReadAllText(StampPath(specRoot)).Trim() == stamp;

    /// <summary>Runs the command unless it is current; throws <see cref="AppPrepareException"/> with the remedy when it fails.</summary>
    public static async Task RunAsync(string specRoot, IReadOnlyList<string> command, Action<string> say, CancellationToken cancellationToken)
    {
        var shown = string.Join(' ', command);
        if (IsCurrent(specRoot, command))
        {
            say($"prepare: {shown} skipped, node_modules matches the lock file");
            return;
        }

        say($"prepare: {shown} in {specRoot}");
        var log = Path.Combine(Path.GetTempPath(), $"corral-prepare-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-{Guid.NewGuid():N}.log");
        var started = Environment.TickCount64;
        int exit;
        try
        {
            exit = await RunProcessAsync(specRoot, command, log, cancellationToken);
        }
        catch (IOException e)
        {
            throw new AppPrepareException($"prepare: {shown} could not start in {specRoot}: {e.Message}");
        }

        var tail = File.Exists(log) ? Tail(log) : "";
        if (exit != 0)
        {
            throw new AppPrepareException(
                $"prepare: {shown} failed ({(exit == -1 ? $"no end after {Durations.Format(Timeout)}" : $"exit {exit.ToString(CultureInfo.InvariantCulture)}")}) in {specRoot}; nothing was started. " +
                $"Run it there by hand to see why (is the package registry reachable? does the lock file match package.json?); its output is in {log}" +
                (tail.Length > 0 ? ":\n" + tail : ""));
        }

        File.Delete(log);
        if (Stamp(specRoot, command) is { } stamp && Directory.Exists(Path.Combine(specRoot, "node_modules")))
        {
            await File.WriteAllTextAsync(StampPath(specRoot), stamp + "\n", CancellationToken.None);
        }

        say(string.Create(CultureInfo.InvariantCulture, $"prepare: {shown} done in {(Environment.TickCount64 - started) / 1000.0:0.0}s"));
    }

    /// <summary>
    /// Runs under <c>setpriv --pdeathsig KILL</c> in a process group of its own, from a thread that lives until it ends
    /// (the parent-death signal follows that thread): if corral dies, so does the install. -1 after the timeout.
    /// </summary>
    private static async Task<int> RunProcessAsync(string folder, IReadOnlyList<string> command, string log, CancellationToken cancellationToken)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            var name = (string)e.Key;
            if (!name.StartsWith("CORRAL_", StringComparison.Ordinal)) environment[name] = (string?)e.Value ?? "";
        }

        var pid = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var exited = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                var child = PosixSpawn.Start("setpriv", ["--pdeathsig", "KILL", "--", .. command], environment, folder, log);
                pid.TrySetResult(child);
                exited.TrySetResult(PosixSpawn.Wait(child));
            }
            catch (IOException e)
            {
                pid.TrySetException(e);
                exited.TrySetException(e);
            }
        }) { IsBackground = true, Name = "prepare" };
        thread.Start();
        var group = await pid.Task;
        try
        {
            return await exited.Task.WaitAsync(Timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            PosixSpawn.KillGroup(group);
            await exited.Task;
            return -1;
        }
        catch (OperationCanceledException)
        {
            PosixSpawn.KillGroup(group);
            await exited.Task;
            throw;
        }
    }

    private static string Tail(string path)
    {
        var lines = File.ReadAllLines(path);
        return string.Join('\n', lines.Skip(Math.Max(0, lines.Length - 15)).Select(l => "  " + l));
    }
}
