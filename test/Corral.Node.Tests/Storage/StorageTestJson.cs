using System.Text.Json.Serialization;
using Corral.Node.Storage;

namespace Corral.Node.Tests.Storage;

[JsonSerializable(typeof(Durability))]
[JsonSerializable(typeof(Durability[]))]
internal sealed partial class StorageTestJson : JsonSerializerContext;
