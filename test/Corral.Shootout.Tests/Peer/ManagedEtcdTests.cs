using System.Diagnostics;
using Corral.Node.Planning;
using Corral.Shootout.Peer;
using Corral.Shootout.Peer.Etcd;

namespace Corral.Shootout.Tests.Peer;

/// <summary>The run's managed etcd, started with the plan's own arguments the way the supervisor starts a program.</summary>
public sealed class ManagedEtcdTests
{
    [Fact]
    public async Task The_planned_etcd_serves_through_its_unix_socket_and_listens_on_no_tcp_port()
    {
        using var folder = new TempFolder("corral-etcd-");
        var data = folder.Path;
        var program = PeerPlan.Etcd.Program!;
        var arguments = program.Arguments.Select(a => ProgramTemplate.Expand(a, new Dictionary<string, int>(), data, "etcd", "127.0.0.1"));
        // In its data folder, as the supervisor starts every program; dead with this process if it is killed.
        var start = new ProcessStartInfo("setpriv") { WorkingDirectory = data, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var part in (IEnumerable<string>)["--pdeathsig", "KILL", "--", program.Executable, .. arguments]) start.ArgumentList.Add(part);
        using var etcd = Process.Start(start)!;
        etcd.OutputDataReceived += (_, _) => { };
        etcd.ErrorDataReceived += (_, _) => { };
        etcd.BeginOutputReadLine();
        etcd.BeginErrorReadLine();
        try
        {
            var socket = PeerPlan.EtcdSocket(folder.Path, folder.Path);
            Assert.Equal(Path.Combine(folder.Path, "data", "etcd", PeerPlan.EtcdSocketFile), socket);
            using var store = EtcdStore.OverUnixSocket(Path.Combine(data, PeerPlan.EtcdSocketFile), TimeSpan.FromSeconds(1));

            await Eventually.TrueAsync(async ct =>
            {
                try
                {
                    await store.PutAsync("/managed/k", "v", ct);
                    return true;
                }
                catch (Exception e) when (EtcdStore.IsTransient(e))
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(30), "etcd to take a put through its socket");

            Assert.Equal("v", (await store.GetAsync("/managed/k", CancellationToken.None)).Kvs[0].Value.ToStringUtf8());
            Assert.Equal(["unix://" + Path.Combine(data, PeerPlan.EtcdSocketFile)], store.Endpoints);
            Assert.Empty(Posix.ListeningTcpPorts(etcd.Id));
            Assert.Contains(PeerPlan.EtcdSocketFile, Posix.ListeningUnixSockets(etcd.Id));
        }
        finally
        {
            etcd.Kill(entireProcessTree: true);
            await etcd.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
    }
}
