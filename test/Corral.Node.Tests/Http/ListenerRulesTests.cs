using System.Net;
using Corral.Node.Http;
using Corral.Node.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Corral.Node.Tests.Http;

/// <summary>The rules every node listener gets from <see cref="NodeHost.UseNodeDefaults"/>, on a real Kestrel port.</summary>
public sealed class ListenerRulesTests : IAsyncLifetime
{
    private readonly TempFolder _folder = new("corral-rules-");
    private WebApplication _app = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        var context = new NodeContext
        {
            NodeId = "n-1", Role = "test.node", Token = "t", Credentials = TestNodeContext.Issuer.Verifier, ControlUrl = new Uri("http://127.0.0.1:1"), RunId = "run-1",
            RunDirectory = _folder.Path, DataDirectory = _folder.Path, Ports = new Dictionary<string, int> { ["http"] = 0 },
        };
        _app = NodeHost.CreateBuilder(context).Build();
        _app.UseNodeDefaults();
        _app.MapPost("/json", () => TypedResults.Ok());
        _app.MapPost("/any-type", () => TypedResults.Ok()).AcceptAnyContentType();
        _app.Map("/proxied", () => TypedResults.Ok()).AcceptAnyHost();
        await _app.StartAsync();
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_app.BoundPort()}"), Timeout = TimeSpan.FromSeconds(10) };
    }

    [Theory]
    [InlineData("evil.example")]
    [InlineData("[::1]")]
    [InlineData("127.0.0.1:1")]
    public async Task A_foreign_host_gets_421_naming_the_hosts_the_node_answers_to(string host)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        request.Headers.Host = host;

        using var response = await _http.SendAsync(request);

        Assert.Equal(HttpStatusCode.MisdirectedRequest, response.StatusCode);
        var port = _app.BoundPort();
        Assert.Contains($"answers only to Host 127.0.0.1:{port} or localhost:{port}", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_nodes_own_address_and_localhost_pass()
    {
        foreach (var host in new[] { $"127.0.0.1:{_app.BoundPort()}", $"localhost:{_app.BoundPort()}" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/healthz");
            request.Headers.Host = host;
            using var response = await _http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task A_route_marked_to_accept_any_host_answers_a_foreign_one()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/proxied");
        request.Headers.Host = "evil.example";

        using var response = await _http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("multipart/form-data; boundary=x")]
    [InlineData("application/jsonx")]
    [InlineData(null)]
    public async Task A_write_with_a_body_that_is_not_json_gets_415_naming_the_type_to_send(string? type)
    {
        using var content = new ByteArrayContent("{}"u8.ToArray());
        if (type is not null) content.Headers.TryAddWithoutValidation("Content-Type", type);

        using var response = await _http.PostAsync("/json", content);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("Content-Type: application/json", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("Application/JSON")]
    [InlineData("application/merge-patch+json")]
    public async Task A_json_write_passes(string type)
    {
        using var content = new ByteArrayContent("{}"u8.ToArray());
        content.Headers.TryAddWithoutValidation("Content-Type", type);

        using var response = await _http.PostAsync("/json", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_write_without_a_body_or_to_an_exempt_route_passes()
    {
        using var empty = await _http.PostAsync("/json", null);
        Assert.Equal(HttpStatusCode.OK, empty.StatusCode);
        using var form = await _http.PostAsync("/any-type", new StringContent("[]", null, "application/x-www-form-urlencoded"));
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _folder.Dispose();
    }
}
