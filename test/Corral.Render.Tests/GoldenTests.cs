using Corral.Render.Compose;
using Corral.Render.Kubernetes;

namespace Corral.Render.Tests;

public sealed class GoldenTests
{
    [Theory]
    [MemberData(nameof(Rendering.Topologies), MemberType = typeof(Rendering))]
    public void Kubernetes_manifests_match_the_reviewed_golden_file(string topology) =>
        Rendering.AssertGolden(Rendering.Golden("k8s", topology, ".yaml"), KubernetesRenderer.Yaml(Rendering.Input(topology)));

    [Theory]
    [MemberData(nameof(Rendering.Topologies), MemberType = typeof(Rendering))]
    public void Compose_file_matches_the_reviewed_golden_file(string topology) =>
        Rendering.AssertGolden(Rendering.Golden("compose", topology, ".yml"), ComposeRenderer.Yaml(Rendering.Input(topology)));
}
