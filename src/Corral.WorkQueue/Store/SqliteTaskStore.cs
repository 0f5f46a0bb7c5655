using System.Globalization;
using Corral.Node.Storage;
using Corral.WorkQueue.Config;
using Microsoft.Data.Sqlite;

namespace Corral.WorkQueue.Store;

/// <summary>
/// The embedded store: one SQLite file in WAL mode, <c>synchronous=NORMAL</c> (a commit is in the WAL, in the OS's
/// hands, before it is acknowledged: it survives SIGKILL of any process) or <c>synchronous=FULL</c> (fsynced: it also
/// survives power loss). Every transition runs on one <see cref="GroupCommitWriter"/>: the transitions that queue up
/// while one commit is written share the next transaction, and none is acknowledged before its commit.
/// </summary>
internal sealed class SqliteTaskStore : ITaskStore
{
    public const string FileName = "workqueue.db";
    private const int MaxBatch = 256;

    private readonly SqliteConnection _connection;
    private readonly string _runId;
    private readonly QueueRules _rules;
    private readonly GroupCommitWriter _writer;

    // Each transition's statements, prepared once on the writer connection and reused: parsing the SQL text again for
    // every claim and report took about a tenth of the controller's CPU per claim + complete cycle (native build, profiled).
    private readonly Dictionary<string, SqliteCommand> _statements = new(StringComparer.Ordinal);

    private SqliteTaskStore(SqliteConnection connection, string runId, QueueRules rules)
    {
        _connection = connection;
        _runId = runId;
        _rules = rules;
        _writer = new GroupCommitWriter(connection, new GroupCommitOptions { MaxBatchWeight = MaxBatch });
    }

    /// <param name="runDirectory">The run's folder: when given, rows of runs whose folder is gone are dropped (<see cref="PrunedRunRows"/>).</param>
    public static SqliteTaskStore Open(string path, string runId, QueueRules rules, Durability durability = Durability.Sync, string? runDirectory = null)
    {
        var connection = SqliteOpener.Open(path, new SqliteStoreOptions { Durability = durability, BusyTimeout = TimeSpan.FromSeconds(30) });
        ExecuteOnce(connection, """
            CREATE TABLE IF NOT EXISTS runs(run_id TEXT PRIMARY KEY, created_ms INTEGER NOT NULL, total INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS tasks(
              run_id TEXT NOT NULL, key TEXT NOT NULL, grp TEXT NOT NULL, idx INTEGER NOT NULL, ordinal INTEGER NOT NULL,
              spec TEXT NOT NULL, viewport TEXT NOT NULL, browser TEXT NOT NULL, rank INTEGER NOT NULL, expected_ms INTEGER,
              state TEXT NOT NULL, attempt INTEGER NOT NULL DEFAULT 0, failures INTEGER NOT NULL DEFAULT 0, lost INTEGER NOT NULL DEFAULT 0,
              worker TEXT, lease_ms INTEGER, exit_code INTEGER, duration_ms INTEGER, tail TEXT, started_ms INTEGER, ended_ms INTEGER,
              PRIMARY KEY(run_id, key));
            CREATE INDEX IF NOT EXISTS tasks_waiting ON tasks(run_id, state, rank);
            CREATE INDEX IF NOT EXISTS tasks_leases ON tasks(run_id, state, lease_ms);
            CREATE TABLE IF NOT EXISTS attempts(
              run_id TEXT NOT NULL, key TEXT NOT NULL, attempt INTEGER NOT NULL, worker TEXT NOT NULL, result TEXT NOT NULL,
              exit_code INTEGER, duration_ms INTEGER NOT NULL, ended_ms INTEGER NOT NULL, PRIMARY KEY(run_id, key, attempt));
            CREATE TABLE IF NOT EXISTS history(history_key TEXT PRIMARY KEY, expected_ms REAL NOT NULL, samples INTEGER NOT NULL);
            """);
        if (runDirectory is not null)
        {
            // The durations history is per spec, not per run: it stays.
            PrunedRunRows.Drop(connection, runDirectory, "runs", "tasks", "attempts");
        }

        return new SqliteTaskStore(connection, runId, rules);
    }

