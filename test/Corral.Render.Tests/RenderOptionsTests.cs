using Corral.Render.Compose;
using YamlDotNet.RepresentationModel;

namespace Corral.Render.Tests;

/// <summary>What <c>corral render</c>'s options change in the files: overrides, the image, the published dashboard port.</summary>
public sealed class RenderOptionsTests
{
    [Fact]
    public void Overrides_reach_the_supervisor_so_its_plan_is_the_one_the_nodes_were_rendered_from()
    {
        // The topology file ships unchanged; without the overrides on its command line the supervisor would play
        // the file's tick and seed while the nodes were rendered from the overridden ones.
        var input = Rendering.Input("shootout.yaml", "tick=50ms", "seed=9");

        var command = Supervisor(Compose(input))["command"].AllNodes.OfType<YamlScalarNode>().Select(n => n.Value!).ToArray();

        Assert.Equal(["--set", "tick=50ms", "--set", "seed=9", "--signing-key-file"], command[^6..^1]);
        Assert.Equal(input.SupervisorArguments(), command[..^2]);
    }

    [Fact]
    public void A_named_image_is_used_for_corral_nodes_and_its_tag_for_program_roles()
    {
        var input = Rendering.Input("originals/shootout-001-shootout.yaml") with { CorralImage = "registry.example:5000/corral:7" };

        var services = (YamlMappingNode)Compose(input)["services"];
        var images = services.Children.ToDictionary(s => s.Key.ToString(), s => ((YamlMappingNode)s.Value)["image"].ToString());

        Assert.Equal("registry.example:5000/corral:7", images["corral-supervisor"]);
        Assert.Equal("registry.example:5000/corral:7", images["cowboy-1"]);
        Assert.Equal("corral-etcd:7", Assert.Single(images, i => i.Key.StartsWith("etcd", StringComparison.Ordinal)).Value);
    }

    [Fact]
    public void Dashboard_port_zero_lets_docker_pick_a_loopback_port()
    {
        var fixedPort = Supervisor(Compose(Rendering.Input("shootout.yaml")))["ports"];
        var anyPort = Supervisor(Compose(Rendering.Input("shootout.yaml") with { DashboardHostPort = 0 }))["ports"];

        Assert.Equal("127.0.0.1:8000:8000", ((YamlSequenceNode)fixedPort)[0].ToString());
        Assert.Equal("127.0.0.1::8000", ((YamlSequenceNode)anyPort)[0].ToString());
    }

    private static YamlMappingNode Compose(RenderInput input)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(ComposeRenderer.Files(input)[ComposeRenderer.ComposeFile]));
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private static YamlMappingNode Supervisor(YamlMappingNode compose) =>
        (YamlMappingNode)((YamlMappingNode)compose["services"])["corral-supervisor"];
}
