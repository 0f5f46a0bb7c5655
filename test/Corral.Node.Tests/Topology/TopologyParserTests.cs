using Corral.Node.Topology;

namespace Corral.Node.Tests.Topology;

public sealed class TopologyParserTests
{
    [Fact]
    public void Keeps_line_and_column_of_every_node()
    {
        var root = (TopologyMapping)TopologyParser.Parse("app: shootout\ncowboys:\n  - name: John\n    health: 10\n", "t.yaml");

        var cowboy = (TopologyMapping)((TopologySequence)root["cowboys"]!).Items[0];
        Assert.Equal(new SourcePosition("t.yaml", 4, 13), cowboy["health"]!.Position);
        Assert.Equal("10", ((TopologyScalar)cowboy["health"]!).Value);
    }

    [Fact]
    public void Reads_json_as_the_originals_write_it()
    {
        var root = TopologyParser.Parse("[{\"name\":\"cowboy1\",\"health\":10}]", "config.json");

        var item = (TopologyMapping)((TopologySequence)root).Items[0];
        Assert.Equal("cowboy1", ((TopologyScalar)item["name"]!).Value);
    }

    [Fact]
    public void Malformed_yaml_names_the_position()
    {
        var e = Assert.Throws<TopologyException>(() => TopologyParser.Parse("app: shootout\ncowboys: [a, b\n", "t.yaml"));

        Assert.StartsWith("t.yaml:", e.Errors[0].Position.ToString());
        Assert.Contains("not valid YAML or JSON", e.Errors[0].Message);
    }

    [Fact]
    public void Duplicate_keys_are_refused()
    {
        var e = Assert.Throws<TopologyException>(() => TopologyParser.Parse("tick: 1s\ntick: 2s\n", "t.yaml"));

        Assert.Equal(new SourcePosition("t.yaml", 2, 1), e.Errors[0].Position);
        Assert.Contains("appears twice", e.Errors[0].Message);
    }

    [Fact]
    public void An_empty_file_is_an_error_not_an_empty_topology()
    {
        var e = Assert.Throws<TopologyException>(() => TopologyParser.Parse("", "t.yaml"));

        Assert.Contains("empty", e.Message);
    }

    [Fact]
    public void Aliases_are_refused()
    {
        var e = Assert.Throws<TopologyException>(() => TopologyParser.Parse("a: &x 1\nb: *x\n", "t.yaml"));

        Assert.Contains("aliases", e.Message);
    }
}