    public Task<bool> EnqueueAsync(IReadOnlyList<TaskDefinition> tasks, long nowMs) => Run(c =>
    {
        if (Scalar(c, "SELECT COUNT(*) FROM runs WHERE run_id=$run", ("$run", _runId)) > 0) return false;
        var expected = new Dictionary<string, long>(StringComparer.Ordinal);
        {
            using var reader = Statement(c, "SELECT history_key, expected_ms FROM history").ExecuteReader();
            while (reader.Read()) expected[reader.GetString(0)] = (long)Math.Round(reader.GetDouble(1));
        }

        Exec(c, "INSERT INTO runs(run_id, created_ms, total) VALUES($run, $now, $total)", ("$run", _runId), ("$now", nowMs), ("$total", tasks.Count));
        using var insert = c.CreateCommand();
        insert.CommandText = """
            INSERT INTO tasks(run_id, key, grp, idx, ordinal, spec, viewport, browser, rank, expected_ms, state)
            VALUES($run, $key, $grp, $idx, $ordinal, $spec, $viewport, $browser, $rank, $expected, 'waiting')
            """;
        var p = new[] { "$run", "$key", "$grp", "$idx", "$ordinal", "$spec", "$viewport", "$browser", "$rank", "$expected" }
            .Select(n => insert.Parameters.Add(new SqliteParameter { ParameterName = n })).ToArray();
        var ranked = QueueOrder.Rank(tasks, t => expected.TryGetValue(t.HistoryKey, out var e) ? e : null);
        for (var rank = 0; rank < ranked.Count; rank++)
        {
            var (t, e) = ranked[rank];
            object?[] values = [_runId, t.Key, t.Group, t.Index, t.Ordinal, t.Spec, t.Viewport, t.Browser, rank, e];
            for (var i = 0; i < p.Length; i++) p[i].Value = values[i] ?? DBNull.Value;
            insert.ExecuteNonQuery();
        }

        return true;
    });

    public Task<Claim?> ClaimAsync(string worker, long nowMs) => Run(c =>
    {
        Reap(c, nowMs);
        var pick = Statement(c, """
            UPDATE tasks SET state='running', attempt=attempt+1, worker=$worker, lease_ms=$lease, started_ms=$now
            WHERE run_id=$run AND key=(SELECT key FROM tasks WHERE run_id=$run AND state='waiting' ORDER BY rank LIMIT 1)
            RETURNING key, grp, idx, ordinal, spec, viewport, browser, attempt
            """, ("$run", _runId), ("$worker", worker), ("$lease", nowMs + (long)_rules.Lease.TotalMilliseconds), ("$now", nowMs));
        using var reader = pick.ExecuteReader();
        if (!reader.Read()) return null;
        return new Claim(ReadTask(reader, 0), reader.GetInt32(7), nowMs + (long)_rules.Lease.TotalMilliseconds);
    });

    public Task<IReadOnlyList<Claim>> ClaimBatchAsync(string worker, long nowMs, IClaimBatching batching) => Run(c =>
    {
        Reap(c, nowMs);
        var waiting = new List<WaitingTask>();
        {
            using var reader = Statement(c, "SELECT key, grp, idx, ordinal, spec, viewport, browser, attempt, expected_ms FROM tasks WHERE run_id=$run AND state='waiting' ORDER BY rank",
                ("$run", _runId)).ExecuteReader();
            while (reader.Read()) waiting.Add(new WaitingTask(ReadTask(reader, 0), reader.GetInt32(7), reader.IsDBNull(8) ? null : reader.GetInt64(8)));
        }

        if (waiting.Count == 0) return (IReadOnlyList<Claim>)[];
        var running = new List<RunningTask>();
        {
            using var reader = Statement(c, "SELECT worker, started_ms, expected_ms FROM tasks WHERE run_id=$run AND state='running'", ("$run", _runId)).ExecuteReader();
            while (reader.Read()) running.Add(new RunningTask(reader.GetString(0), reader.IsDBNull(1) ? nowMs : reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetInt64(2)));
        }

        var lease = nowMs + (long)_rules.Lease.TotalMilliseconds;
        var claims = new List<Claim>();
        foreach (var index in QueueOrder.Chosen(batching.Choose(waiting, running, nowMs), waiting.Count))
        {
            var task = waiting[index].Task;
            var take = Statement(c, """
                UPDATE tasks SET state='running', attempt=attempt+1, worker=$worker, lease_ms=$lease, started_ms=$now
                WHERE run_id=$run AND key=$key AND state='waiting' RETURNING attempt
                """, ("$run", _runId), ("$key", task.Key), ("$worker", worker), ("$lease", lease), ("$now", nowMs));
            if (take.ExecuteScalar() is long attempt) claims.Add(new Claim(task, (int)attempt, lease));
        }

        return (IReadOnlyList<Claim>)claims;
    });

