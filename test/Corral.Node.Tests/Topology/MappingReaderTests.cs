using Corral.Node.Text;
using Corral.Node.Topology;

namespace Corral.Node.Tests.Topology;

public sealed class MappingReaderTests
{
    private static (MappingReader Reader, TopologyDiagnostics Diagnostics) Read(string yaml)
    {
        var diagnostics = new TopologyDiagnostics();
        return (new MappingReader((TopologyMapping)TopologyParser.Parse(yaml, "t.yaml"), diagnostics), diagnostics);
    }

    [Fact]
    public void Reads_typed_values()
    {
        var (reader, diagnostics) = Read("n: 3\nd: 50ms\nb: true\nc: peer\ns: hi\n");

        Assert.Equal(3, reader.RequiredInt("n", min: 1));
        Assert.Equal(TimeSpan.FromMilliseconds(50), reader.OptionalDuration("d"));
        Assert.True(reader.OptionalBool("b"));
        Assert.Equal("peer", reader.OptionalChoice("c", "server", "peer"));
        Assert.Equal("hi", reader.RequiredString("s", "a word"));
        reader.RejectUnknownKeys();
        Assert.False(diagnostics.HasErrors);
    }

    [Fact]
    public void A_number_below_its_minimum_names_position_and_range()
    {
        var (reader, diagnostics) = Read("health: 0\n");

        reader.RequiredInt("health", min: 1);

        var error = Assert.Single(diagnostics.Errors);
        Assert.Equal("t.yaml:1:9: health must be a whole number ≥ 1, got 0", error.ToString());
    }

    [Fact]
    public void A_bare_number_is_not_a_duration()
    {
        var (reader, diagnostics) = Read("tick: 50\n");

        reader.OptionalDuration("tick");

        Assert.Contains("must be a duration such as 50ms", Assert.Single(diagnostics.Errors).Message);
    }

    [Fact]
    public void Unknown_keys_are_errors_that_list_the_valid_ones()
    {
        var (reader, diagnostics) = Read("tick: 1s\ntikc: 2s\n");

        reader.OptionalDuration("tick");
        reader.RejectUnknownKeys();

        var error = Assert.Single(diagnostics.Errors);
        Assert.Equal(new SourcePosition("t.yaml", 2, 1), error.Position);
        Assert.Contains("unknown key 'tikc'", error.Message);
        Assert.Contains("valid keys here are tick", error.Message);
    }

    [Fact]
    public void Unknown_keys_of_an_original_are_warnings()
    {
        var (reader, diagnostics) = Read("worker: 3\nextra: 1\n");

        reader.OptionalInt("worker");
        reader.WarnUnknownKeys();

        Assert.False(diagnostics.HasErrors);
        Assert.Contains("ignored", Assert.Single(diagnostics.Warnings).Message);
    }

    [Fact]
    public void Every_error_is_collected_not_only_the_first()
    {
        var (reader, diagnostics) = Read("a: x\nb: -1\n");

        reader.OptionalInt("a");
        reader.OptionalInt("b", min: 0);

        Assert.Equal(2, diagnostics.Errors.Count);
        var e = Assert.Throws<TopologyException>(diagnostics.ThrowIfErrors);
        Assert.Equal(2, e.Message.Split('\n').Length);
    }

    [Theory]
    [InlineData("50ms", 50)]
    [InlineData("1s", 1000)]
    [InlineData("1.5s", 1500)]
    [InlineData("2m", 120000)]
    [InlineData("0", 0)]
    public void Durations_parse_and_format_round_trip(string text, int milliseconds)
    {
        Assert.True(Durations.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), value);
        Assert.True(Durations.TryParse(Durations.Format(value), out var again));
        Assert.Equal(value, again);
    }

    [Theory]
    [InlineData("")]
    [InlineData("5")]
    [InlineData("-1s")]
    [InlineData("1d")]
    public void Bad_durations_are_refused(string text) => Assert.False(Durations.TryParse(text, out _));
}
