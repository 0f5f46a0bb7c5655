using Corral.Node.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace Corral.Node.Tests.Storage;

public sealed class GroupCommitWriterTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private readonly TempFolder _folder = new();
    private readonly SqliteConnection _connection;
    private readonly ManualResetEventSlim _gate = new();
    private readonly TaskCompletionSource _gateEntered = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public GroupCommitWriterTests()
    {
        _connection = SqliteOpener.Open(Path, new SqliteStoreOptions());
        using var command = _connection.CreateCommand();
        command.CommandText = "CREATE TABLE rows (name TEXT PRIMARY KEY) WITHOUT ROWID";
        command.ExecuteNonQuery();
    }

    private string Path => _folder.Combine("store.db");

    public void Dispose()
    {
        _gate.Set();
        _connection.Dispose();
        _gate.Dispose();
        _folder.Dispose();
    }

    private static void Insert(SqliteConnection connection, string name)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO rows (name) VALUES ($name)";
        command.Parameters.AddWithValue("$name", name);
        command.ExecuteNonQuery();
    }

    /// <summary>Whether <paramref name="name"/> is committed, read on a connection of its own.</summary>
    private bool Committed(string name)
    {
        using var connection = SqliteOpener.Open(Path, new SqliteStoreOptions { Mode = SqliteOpenMode.ReadOnly });
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM rows WHERE name = $name";
        command.Parameters.AddWithValue("$name", name);
        return (long)command.ExecuteScalar()! == 1;
    }

    /// <summary>A write that holds the writer inside its transaction until the gate opens, so that others queue behind it.</summary>
    private async Task<Task> HoldTheWriter(GroupCommitWriter writer)
    {
        var held = writer.WriteAsync(c =>
        {
            _gateEntered.TrySetResult();
            Assert.True(_gate.Wait(Wait), "the test never opened the gate");
            Insert(c, "held");
        });
        await _gateEntered.Task.WaitAsync(Wait);
        return held;
    }

    [Fact]
    public async Task Concurrent_writes_share_one_transaction_and_each_is_committed_when_its_caller_resumes()
    {
        var batches = new List<int>();
        await using var writer = new GroupCommitWriter(_connection, new GroupCommitOptions { OnCommitted = batches.Add });
        var held = await HoldTheWriter(writer);

        var started = new CountdownEvent(8);
        var callers = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            var write = writer.WriteAsync(c => Insert(c, $"row-{i}"));
            started.Signal();
            await write;
            // Answered: the caller's own row is in the file, for any connection to read.
            Assert.True(Committed($"row-{i}"), $"row-{i} was answered before it was committed");
        })).ToArray();
        Assert.True(started.Wait(Wait));
        Assert.All(callers, c => Assert.False(c.IsCompleted));

        _gate.Set();
        await held.WaitAsync(Wait);
        await Task.WhenAll(callers).WaitAsync(Wait);

        Assert.Equal([1, 8], batches);
        Assert.Equal(2, writer.Batches);
        Assert.Equal(9, writer.Writes);
    }

    [Fact]
    public async Task A_throwing_write_fails_exactly_its_batch_and_later_writes_commit()
    {
        var failures = new List<Exception>();
        await using var writer = new GroupCommitWriter(_connection, new GroupCommitOptions { OnFailed = failures.Add });
        var held = await HoldTheWriter(writer);

        var before = writer.WriteAsync(c => Insert(c, "before"));
        var bad = writer.WriteAsync(_ => throw new InvalidOperationException("a bad write"));
        var after = writer.WriteAsync(c => Insert(c, "after"));
        _gate.Set();

        await held.WaitAsync(Wait);
        Assert.Equal("a bad write", (await Assert.ThrowsAsync<InvalidOperationException>(() => bad.WaitAsync(Wait))).Message);
        await Assert.ThrowsAsync<InvalidOperationException>(() => before.WaitAsync(Wait));
        await Assert.ThrowsAsync<InvalidOperationException>(() => after.WaitAsync(Wait));
        Assert.False(Committed("before"));
        Assert.False(Committed("after"));
        Assert.Single(failures);

        // The loop lives on: the next write commits.
        Assert.Equal(42, await writer.WriteAsync(c =>
        {
            Insert(c, "later");
            return 42;
        }).WaitAsync(Wait));
        Assert.True(Committed("held"));
        Assert.True(Committed("later"));
        Assert.False(writer.IsClosed);
    }

    [Fact]
    public async Task A_refusal_at_the_start_of_the_transaction_fails_the_batch_and_an_owner_that_closes_fails_what_is_queued()
    {
        var fenced = false;
        GroupCommitWriter? writer = null;
        writer = new GroupCommitWriter(_connection, new GroupCommitOptions
        {
            OnBegin = _ =>
            {
                if (fenced) throw new InvalidOperationException("fenced");
            },
            OnFailed = e => writer!.Close(e),
        });
        await using (writer)
        {
            await writer.WriteAsync(c => Insert(c, "first")).WaitAsync(Wait);
            fenced = true;

            await Assert.ThrowsAsync<InvalidOperationException>(() => writer.WriteAsync(c => Insert(c, "second")).WaitAsync(Wait));
            Assert.True(writer.IsClosed);
            Assert.Equal("fenced", (await Assert.ThrowsAsync<InvalidOperationException>(() => writer.WriteAsync(c => Insert(c, "third")))).Message);
            await Assert.ThrowsAsync<InvalidOperationException>(() => writer.Completion.WaitAsync(Wait));
        }

        Assert.True(Committed("first"));
        Assert.False(Committed("second"));
    }

    [Fact]
    public async Task Disposal_commits_what_is_queued_and_then_refuses_writes()
    {
        var writer = new GroupCommitWriter(_connection);
        var held = await HoldTheWriter(writer);
        var queued = Enumerable.Range(0, 5).Select(i => writer.WriteAsync(c => Insert(c, $"queued-{i}"))).ToArray();

        var disposing = writer.DisposeAsync().AsTask();
        Assert.False(disposing.IsCompleted);
        _gate.Set();
        await disposing.WaitAsync(Wait);

        await Task.WhenAll([held, .. queued]).WaitAsync(Wait);
        Assert.All(Enumerable.Range(0, 5), i => Assert.True(Committed($"queued-{i}")));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => writer.WriteAsync(c => Insert(c, "late")));
        await writer.Completion.WaitAsync(Wait);
    }

    [Fact]
    public async Task Disposal_of_a_closed_writer_fails_what_is_queued_and_does_not_hang()
    {
        var writer = new GroupCommitWriter(_connection);
        var held = await HoldTheWriter(writer);
        var queued = writer.WriteAsync(c => Insert(c, "queued"));

        writer.Close(new IOException("the disk went away"));
        var disposing = writer.DisposeAsync().AsTask();
        _gate.Set();
        await disposing.WaitAsync(Wait);

        await held.WaitAsync(Wait);
        Assert.Equal("the disk went away", (await Assert.ThrowsAsync<IOException>(() => queued.WaitAsync(Wait))).Message);
        Assert.False(Committed("queued"));
        await Assert.ThrowsAsync<IOException>(() => writer.Completion.WaitAsync(Wait));
    }

    [Fact]
    public async Task With_an_interval_writes_gather_until_it_passes_and_closing_commits_the_rest()
    {
        var time = new FakeTimeProvider();
        var writer = new GroupCommitWriter(_connection, new GroupCommitOptions { CommitEvery = TimeSpan.FromSeconds(5), Time = time });
        await using (writer)
        {
            var first = writer.WriteAsync(c => Insert(c, "first"));
            var second = writer.WriteAsync(c => Insert(c, "second"));
            Assert.False(Committed("first"));

            // Advanced on each check: the loop may not have armed its timer yet when the first advance happens.
            await Eventually.TrueAsync(() =>
            {
                time.Advance(TimeSpan.FromSeconds(5));
                return first.IsCompleted && second.IsCompleted;
            }, Wait, "the interval's commit");
            Assert.True(Committed("second"));
            Assert.Equal(1, writer.Batches);

            _ = writer.WriteAsync(c => Insert(c, "third"));
        }

        Assert.True(Committed("third"));
    }
}