    public Task<bool> HeartbeatAsync(string key, int attempt, string worker, long nowMs) => Run(c =>
    {
        Reap(c, nowMs);
        return Exec(c, "UPDATE tasks SET lease_ms=$lease WHERE run_id=$run AND key=$key AND state='running' AND attempt=$attempt AND worker=$worker",
            ("$lease", nowMs + (long)_rules.Lease.TotalMilliseconds), ("$run", _runId), ("$key", key), ("$attempt", attempt), ("$worker", worker)) == 1;
    });

    public Task<ReportOutcome> CompleteAsync(Completion report, long nowMs) => Run(c =>
    {
        if (Scalar(c, "SELECT COUNT(*) FROM attempts WHERE run_id=$run AND key=$key AND attempt=$attempt AND worker=$worker",
                ("$run", _runId), ("$key", report.Key), ("$attempt", report.Attempt), ("$worker", report.Worker)) > 0)
        {
            return ReportOutcome.Duplicate;
        }

        Reap(c, nowMs);
        var read = Statement(c, "SELECT failures, spec, browser, viewport FROM tasks WHERE run_id=$run AND key=$key AND state='running' AND attempt=$attempt AND worker=$worker",
            ("$run", _runId), ("$key", report.Key), ("$attempt", report.Attempt), ("$worker", report.Worker));
        int failures;
        string historyKey;
        using (var reader = read.ExecuteReader())
        {
            if (!reader.Read()) return ReportOutcome.Refused;
            failures = reader.GetInt32(0);
            historyKey = $"{reader.GetString(1)}|{reader.GetString(2)}|{reader.GetString(3)}";
        }

        var passed = report.Result == AttemptResult.Passed;
        if (!passed) failures++;
        var state = passed ? (failures > 0 ? TaskState.Flaky : TaskState.Passed) : QueueOrder.FinalAfterFailure(report.Result, failures, _rules.Retries);
        Exec(c, """
            UPDATE tasks SET state=$state, failures=$failures, lease_ms=NULL, exit_code=$exit, duration_ms=$duration, tail=$tail,
              ended_ms=CASE WHEN $final THEN $now ELSE NULL END
            WHERE run_id=$run AND key=$key
            """,
            ("$state", state is { } s ? StateName(s) : "waiting"), ("$failures", failures), ("$exit", report.ExitCode), ("$duration", report.DurationMs),
            ("$tail", report.OutputTail), ("$final", state is not null), ("$now", nowMs), ("$run", _runId), ("$key", report.Key));
        Exec(c, "INSERT INTO attempts(run_id, key, attempt, worker, result, exit_code, duration_ms, ended_ms) VALUES($run, $key, $attempt, $worker, $result, $exit, $duration, $now)",
            ("$run", _runId), ("$key", report.Key), ("$attempt", report.Attempt), ("$worker", report.Worker), ("$result", ResultName(report.Result)),
            ("$exit", report.ExitCode), ("$duration", report.DurationMs), ("$now", nowMs));
        {
            var previous = Statement(c, "SELECT expected_ms FROM history WHERE history_key=$h", ("$h", historyKey)).ExecuteScalar() is double d ? d : (double?)null;
            Exec(c, "INSERT INTO history(history_key, expected_ms, samples) VALUES($h, $e, 1) ON CONFLICT(history_key) DO UPDATE SET expected_ms=$e, samples=samples+1",
                ("$h", historyKey), ("$e", QueueOrder.NextExpected(previous, report.DurationMs)));
        }

        return ReportOutcome.Recorded;
    });

