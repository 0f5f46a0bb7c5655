using System.Text.Json;
using System.Text.Json.Serialization;
using Corral.Hosting.Nodes;
using Corral.Hosting.Supervision;

namespace Corral.Hosting.Control;

/// <summary>
/// Source-generated JSON for everything the supervisor sends or stores: the control API and its client,
/// the feeds, <c>run.json</c> and the node's own probes. Web defaults (camelCase, case-insensitive reading);
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
[JsonSerializable(typeof(RunSummary))]
[JsonSerializable(typeof(ProbeReply))]
[JsonSerializable(typeof(ControlAccess))]
[JsonSerializable(typeof(Dashboard.DashboardLink))]
internal sealed partial class ControlJson : JsonSerializerContext;

/// <summary>The same contract as <see cref="ControlJson"/>, indented, for files a person reads (<c>run.json</c>).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(RunSummary))]
internal sealed partial class ControlFileJson : JsonSerializerContext;
