using System.Text.Json;
using System.Text.Json.Serialization;

namespace Corral.Hosting.Control;

/// <summary>Source-generated JSON (no reflection, AOT-safe) for what the control API and its client exchange.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(IReadOnlyList<NodeStatus>))]
[JsonSerializable(typeof(MembershipSnapshot))]
[JsonSerializable(typeof(MembershipEvent))]
[JsonSerializable(typeof(ConfigDocument))]
[JsonSerializable(typeof(RunOutcome))]
[JsonSerializable(typeof(EndpointsReport))]
[JsonSerializable(typeof(ScaleRequest))]
[JsonSerializable(typeof(FinishedReply))]
internal sealed partial class ControlApiJson : JsonSerializerContext;