    public Task<IReadOnlyList<string>> ExpireAsync(long nowMs) => Run(c => Reap(c, nowMs));

    public Task<IReadOnlyList<QueuedTask>> ListAsync() => Run(c =>
    {
        using var reader = Statement(c, """
            SELECT key, grp, idx, ordinal, spec, viewport, browser, state, attempt, failures, lost, worker, lease_ms, exit_code,
                   duration_ms, tail, expected_ms, started_ms, ended_ms
            FROM tasks WHERE run_id=$run ORDER BY ordinal
            """, ("$run", _runId)).ExecuteReader();
        var list = new List<QueuedTask>();
        while (reader.Read())
        {
            list.Add(new QueuedTask
            {
                Task = ReadTask(reader, 0),
                State = ParseState(reader.GetString(7)),
                Attempt = reader.GetInt32(8),
                Failures = reader.GetInt32(9),
                LostLeases = reader.GetInt32(10),
                Worker = reader.IsDBNull(11) ? null : reader.GetString(11),
                LeaseExpiresMs = reader.IsDBNull(12) ? null : reader.GetInt64(12),
                ExitCode = reader.IsDBNull(13) ? null : reader.GetInt32(13),
                DurationMs = reader.IsDBNull(14) ? null : reader.GetInt64(14),
                OutputTail = reader.IsDBNull(15) ? null : reader.GetString(15),
                ExpectedMs = reader.IsDBNull(16) ? null : reader.GetInt64(16),
                StartedMs = reader.IsDBNull(17) ? null : reader.GetInt64(17),
                EndedMs = reader.IsDBNull(18) ? null : reader.GetInt64(18),
            });
        }

        return (IReadOnlyList<QueuedTask>)list;
    });

    public Task<IReadOnlyList<AttemptRecord>> AttemptsAsync() => Run(c =>
    {
        using var reader = Statement(c, "SELECT key, attempt, worker, result, exit_code, duration_ms, ended_ms FROM attempts WHERE run_id=$run ORDER BY ended_ms, key",
            ("$run", _runId)).ExecuteReader();
        var list = new List<AttemptRecord>();
        while (reader.Read())
        {
            list.Add(new AttemptRecord(reader.GetString(0), reader.GetInt32(1), reader.GetString(2), ParseResult(reader.GetString(3)),
                reader.IsDBNull(4) ? null : reader.GetInt32(4), reader.GetInt64(5), reader.GetInt64(6)));
        }

        return (IReadOnlyList<AttemptRecord>)list;
    });

    /// <summary>The writer connection's <c>PRAGMA synchronous</c> (NORMAL or FULL), read on the writer loop.</summary>
    internal Task<string> SynchronousAsync() => Run(c => Scalar(c, "PRAGMA synchronous") switch { 1 => "NORMAL", 2 => "FULL", var other => other.ToString(CultureInfo.InvariantCulture) });

    /// <summary>Expired leases go back to waiting without using a retry; the last allowed loss makes the task final as error.</summary>
    private IReadOnlyList<string> Reap(SqliteConnection c, long nowMs)
    {
        using var reader = Statement(c, """
            UPDATE tasks SET lost=lost+1, lease_ms=NULL,
              state=CASE WHEN lost+1 >= $max THEN 'error' ELSE 'waiting' END,
              ended_ms=CASE WHEN lost+1 >= $max THEN $now ELSE NULL END
            WHERE run_id=$run AND state='running' AND lease_ms < $now
            RETURNING key
            """, ("$run", _runId), ("$now", nowMs), ("$max", _rules.MaxLostLeases)).ExecuteReader();
        var keys = new List<string>();
        while (reader.Read()) keys.Add(reader.GetString(0));
        return keys;
    }

