using System.Text.Json;
using System.Text.Json.Serialization;

namespace Corral.Supervisor.Supervision;

/// <summary><c>run.json</c> and <c>control.json</c>, indented for the person who reads it; camelCase like the control API.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(RunSummary))]
[JsonSerializable(typeof(ControlFile))]
internal sealed partial class RunSummaryJson : JsonSerializerContext;
