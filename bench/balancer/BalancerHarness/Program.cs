using System.Globalization;
using System.Runtime.InteropServices;
using Corral.Balancer;
using Corral.Balancer.Config;
using Corral.Balancer.Proxy;
using Corral.Balancer.Worker;
using Corral.Node.Nodes;
using Corral.Node.Security;

// A bench harness, not a product entry point: `corral node` (issue 2) is the real one. It starts one node in this
// process with fixed ports, no supervisor and a zero-delay, zero-failure worker config, and stops on SIGTERM or Ctrl+C.
var role = args.Length > 0 ? args[0] : "";
var data = Path.Combine(Path.GetTempPath(), "corral-bench-balancer");
var config = new BalancerConfig { AvgDelay = TimeSpan.Zero, FailurePercent = 0, StatsPath = Path.Combine(data, "balancer.db") };
// Each harness process signs for itself: its nodes call no other node's protected routes.
using var issuer = CredentialIssuer.Create("bench");
NodeContext Context(string id, string nodeRole, Dictionary<string, int> ports) => new()
{
    NodeId = id,
    Role = nodeRole,
    Token = issuer.IssueNode(id, 1, nodeRole, reportsOutcome: false),
    Credentials = issuer.Verifier,
    ControlUrl = new Uri("http://127.0.0.1:9/"),
    RunId = "bench",
    RunDirectory = data,
    DataDirectory = data,
    Ports = ports,
};
int Port(string text) => int.Parse(text, CultureInfo.InvariantCulture);

var stop = new TaskCompletionSource();
using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.TrySetResult(); });
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.TrySetResult(); });

switch (role)
{
    case "worker" when args.Length == 4:
        await using (var worker = await WorkerNode.StartAsync(
            Context(args[1], BalancerPlan.WorkerRole, new() { ["http"] = Port(args[2]), ["admin"] = Port(args[3]) }), config))
        {
            await stop.Task;
        }

        return 0;
    case "lb" when args.Length == 3:
        var workers = BalancerNode.StaticWorkers(["--workers", args[2]])!;
        await using (var lb = await BalancerNode.StartAsync(Context("lb-1", BalancerPlan.BalancerRole, new() { ["http"] = Port(args[1]) }), config, workers))
        {
            await stop.Task;
        }

        return 0;
    case "bare" when args.Length == 3:
        // A baseline, not a product: YARP's forwarder with round-robin and nothing else, to tell the forwarder's cost
        // from what Corral adds (health, passive ejection, retries, deadlines, statistics).
        await using (var bare = await BareForwarder.StartAsync(Port(args[1]), args[2].Split(',')))
        {
            await stop.Task;
        }

        return 0;
    default:
        await Console.Error.WriteLineAsync("usage: BalancerHarness worker ID PORT ADMIN-PORT | lb PORT URL[,URL...] | bare PORT URL[,URL...]");
        return 2;
}
