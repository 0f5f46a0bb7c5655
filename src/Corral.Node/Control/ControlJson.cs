using System.Text.Json;
using System.Text.Json.Serialization;
using Corral.Node.Nodes;

namespace Corral.Node.Control;

/// <summary>
/// Source-generated JSON for everything the supervisor sends or stores: the control API and its client,
/// the feeds and the node's own probes. Web defaults (camelCase, case-insensitive reading);
/// enums are strings through the converters on their types.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(NodeStatus))]
[JsonSerializable(typeof(IReadOnlyList<NodeStatus>))]
[JsonSerializable(typeof(MembershipSnapshot))]
[JsonSerializable(typeof(MembershipEvent))]
[JsonSerializable(typeof(ConfigDocument))]
[JsonSerializable(typeof(EndpointsReport))]
[JsonSerializable(typeof(RunOutcome))]
[JsonSerializable(typeof(ScaleRequest))]
[JsonSerializable(typeof(FinishedReply))]
[JsonSerializable(typeof(ProbeReply))]
[JsonSerializable(typeof(ControlAccess))]
[JsonSerializable(typeof(DashboardLink))]
[JsonSerializable(typeof(IssuedCredential))]
public sealed partial class ControlJson : JsonSerializerContext;
