using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Corral.Node.Nodes;
using Corral.Shootout.Checking;
using Corral.Shootout.Config;
using Corral.Shootout.Game;
using Corral.Shootout.Server;
using Corral.Shootout.Store;
using Corral.Shootout.Tests.Helpers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Corral.Shootout.Tests.Server;

/// <summary>
/// The game server on a real port over a real SQLite file whose failures are real: a write lock held by another
/// connection past the store's timeout, and an <c>events.jsonl</c> on a full disk.
/// </summary>
public sealed class StoreFailureTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private readonly TempFolder _dir = new();
    private readonly ShootoutConfig _config = Configs.Many(3, 10, 1, TimeSpan.Zero);
    private ControlApiStub _control = null!;
    private Node? _node;

    private string Db => _dir.Combine(ShootoutStore.FileName);
    private string RunFolder => _dir.Combine("runs", TestNodeContext.RunId);
    private string Events => Path.Combine(RunFolder, ShootoutChecker.EventsFile);

    public async Task InitializeAsync() => _control = await ControlApiStub.StartAsync();

    public async Task DisposeAsync()
    {
        if (_node is not null) await _node.DisposeAsync();
        await _control.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task A_store_locked_past_its_timeout_answers_503_and_the_restarted_server_loses_and_duplicates_nothing()
    {
        _node = await Node.StartAsync(_control, _dir.Path, _config, lockTimeout: TimeSpan.FromSeconds(1));
        for (var i = 1; i <= 3; i++) Assert.Equal(HttpStatusCode.OK, (await _node.RegisterAsync($"cowboy-{i}")).StatusCode);
        var acknowledged = new List<(long, string, string)>();
        for (var i = 1; i <= 3; i++) acknowledged.Add(Of(await _node.ShootOkAsync($"c{i}", $"cowboy-{i}")));

        using (var holder = new SqliteConnection($"Data Source={Db};Pooling=False"))
        {
            holder.Open();
            Execute(holder, "BEGIN IMMEDIATE");

            // The commit waits one second for the lock, then the store fails: the shot is refused as not applied,
            // and the node stops itself so that its restart resumes from what was committed.
            using var refused = await _node.ShootAsync("c1", "cowboy-1");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            await _node.Run.WaitAsync(Wait);
            Assert.True(_node.Engine.Completion.IsFaulted);
            Execute(holder, "ROLLBACK");
        }

        await _node.DisposeAsync();
        _control.ForgetEndpoints("server");
        _node = await Node.StartAsync(_control, _dir.Path, _config);

        // The restarted server has exactly the acknowledged shots, and the refused one is not among them.
        var lastAcknowledged = acknowledged[^1].Item1;
        Assert.Equal(acknowledged, Shots());
        Assert.Equal(lastAcknowledged, (await _node.StateAsync()).Seq);

        // The cowboy tries again, once: that shot lands once, right after the acknowledged ones.
        var again = Of(await _node.ShootOkAsync("c1", "cowboy-1"));
        Assert.Equal(lastAcknowledged + 1, again.Item1);
        Assert.Equal([.. acknowledged, again], Shots());
        await _node.DisposeAsync();
        _node = null;
        Assert.Equal(StoreLines(), File.ReadAllLines(Events));
        Assert.True(new ShootoutModule().Check(RunFolder).Passed);
    }

    [Fact]
    public async Task A_failed_append_to_events_jsonl_answers_2xx_the_store_has_the_shot_and_the_file_catches_up_for_corral_check()
    {
        _node = await Node.StartAsync(_control, _dir.Path, _config);
        for (var i = 1; i <= 3; i++) Assert.Equal(HttpStatusCode.OK, (await _node.RegisterAsync($"cowboy-{i}")).StatusCode);
        var acknowledged = new List<(long, string, string)> { Of(await _node.ShootOkAsync("c1", "cowboy-1")) };

        using (BrokenFile.Break(Events))
        {
            // A full disk under events.jsonl: the shots are committed, so the client gets them, not a 503.
            acknowledged.Add(Of(await _node.ShootOkAsync("c2", "cowboy-2")));
            acknowledged.Add(Of(await _node.ShootOkAsync("c3", "cowboy-3")));
            Assert.True(_node.Engine.EventsFileBehind);
            Assert.Equal(acknowledged, Shots());
        }

        // The end of the run writes what the file missed, from the store.
        await _node.DisposeAsync();
        _node = null;
        Assert.Equal(acknowledged, Shots());
        Assert.Equal(StoreLines(), File.ReadAllLines(Events));
        var check = new ShootoutModule().Check(RunFolder);
        Assert.True(check.Passed, string.Join("; ", check.Violations));
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>The shots the store committed for the run: sequence, shooter and target, in order.</summary>
    private List<(long Seq, string Shooter, string Target)> Shots()
    {
        using var store = new ShootoutStore(Db, TestNodeContext.RunId);
        return store.LoadEvents().Where(e => e.Kind == EventKinds.Shot).Select(e => (e.Seq, e.Shooter!, e.Target!)).ToList();
    }

    private static (long, string, string) Of(ShotReport report) => (report.Seq, report.Shooter, report.Target);

    private string[] StoreLines()
    {
        using var store = new ShootoutStore(Db, TestNodeContext.RunId);
        return store.LoadEvents().Select(e => JsonSerializer.Serialize(e, GameEventJson.Default.GameEvent)).ToArray();
    }

    /// <summary>One game server node: built, running, and a client for it.</summary>
    private sealed class Node : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly CancellationTokenSource _stop;
        private readonly HttpClient _http;
        private bool _disposed;

        private Node(WebApplication app, Task<int> run, CancellationTokenSource stop, int port)
        {
            _app = app;
            Run = run;
            _stop = stop;
            _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = Wait };
        }

        public Task<int> Run { get; }
        public GameEngine Engine => _app.Services.GetRequiredService<GameEngine>();

        public static async Task<Node> StartAsync(ControlApiStub control, string dataDirectory, ShootoutConfig config, TimeSpan? lockTimeout = null)
        {
            var context = control.Context("server", ShootoutPlan.ServerRole, dataDirectory, config.ToJson());
            var app = ShootoutServer.Build(context, config, durability: null, lockTimeout);
            var stop = new CancellationTokenSource();
            var run = NodeHost.RunAsync(app, stop.Token);
            var port = await control.PortOf("server").WaitAsync(Wait);
            return new Node(app, run, stop, port);
        }

        public Task<HttpResponseMessage> RegisterAsync(string node) =>
            _http.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/register")
            {
                Content = new StringContent($$"""{"nodeId": "{{node}}"}""", Encoding.UTF8, "application/json"),
            }.As(node, ShootoutPlan.CowboyRole));

        public Task<HttpResponseMessage> ShootAsync(string shooter, string node)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/shoot")
            {
                Content = new StringContent($$"""{"shooter": "{{shooter}}"}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.Add(ShootoutApi.NodeHeader, node);
            return _http.SendAsync(request.As(node, ShootoutPlan.CowboyRole));
        }

        public async Task<ShotReport> ShootOkAsync(string shooter, string node)
        {
            using var response = await ShootAsync(shooter, node);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return (await response.Content.ReadFromJsonAsync<ShotReport>(JsonSerializerOptions.Web))!;
        }

        public async Task<GameSnapshot> StateAsync() => (await _http.GetFromJsonAsync<GameSnapshot>("/state", JsonSerializerOptions.Web))!;

        public async ValueTask DisposeAsync()
        {
            if (_disposed) return;
            _disposed = true;
            await _stop.CancelAsync();
            await Run.WaitAsync(Wait);
            await _app.DisposeAsync();
            _http.Dispose();
            _stop.Dispose();
        }
    }
}
