using System.Text.Json;
using System.Text.Json.Serialization;

namespace Corral.Hosting.Control;

/// <summary>Source-generated JSON (no reflection, AOT-safe) for the control API's feeds and outcome report.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(MembershipEvent))]
[JsonSerializable(typeof(ConfigDocument))]
[JsonSerializable(typeof(RunOutcome))]
[JsonSerializable(typeof(ScaleRequest))]
internal sealed partial class ControlFeedJson : JsonSerializerContext;
