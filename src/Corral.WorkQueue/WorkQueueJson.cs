using System.Text.Json;
using System.Text.Json.Serialization;
using Corral.WorkQueue.Config;
using Corral.WorkQueue.Controller;
using Corral.WorkQueue.Store;

namespace Corral.WorkQueue;

/// <summary>Source-generated JSON for the work queue's config, its worker API, its reporter and its outcome (web defaults, camelCase).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(WorkQueueConfig))]
[JsonSerializable(typeof(RedisAttempt))]
[JsonSerializable(typeof(ClaimRequest))]
[JsonSerializable(typeof(ClaimReply))]
[JsonSerializable(typeof(HeartbeatRequest))]
[JsonSerializable(typeof(Completion))]
[JsonSerializable(typeof(ReportReply))]
[JsonSerializable(typeof(ResultsDocument))]
[JsonSerializable(typeof(WorkQueueSummary))]
[JsonSerializable(typeof(ResultsFile))]
[JsonSerializable(typeof(IReadOnlyList<PlaywrightRuns.TestView>))]
internal sealed partial class WorkQueueJson : JsonSerializerContext;
