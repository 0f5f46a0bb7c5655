using Corral.Node.Control;
using Corral.Supervisor.Control;
using Corral.Testing.Fuzz;

namespace Corral.Supervisor.Tests.Control;

/// <summary>Every route of the control API under seeded fuzz: 4xx for what is wrong, never a 5xx, still answering after.</summary>
public sealed class ControlApiFuzzTests
{
    [Fact]
    public async Task Every_control_api_route_answers_every_fuzzed_request_without_a_5xx()
    {
        await using var server = await ControlServerTests.StartAsync(new ControlServerOptions());
        var target = FuzzTarget.Of("control API", server.Url, server.Endpoints) with
        {
            Token = ControlServerTests.Token,
            HealthPath = ControlRoutes.Nodes,
            ReadyPath = null,
            SampleBodies =
            [
                """{"passed":true,"summary":"done"}""", """{"passed":false,"summary":{"a":1}}""", """{"ports":{"http":8080,"admin":8081}}""",
                """{"count":3}""",
            ],
            SampleValues = ["worker-1", "test.worker", "cowboy-1"],
        };

        (await HttpFuzz.RunAsync(target, seed: 5001, count: 1200)).AssertClean();
    }
}