    private static TaskDefinition ReadTask(SqliteDataReader r, int at) => new()
    {
        Key = r.GetString(at), Group = r.GetString(at + 1), Index = r.GetInt32(at + 2), Ordinal = r.GetInt32(at + 3),
        Spec = r.GetString(at + 4), Viewport = r.GetString(at + 5), Browser = r.GetString(at + 6),
    };

    internal static string StateName(TaskState state) => state switch
    {
        TaskState.Waiting => "waiting",
        TaskState.Running => "running",
        TaskState.Passed => "passed",
        TaskState.Flaky => "flaky",
        TaskState.Failed => "failed",
        TaskState.Error => "error",
        TaskState.Skipped => "skipped",
        _ => "timed-out",
    };

    internal static TaskState ParseState(string text) => text switch
    {
        "waiting" => TaskState.Waiting,
        "running" => TaskState.Running,
        "passed" => TaskState.Passed,
        "flaky" => TaskState.Flaky,
        "failed" => TaskState.Failed,
        "error" => TaskState.Error,
        "timed-out" => TaskState.TimedOut,
        _ => throw new InvalidDataException($"unknown task state '{text}' in the store"),
    };

    internal static string ResultName(AttemptResult result) => result switch
    {
        AttemptResult.Passed => "passed",
        AttemptResult.Failed => "failed",
        AttemptResult.Error => "error",
        _ => "timed-out",
    };

    internal static AttemptResult ParseResult(string text) => text switch
    {
        "passed" => AttemptResult.Passed,
        "failed" => AttemptResult.Failed,
        "error" => AttemptResult.Error,
        "timed-out" => AttemptResult.TimedOut,
        _ => throw new InvalidDataException($"unknown attempt result '{text}' in the store"),
    };

    /// <summary>
    /// Queues a transition on the writer. Each runs in its own savepoint: one that throws is undone alone and fails
    /// alone (its caller sees its error after the batch commits), while a failure of the batch fails the batch.
    /// </summary>
    private async Task<T> Run<T>(Func<SqliteConnection, T> body)
    {
        var outcome = await _writer.WriteAsync(connection =>
        {
            Execute(connection, "SAVEPOINT work");
            try
            {
                var result = body(connection);
                Execute(connection, "RELEASE work");
                return (Result: result, Error: (Exception?)null);
            }
            catch (Exception e) when (e is SqliteException or InvalidDataException or FormatException or InvalidCastException)
            {
                Execute(connection, "ROLLBACK TO work; RELEASE work");
                return (Result: default(T)!, Error: e);
            }
        }).ConfigureAwait(false);
        if (outcome.Error is not null) throw outcome.Error;
        return outcome.Result;
    }

    private static void ExecuteOnce(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private void Execute(SqliteConnection connection, string sql) => Statement(connection, sql).ExecuteNonQuery();

    private int Exec(SqliteConnection c, string sql, params (string Name, object? Value)[] parameters) => Statement(c, sql, parameters).ExecuteNonQuery();

    private long Scalar(SqliteConnection c, string sql, params (string Name, object? Value)[] parameters) =>
        Convert.ToInt64(Statement(c, sql, parameters).ExecuteScalar(), CultureInfo.InvariantCulture);

    /// <summary>
    /// The command for <paramref name="sql"/>, prepared on its first use and kept, with <paramref name="parameters"/> bound.
    /// Only the writer loop calls it (one transition at a time), and every reader is disposed before the next call.
    /// </summary>
    private SqliteCommand Statement(SqliteConnection c, string sql, params (string Name, object? Value)[] parameters)
    {
        if (!_statements.TryGetValue(sql, out var command))
        {
            command = c.CreateCommand();
            command.CommandText = sql;
            _statements[sql] = command;
        }

        command.Parameters.Clear();
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }

    public async ValueTask DisposeAsync()
    {
        await _writer.DisposeAsync().ConfigureAwait(false);
        foreach (var command in _statements.Values) command.Dispose();
        await _connection.DisposeAsync().ConfigureAwait(false);
    }
}
