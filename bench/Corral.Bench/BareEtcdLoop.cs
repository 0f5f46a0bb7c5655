using System.Diagnostics;
using Corral.Node.Http;
using Corral.Node.Metrics;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Net.Client;

namespace Corral.Bench;

/// <summary>
/// What etcd itself sustains for a peer shot's transaction, with no game around it: a throwaway etcd started as a peer
/// shootout starts its own (the same flags, on a unix socket), and one loop per shooter, each on its own gRPC channel
/// as each cowboy process has, committing back to back a transaction of a shot's shape: three mod-revision compares
/// that always hold (each loop owns its keys, so none conflicts), two cowboy-record puts and one put of a log entry to a
/// key all loops share. With <c>read</c>, each transaction follows a range read over a prefix of a 20-cowboy game's
/// size, as a cowboy that reads the whole game before each shot does.
/// </summary>
internal static class BareEtcdLoop
{
    /// <summary>What one window measured: transactions/s, CPU µs per transaction of the loops' process and of etcd, latency.</summary>
    public sealed record Result(double TxnPerSecond, double ClientCpuMicros, double EtcdCpuMicros, double P50Ms, double P99Ms);

    // A cowboy record and a shot's log entry as a 20-cowboy peer game writes them (the same sizes, give or take digits).
    private static readonly ByteString Record = ByteString.CopyFromUtf8(
        """{"round":1,"health":999123,"lastBeat":0,"shots":12345,"shotsFired":12345,"damageDealt":12345,"damageTaken":12345}""");

    private static readonly ByteString LogEntry = ByteString.CopyFromUtf8(
        """[{"kind":"shot","seq":0,"round":1,"time":"2026-12-06T02:30:00.1234567+00:00","shooter":"c12","target":"c7","damage":1,"healthBefore":999123,"healthAfter":999122,"beat":0}]""");

    private const string Prefix = "/bare/";

