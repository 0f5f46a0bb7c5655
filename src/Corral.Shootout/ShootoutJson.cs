using System.Text.Json;
using System.Text.Json.Serialization;
using Corral.Shootout.Config;
using Corral.Shootout.Game;
using Corral.Shootout.Server;

namespace Corral.Shootout;

/// <summary>
/// Source-generated JSON for what the shootout sends between its nodes and to the supervisor: its config,
/// the game server's requests and answers, and the run's summary. Web defaults (camelCase), as before.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ShootoutConfig))]
[JsonSerializable(typeof(RegisterRequest))]
[JsonSerializable(typeof(ShootRequest))]
[JsonSerializable(typeof(RegisterResponse))]
[JsonSerializable(typeof(ShotReport))]
[JsonSerializable(typeof(GameSnapshot))]
[JsonSerializable(typeof(WinnerResponse))]
[JsonSerializable(typeof(ServerStats))]
[JsonSerializable(typeof(ShootoutSummary))]
[JsonSerializable(typeof(Peer.PeerStatsView))]
internal sealed partial class ShootoutJson : JsonSerializerContext;
