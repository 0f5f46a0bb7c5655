using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Corral.Balancer.Config;
using Corral.Balancer.Proxy;
using Corral.Balancer.Worker;

namespace Corral.Balancer;

/// <summary>
/// Source-generated JSON for what the balancer sends or reads: its config, the workers' and balancers'
/// statistics, fault settings and the problem bodies the proxy writes itself. Web defaults (camelCase).
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(BalancerConfig))]
[JsonSerializable(typeof(FaultsRequest))]
[JsonSerializable(typeof(FaultsView))]
[JsonSerializable(typeof(WorkerStatsView))]
[JsonSerializable(typeof(BalancerStatsView))]
[JsonSerializable(typeof(HelloReply))]
[JsonSerializable(typeof(ProxyProblem))]
[JsonSerializable(typeof(JsonObject))]
internal sealed partial class BalancerJson : JsonSerializerContext;
