using Corral.Supervisor.Supervision;

namespace Corral.Supervisor.Tests.Supervision;

public sealed class LiveFooterSinkTests
{
    [Fact]
    public void The_footer_is_erased_before_each_log_line_and_drawn_again_after_it()
    {
        var terminal = new StringWriter();
        var sink = new LiveFooterSink(new ConsoleOutputSink(terminal, colour: false), terminal, () => 80);

        sink.SetFooter(["table 1", "table 2"]);
        sink.NodeLine("server", "John shot Bill");

        Assert.Equal("table 1\ntable 2\n\u001b[2F\u001b[Jserver | John shot Bill\ntable 1\ntable 2\n", terminal.ToString());
    }

    [Fact]
    public void Footer_lines_are_cut_to_the_terminal_width_so_they_never_wrap()
    {
        var terminal = new StringWriter();
        var sink = new LiveFooterSink(new ConsoleOutputSink(terminal, colour: false), terminal, () => 21);

        sink.SetFooter([new string('x', 50)]);

        Assert.Equal(new string('x', 20) + "\n", terminal.ToString());
    }
}
