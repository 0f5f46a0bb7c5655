using Corral.Node.Text;

namespace Corral.Node.Tests.Text;

/// <summary>The one template walker behind program roles' arguments and the work queue's spec command.</summary>
public sealed class PlaceholdersTests
{
    private static string Value(string name) => name switch
    {
        "port:http" => "8080",
        "node" => "worker-1",
        "" => "<empty>",
        _ => throw new FormatException($"no '{name}'"),
    };

    [Theory]
    [InlineData("plain text", "plain text")]
    [InlineData("", "")]
    [InlineData("{node}", "worker-1")]
    [InlineData("--listen=http://127.0.0.1:{port:http}/{node}", "--listen=http://127.0.0.1:8080/worker-1")]
    [InlineData("{{node}}", "{node}")]
    [InlineData("{{{node}}}", "{worker-1}")]
    [InlineData("a }} b", "a } b")]
    [InlineData("a } b", "a } b")]
    [InlineData("{}", "<empty>")]
    public void Names_in_braces_are_replaced_and_doubled_braces_are_braces(string template, string expected) =>
        Assert.Equal(expected, Placeholders.Expand(template, Value));

    [Fact]
    public void An_unclosed_brace_is_an_error_that_says_how_to_write_a_brace()
    {
        var error = Assert.Throws<FormatException>(() => Placeholders.Expand("--data={data", Value));

        Assert.Equal("'--data={data' has a '{' without its '}' (write '{{' for a brace)", error.Message);
    }

    [Fact]
    public void An_unknown_name_is_the_callers_error()
    {
        Assert.Equal("no 'colour'", Assert.Throws<FormatException>(() => Placeholders.Expand("{node}-{colour}", Value)).Message);
    }

    [Fact]
    public void Check_reports_the_first_problem_or_nothing()
    {
        Func<string, bool> known = name => name is "spec" or "attempt";
        Func<string, string> unknown = name => $"'{{{name}}}' is not a placeholder";

        Assert.Null(Placeholders.Check("run {spec} #{attempt} {{x}}", known, unknown));
        Assert.Equal("'{browser}' is not a placeholder", Placeholders.Check("{spec} {browser}", known, unknown));
        Assert.Contains("without its '}'", Placeholders.Check("{spec", known, unknown));
    }
}
