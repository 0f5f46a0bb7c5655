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
    [InlineData("٣s")]
    [InlineData("1٣ms")]
    [InlineData("１s")]
    [InlineData("99999999999999999999h")]
    [InlineData("1000.001h")]
    [InlineData("60001m")]
    public void Anything_else_is_refused(string text) => Assert.False(Durations.TryParse(text, out _));

    [Fact]
    public void A_number_too_long_for_any_type_is_refused_not_thrown() =>
        Assert.False(Durations.TryParse(new string('9', 400) + "ms", out _));

    [Fact]
    public void The_maximum_itself_is_read_and_the_expected_text_names_it()
    {
        Assert.True(Durations.TryParse("1000h", out var value));
        Assert.Equal(Durations.Maximum, value);
        Assert.Contains("at most 1000h", Durations.Expected);
        Assert.Contains("digits 0-9", Durations.Expected);
    }

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
