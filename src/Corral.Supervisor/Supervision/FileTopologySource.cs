using Corral.Node.Apps;

namespace Corral.Supervisor.Supervision;

/// <summary>
/// A topology file watched for edits by polling its size and write time: a file-system watcher misses the
/// rename-and-replace many editors save with, and polling once a second costs nothing.
/// </summary>
public sealed class FileTopologySource : ITopologySource
{
    private readonly string _path;
    private readonly Func<string, LoadedApp> _load;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private (long Length, DateTime Written) _seen;

    /// <param name="path">The topology file.</param>
    /// <param name="load">Reads and validates the file (parse, <c>--set</c> overrides, the app's Load); throws TopologyException.</param>
    public FileTopologySource(string path, Func<string, LoadedApp> load, TimeSpan? interval = null, TimeProvider? time = null)
    {
        _path = Path.GetFullPath(path);
        _load = load;
        _interval = interval ?? TimeSpan.FromSeconds(1);
        _time = time ?? TimeProvider.System;
        _seen = Stamp();
    }

    public LoadedApp Load() => _load(_path);

    /// <summary>Completes once the file has changed and then stayed the same for one interval (an editor's save is done).</summary>
    public async Task WaitForChangeAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            await Task.Delay(_interval, _time, cancellationToken);
            var now = Stamp();
            if (now == _seen)
            {
                continue;
            }

            await Task.Delay(_interval, _time, cancellationToken);
            if (Stamp() == now)
            {
                _seen = now;
                return;
            }
        }
    }

    private (long, DateTime) Stamp()
    {
        var file = new FileInfo(_path);
        return file.Exists ? (file.Length, file.LastWriteTimeUtc) : (-1, DateTime.MinValue);
    }
}
