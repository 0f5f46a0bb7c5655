using System.Security.Cryptography;
using Corral.Hosting.Apps;
using Corral.Hosting.Supervision;
using Corral.Hosting.Topology;

namespace Corral.Commands;

/// <summary>
/// The topology file of a running <c>corral up</c>: reloads it with the same overrides and notices
/// edits. Polling a content hash (rather than a file watcher) also catches editors that replace the
/// file by rename, and costs one small read every half second.
/// </summary>
internal sealed class TopologyFile(AppCatalog catalog, string path, IReadOnlyList<string> overrides, TimeProvider time) : ITopologySource
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);
    private byte[] _lastHash = Hash(path);

    /// <summary>Loads and validates the file as it is now; throws <see cref="TopologyException"/> when it does not validate.</summary>
    public LoadedApp Load()
    {
        return catalog.Load(TopologyLoader.Load(path, overrides)).App;
    }

    /// <summary>Completes when the file's content differs from the last time it was seen.</summary>
    public async Task WaitForChangeAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            await Task.Delay(PollInterval, time, cancellationToken);
            var hash = Hash(path);
            if (!hash.AsSpan().SequenceEqual(_lastHash))
            {
                _lastHash = hash;
                return;
            }
        }
    }

    private static byte[] Hash(string file)
    {
        try
        {
            return SHA256.HashData(File.ReadAllBytes(file));
        }
        catch (IOException)
        {
            return [];
        }
    }
}
