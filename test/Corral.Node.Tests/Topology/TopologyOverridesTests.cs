using Corral.Node.Topology;

namespace Corral.Node.Tests.Topology;

public sealed class TopologyOverridesTests
{
    private static readonly TopologyNode Root = TopologyParser.Parse(
        "app: shootout\ntick: 1s\ncowboys:\n  - {name: a, health: 1}\n  - {name: b, health: 2}\n", "t.yaml");

    [Fact]
    public void Replaces_a_value_and_marks_where_it_came_from()
    {
        var root = (TopologyMapping)TopologyOverrides.Apply(Root, ["tick=50ms"]);

        var tick = (TopologyScalar)root["tick"]!;
        Assert.Equal("50ms", tick.Value);
        Assert.Equal("--set tick=50ms", tick.Position.Source);
    }

    [Fact]
    public void Addresses_list_items_by_index()
    {
        var root = (TopologyMapping)TopologyOverrides.Apply(Root, ["cowboys.1.health=7"]);

        var second = (TopologyMapping)((TopologySequence)root["cowboys"]!).Items[1];
        Assert.Equal("7", ((TopologyScalar)second["health"]!).Value);
        Assert.Equal("b", ((TopologyScalar)second["name"]!).Value);
    }

    [Fact]
    public void Adds_a_key_the_file_does_not_have()
    {
        var root = (TopologyMapping)TopologyOverrides.Apply(Root, ["rounds=3"]);

        Assert.Equal("3", ((TopologyScalar)root["rounds"]!).Value);
    }

    [Fact]
    public void Accepts_structured_yaml_values()
    {
        var root = (TopologyMapping)TopologyOverrides.Apply(Root, ["cowboys=[{name: x, health: 1}]"]);

        Assert.Single(((TopologySequence)root["cowboys"]!).Items);
    }

    [Fact]
    public void A_setting_on_a_file_that_is_a_bare_list_goes_beside_it_as_the_apps_settings()
    {
        var list = TopologyParser.Parse("[{\"name\":\"cowboy1\",\"health\":10}]", "config.json");

        var document = TopologyOverrides.Apply(new TopologyDocument("config.json", list), ["tick=50ms", "0.health=3", "seed=7"]);

        var settings = Assert.IsType<TopologyMapping>(document.Settings);
        Assert.Equal("50ms", ((TopologyScalar)settings["tick"]!).Value);
        Assert.Equal("--set tick=50ms", settings["tick"]!.Position.Source);
        Assert.Equal("7", ((TopologyScalar)document.Setting("seed")!).Value);
        var item = (TopologyMapping)((TopologySequence)document.Root).Items[0];
        Assert.Equal("3", ((TopologyScalar)item["health"]!).Value);
        Assert.Null(TopologyOverrides.Apply(new TopologyDocument("t.yaml", Root), ["tick=50ms"]).Settings);
    }

    [Theory]
    [InlineData("tick", "expected --set key=value")]
    [InlineData("cowboys.5.health=1", "out of range")]
    [InlineData("tick.x=1", "cannot be set inside it")]
    [InlineData("a..b=1", "empty part")]
    public void Bad_overrides_say_what_is_wrong(string assignment, string expected)
    {
        var e = Assert.Throws<TopologyException>(() => TopologyOverrides.Apply(Root, [assignment]));

        Assert.Contains(expected, e.Message);
        Assert.StartsWith("--set", e.Errors[0].Position.Source);
    }
}
