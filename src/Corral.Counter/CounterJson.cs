using System.Text.Json;
using System.Text.Json.Serialization;
using Corral.Counter.Config;
using Corral.Counter.Coordinator;

namespace Corral.Counter;

/// <summary>Source-generated JSON for what the counter sends or reads (its config, its replies). Web defaults (camelCase).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(CounterConfig))]
[JsonSerializable(typeof(AcceptedReply))]
[JsonSerializable(typeof(CountReply))]
[JsonSerializable(typeof(KillReply))]
[JsonSerializable(typeof(OwnersView))]
[JsonSerializable(typeof(TenantsView))]
internal sealed partial class CounterJson : JsonSerializerContext;

/// <summary><c>POST /items</c>'s answer: how many items of the batch were taken (all of them, or the request failed).</summary>
public sealed record AcceptedReply(int Accepted);

/// <summary><c>GET /items/{tenant}/count</c>'s answer: the tenant's distinct items.</summary>
public sealed record CountReply(long Count);

/// <summary><c>/kill</c>'s answer: the worker drains and the supervisor starts it again while it is in the config.</summary>
public sealed record KillReply(string Node, string Status);
