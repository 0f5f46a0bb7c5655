using System.Text.Json;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Corral.Render.Kubernetes;

/// <summary>
/// JSON for exactly the kinds the renderer writes, with the client's naming and null handling. The client's own
/// <c>KubernetesJson</c> context covers every model of the API (about 19 MB of native code and metadata), and every
/// node would carry it in the one binary; this one keeps only the types these kinds reach.
/// </summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(V1CustomResourceDefinition))]
[JsonSerializable(typeof(V1ConfigMap))]
[JsonSerializable(typeof(V1Secret))]
[JsonSerializable(typeof(V1Service))]
[JsonSerializable(typeof(V1Deployment))]
[JsonSerializable(typeof(V1StatefulSet))]
[JsonSerializable(typeof(V1Job))]
internal sealed partial class ManifestJson : JsonSerializerContext
{
    /// <summary>One rendered object as JSON; a kind the renderer does not write is a bug, said so.</summary>
    public static JsonElement Element(IKubernetesObject manifest) => manifest switch
    {
        V1CustomResourceDefinition o => JsonSerializer.SerializeToElement(o, Default.V1CustomResourceDefinition),
        V1ConfigMap o => JsonSerializer.SerializeToElement(o, Default.V1ConfigMap),
        V1Secret o => JsonSerializer.SerializeToElement(o, Default.V1Secret),
        V1Service o => JsonSerializer.SerializeToElement(o, Default.V1Service),
        V1Deployment o => JsonSerializer.SerializeToElement(o, Default.V1Deployment),
        V1StatefulSet o => JsonSerializer.SerializeToElement(o, Default.V1StatefulSet),
        V1Job o => JsonSerializer.SerializeToElement(o, Default.V1Job),
        _ => throw new InvalidOperationException($"the renderer has no JSON contract for {manifest.GetType().Name}; add it to {nameof(ManifestJson)}"),
    };
}
