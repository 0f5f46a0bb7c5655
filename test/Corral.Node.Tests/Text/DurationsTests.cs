using Corral.Node.Text;

namespace Corral.Node.Tests.Text;

/// <summary>Durations as Corral reads and writes them: exact for values read back, brief for messages.</summary>
public sealed class DurationsTests
{
    [Theory]
    [InlineData("0", 0)]
    [InlineData("50ms", 50)]
    [InlineData(" 1.5s ", 1500)]
    [InlineData("2m", 120_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("0.25ms", 0.25)]
    public void Durations_parse_in_their_units(string text, double milliseconds)
    {
        Assert.True(Durations.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("5")]
    [InlineData("-1s")]
    [InlineData("1d")]
    [InlineData("1 s 2")]
    [InlineData("1,5s")]
    public void Anything_else_is_refused(string text) => Assert.False(Durations.TryParse(text, out _));

    [Theory]
    [InlineData(0, "0")]
    [InlineData(50, "50ms")]
    [InlineData(1250, "1250ms")]
    [InlineData(1500, "1500ms")]
    [InlineData(2000, "2s")]
    [InlineData(90_000, "90s")]
    [InlineData(120_000, "2m")]
    [InlineData(7_200_000, "2h")]
    public void Format_is_exact_and_reads_back(double milliseconds, string expected)
    {
        var value = TimeSpan.FromMilliseconds(milliseconds);

        Assert.Equal(expected, Durations.Format(value));
        Assert.True(Durations.TryParse(Durations.Format(value), out var again));
        Assert.Equal(value, again);
    }

    [Theory]
    [InlineData(0, "0ms")]
    [InlineData(267.4, "267ms")]
    [InlineData(999.4, "999ms")]
    [InlineData(1000, "1s")]
    [InlineData(1234, "1.2s")]
    [InlineData(1500, "1.5s")]
    [InlineData(60_000, "60s")]
    public void Brief_rounds_for_people_to_milliseconds_or_tenths_of_a_second(double milliseconds, string expected) =>
        Assert.Equal(expected, Durations.Brief(TimeSpan.FromMilliseconds(milliseconds)));
}
