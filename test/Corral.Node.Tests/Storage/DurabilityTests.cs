using System.Text.Json;
using Corral.Node.Storage;
using Corral.Node.Topology;

namespace Corral.Node.Tests.Storage;

public sealed class DurabilityTests
{
    private static readonly Durability[] WithoutPeriodic = [Durability.Sync, Durability.Fsync];
    private static readonly Durability[] All = [Durability.Sync, Durability.Fsync, Durability.Periodic];

    private static (Durability? Value, TopologyDiagnostics Diagnostics) Read(string yaml, IReadOnlyList<Durability> accepted, bool oldNames = false)
    {
        var diagnostics = new TopologyDiagnostics();
        var reader = new MappingReader((TopologyMapping)TopologyParser.Parse(yaml, "t.yaml"), diagnostics);
        return (reader.OptionalDurability("durability", accepted, oldNames), diagnostics);
    }

    [Theory]
    [InlineData("durability: sync\n", Durability.Sync)]
    [InlineData("durability: fsync\n", Durability.Fsync)]
    [InlineData("durability: periodic\n", Durability.Periodic)]
    public void Each_name_reads_as_its_durability_without_a_word(string yaml, Durability expected)
    {
        var (value, diagnostics) = Read(yaml, All);

        Assert.Equal(expected, value);
        Assert.Empty(diagnostics.Errors);
        Assert.Empty(diagnostics.Warnings);
    }

    [Theory]
    [InlineData("full", Durability.Fsync, "t.yaml:1:13: durability: 'full' is the old name of 'fsync' and is read as it; write durability: fsync")]
    [InlineData("normal", Durability.Sync, "t.yaml:1:13: durability: 'normal' is the old name of 'sync' and is read as it; write durability: sync")]
    public void An_old_name_is_read_as_its_new_name_with_a_warning_naming_both(string old, Durability expected, string warning)
    {
        var (value, diagnostics) = Read($"durability: {old}\n", WithoutPeriodic, oldNames: true);

        Assert.Equal(expected, value);
        Assert.Empty(diagnostics.Errors);
        Assert.Equal(warning, Assert.Single(diagnostics.Warnings).ToString());
    }

    [Fact]
    public void An_old_name_is_an_error_where_it_never_was_a_name()
    {
        var (value, diagnostics) = Read("durability: full\n", WithoutPeriodic);

        Assert.Null(value);
        Assert.Equal("t.yaml:1:13: durability must be one of sync, fsync, got 'full'", Assert.Single(diagnostics.Errors).ToString());
    }

    [Fact]
    public void An_unknown_value_names_its_position_and_the_valid_values()
    {
        var (value, diagnostics) = Read("durability: fast\n", All);

        Assert.Null(value);
        Assert.Equal("t.yaml:1:13: durability must be one of sync, fsync, periodic, got 'fast'", Assert.Single(diagnostics.Errors).ToString());
    }

    [Fact]
    public void Periodic_is_refused_where_the_app_does_not_accept_it_naming_the_valid_values()
    {
        var (value, diagnostics) = Read("durability: periodic\n", WithoutPeriodic, oldNames: true);

        Assert.Null(value);
        Assert.StartsWith("t.yaml:1:13: durability must be one of sync, fsync, got 'periodic'", Assert.Single(diagnostics.Errors).ToString());
    }

    [Theory]
    [InlineData("\"Full\"", Durability.Fsync)]
    [InlineData("\"Normal\"", Durability.Sync)]
    [InlineData("\"Fsync\"", Durability.Fsync)]
    [InlineData("\"sync\"", Durability.Sync)]
    [InlineData("\"Periodic\"", Durability.Periodic)]
    public void Json_reads_the_names_and_the_old_names_so_a_recorded_config_still_loads(string json, Durability expected)
    {
        Assert.Equal(expected, JsonSerializer.Deserialize(json, StorageTestJson.Default.Durability));
    }

    [Fact]
    public void Json_writes_the_words_a_topology_writes()
    {
        Assert.Equal("[\"sync\",\"fsync\",\"periodic\"]", JsonSerializer.Serialize(All, StorageTestJson.Default.DurabilityArray));
    }
}
