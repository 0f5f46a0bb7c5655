using System.Text.Json;
using Corral.Node.Storage;
using Corral.Shootout.Game;
using Corral.Shootout.Peer.Etcd;
using Corral.Shootout.Store;

namespace Corral.Shootout.Peer;

/// <summary>
/// A peer game's history, read back from etcd: every revision of the log key, in revision order (etcd is never
/// compacted during a run), each holding the events of the transaction that wrote it. Sequence numbers are given in
/// that order, and each event keeps its revision.
/// </summary>
internal static class PeerHistory
{
    public static async Task<IReadOnlyList<GameEvent>> ReadAsync(EtcdStore etcd, PeerKeys keys, CancellationToken ct)
    {
        // The log's last revision, not the store's: on a shared cluster other keys move the store's revision on.
        var log = await etcd.GetAsync(keys.Log, ct);
        var events = new List<GameEvent>();
        if (log.Kvs.Count == 0) return events;
        var head = log.Kvs[0].ModRevision;
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(ct);
        reading.CancelAfter(TimeSpan.FromSeconds(30));
        await foreach (var change in etcd.WatchPrefixAsync(keys.Log, 1, reading.Token))
        {
            var revision = change.Kv.ModRevision;
            if (change.Kv.Key.ToStringUtf8() == keys.Log && change.Type == Mvccpb.Event.Types.EventType.Put)
            {
                foreach (var e in JsonSerializer.Deserialize(change.Kv.Value.Span, PeerJson.Default.GameEventArray) ?? [])
                {
                    events.Add(e with { Seq = events.Count + 1, Revision = revision });
                }
            }

            if (revision >= head) break;
        }

        return events;
    }

    /// <summary>Writes <c>events.jsonl</c> whole, through a temporary file and a rename, so a reader never sees half of it.</summary>
    public static void Write(string path, IReadOnlyList<GameEvent> events)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temporary = path + ".tmp";
        using (var file = PrivateFiles.OpenForWriting(temporary, FileMode.Create))
        {
            file.Write(new EncodedEvents().Encode(events).All);
            file.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The game the history describes, folded through server mode's rules (for the summary).</summary>
    public static ShootoutGame Fold(Config.ShootoutConfig config, long seed, IReadOnlyList<GameEvent> events)
    {
        var game = new ShootoutGame(config, seed);
        foreach (var e in events) game.Apply(e);
        return game;
    }
}