    public static async Task<Result> RunAsync(int loops, TimeSpan warmup, TimeSpan duration, bool read)
    {
        var folder = Directory.CreateTempSubdirectory("corral-bench-bare-etcd-").FullName;
        using var etcd = StartEtcd(folder);
        try
        {
            var socket = Path.Combine(folder, "etcd.sock:0");
            var channels = Enumerable.Range(0, loops).Select(_ => Channel(socket)).ToArray();
            var clients = channels.Select(c => new EtcdClient(c.CreateCallInvoker()).GetConnection().KVClient).ToArray();
            var round = await SetUpAsync(clients[0], loops);

            using var stop = new CancellationTokenSource();
            var measuring = 0;
            var counts = new long[loops];
            var histograms = Enumerable.Range(0, loops).Select(_ => new LatencyHistogram()).ToArray();
            var workers = Enumerable.Range(0, loops).Select(i => Task.Run(async () =>
            {
                var kv = clients[i];
                var own = Key($"cowboys/s{i}");
                var target = Key($"cowboys/t{i}");
                var (ownRevision, targetRevision) = (round, round);
                var clock = new Stopwatch();
                while (!stop.IsCancellationRequested)
                {
                    clock.Restart();
                    if (read) await kv.RangeAsync(new RangeRequest { Key = Key(""), RangeEnd = ByteString.CopyFromUtf8("/bare0") }, cancellationToken: stop.Token);
                    var txn = new TxnRequest
                    {
                        Compare = { Unchanged(Key("round"), round), Unchanged(own, ownRevision), Unchanged(target, targetRevision) },
                        Success =
                        {
                            new RequestOp { RequestPut = new PutRequest { Key = own, Value = Record } },
                            new RequestOp { RequestPut = new PutRequest { Key = target, Value = Record } },
                            new RequestOp { RequestPut = new PutRequest { Key = Key("log"), Value = LogEntry } },
                        },
                    };
                    var response = await kv.TxnAsync(txn, cancellationToken: stop.Token);
                    if (!response.Succeeded) throw new InvalidOperationException($"loop {i}: a transaction whose compares must hold failed");
                    ownRevision = targetRevision = response.Header.Revision;
                    if (Volatile.Read(ref measuring) == 1)
                    {
                        counts[i]++;
                        histograms[i].Record((long)clock.Elapsed.TotalMicroseconds);
                    }
                }
            })).ToArray();

            await Task.Delay(warmup);
            var self = Process.GetCurrentProcess();
            self.Refresh();
            var (clientBefore, etcdBefore) = (self.TotalProcessorTime.TotalSeconds, ProcessCpu.Seconds(etcd.Id));
            var window = Stopwatch.StartNew();
            Volatile.Write(ref measuring, 1);
            await Task.Delay(duration);
            Volatile.Write(ref measuring, 0);
            var elapsed = window.Elapsed.TotalSeconds;
            self.Refresh();
            var (clientAfter, etcdAfter) = (self.TotalProcessorTime.TotalSeconds, ProcessCpu.Seconds(etcd.Id));
            await stop.CancelAsync();
            try
            {
                await Task.WhenAll(workers);
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
                // The loops end on a cancelled call.
            }

            foreach (var c in channels) c.Dispose();
            // Counts and histograms were written by the loops before the flag fell; the loops are done now.
            var txns = counts.Sum();
            var merged = LatencyHistogram.FromBytes(histograms.SelectMany(h => h.ToBytes()).ToArray(), 0);
            return new Result(txns / elapsed, (clientAfter - clientBefore) * 1e6 / Math.Max(1, txns), (etcdAfter - etcdBefore) * 1e6 / Math.Max(1, txns),
                merged.PercentileMs(0.50), merged.PercentileMs(0.99));
        }
        finally
        {
            if (!etcd.HasExited) etcd.Kill();
            await etcd.WaitForExitAsync();
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// The round key, each loop's two records and, so a read ranges over as many keys as a 20-cowboy game holds
    /// (records, identities, nodes, presence, the election), filler keys; returns the revision they were all written at.
    /// </summary>
    private static async Task<long> SetUpAsync(KV.KVClient kv, int loops)
    {
        var until = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await kv.RangeAsync(new RangeRequest { Key = Key("round") }, deadline: DateTime.UtcNow.AddSeconds(1));
                break;
            }
            catch (Grpc.Core.RpcException) when (until.Elapsed < TimeSpan.FromSeconds(20))
            {
                await Task.Delay(50);
            }
        }

        var setup = new TxnRequest();
        setup.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = Key("round"), Value = ByteString.CopyFromUtf8("""{"round":1,"over":false}""") } });
        for (var i = 0; i < loops; i++)
        {
            setup.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = Key($"cowboys/s{i}"), Value = Record } });
            setup.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = Key($"cowboys/t{i}"), Value = Record } });
        }

        for (var i = 0; i < 60; i++) setup.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = Key($"ids/{i}"), Value = ByteString.CopyFromUtf8($"cowboy-{i}") } });
        return (await kv.TxnAsync(setup)).Header.Revision;
    }

    /// <summary>etcd as <c>PeerPlan.Etcd</c> runs it (unix sockets in its folder, the same raft timings), ended with this process.</summary>
    private static Process StartEtcd(string folder)
    {
        var info = new ProcessStartInfo("setpriv") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])
                 [
                     "--pdeathsig", "KILL", "etcd", "--name", "etcd-1", "--data-dir", Path.Combine(folder, "store"),
                     "--listen-client-urls", "unix://etcd.sock:0", "--advertise-client-urls", "unix://etcd.sock:0",
                     "--listen-peer-urls", "unix://peer.sock:0", "--initial-advertise-peer-urls", "unix://peer.sock:0",
                     "--initial-cluster", "etcd-1=unix://peer.sock:0", "--initial-cluster-state", "new",
                     "--heartbeat-interval", "10", "--election-timeout", "100", "--max-txn-ops", "2048",
                 ])
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static GrpcChannel Channel(string socket) =>
        GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { ConnectCallback = (_, ct) => UnixSockets.ConnectAsync(socket, ct) },
            DisposeHttpClient = true,
        });

    private static ByteString Key(string rest) => ByteString.CopyFromUtf8(Prefix + rest);

    private static Compare Unchanged(ByteString key, long modRevision) =>
        new() { Key = key, Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = modRevision };
}
