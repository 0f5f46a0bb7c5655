using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using Corral.WorkQueue.Config;
using StackExchange.Redis;

namespace Corral.WorkQueue.Store;

/// <summary>
/// The queue in Redis, the original's store. Every transition is one Lua script run atomically on the server (as BullMQ
/// does), never a read-then-write from the client. Keys, for a run prefix <c>P = wq:&lt;run-id&gt;</c>:
/// <list type="bullet">
/// <item><c>P:meta</c> hash (<c>total</c>, <c>created</c>): the run exists (a resume enqueues nothing);</item>
/// <item><c>P:tasks</c> list: task keys in file order;</item>
/// <item><c>P:task:&lt;key&gt;</c> hash: the task's definition, <c>rank</c>, <c>state</c>, <c>attempt</c>, <c>failures</c>, <c>lost</c>,
/// <c>worker</c>, <c>lease</c>, <c>exit</c>, <c>duration</c>, <c>tail</c>, <c>expected</c>, <c>started</c>, <c>ended</c>;</item>
/// <item><c>P:waiting</c> sorted set: waiting keys scored by rank (claim takes the lowest);</item>
/// <item><c>P:running</c> sorted set: leased keys scored by lease expiry (ms), so expiry is one range query;</item>
/// <item><c>P:reported</c> hash: <c>&lt;key&gt;#&lt;attempt&gt;</c> → worker, so a repeated report is recognised;</item>
/// <item><c>P:attempts</c> list: one JSON object per recorded attempt;</item>
/// <item><c>wq:history</c> hash: <c>spec|browser|viewport</c> → expected duration in ms, across runs.</item>
/// </list>
/// </summary>
internal sealed class RedisTaskStore : ITaskStore
{
    public const string HistoryKey = "wq:history";

    // Lua cannot call another script, so every transition starts with the same expiry step.
    private const string Reap = """
        local function reap(p, now, max)
          local expired = redis.call('ZRANGEBYSCORE', p .. ':running', '-inf', '(' .. now)
          for _, key in ipairs(expired) do
            local t = p .. ':task:' .. key
            local lost = redis.call('HINCRBY', t, 'lost', 1)
            redis.call('ZREM', p .. ':running', key)
            redis.call('HDEL', t, 'lease')
            if lost >= max then
              redis.call('HSET', t, 'state', 'error', 'ended', now)
            else
              redis.call('HSET', t, 'state', 'waiting')
              redis.call('ZADD', p .. ':waiting', redis.call('HGET', t, 'rank'), key)
            end
          end
          return expired
        end
        """;

    private const string EnqueueScript = """
        local p = KEYS[1]
        if redis.call('EXISTS', p .. ':meta') == 1 then return 0 end
        redis.call('HSET', p .. ':meta', 'total', ARGV[2], 'created', ARGV[1])
        local n = tonumber(ARGV[2])
        for i = 0, n - 1 do
          local b = 3 + i * 10
          local key = ARGV[b]
          local t = p .. ':task:' .. key
          redis.call('HSET', t, 'key', key, 'group', ARGV[b + 1], 'index', ARGV[b + 2], 'ordinal', ARGV[b + 3], 'spec', ARGV[b + 4],
            'viewport', ARGV[b + 5], 'browser', ARGV[b + 6], 'rank', ARGV[b + 7], 'state', 'waiting', 'attempt', 0, 'failures', 0, 'lost', 0)
          if ARGV[b + 8] ~= '' then redis.call('HSET', t, 'expected', ARGV[b + 8]) end
          redis.call('ZADD', p .. ':waiting', ARGV[b + 7], key)
          redis.call('RPUSH', p .. ':tasks', key)
        end
        redis.call('SADD', 'wq:runs', p)
        return 1
        """;

    private const string ClaimScript = Reap + """

        local p = KEYS[1]
        local now = tonumber(ARGV[2])
        reap(p, now, tonumber(ARGV[4]))
        local first = redis.call('ZRANGE', p .. ':waiting', 0, 0)
        if #first == 0 then return false end
        local key = first[1]
        redis.call('ZREM', p .. ':waiting', key)
        local t = p .. ':task:' .. key
        local attempt = redis.call('HINCRBY', t, 'attempt', 1)
        local lease = now + tonumber(ARGV[3])
        redis.call('HSET', t, 'state', 'running', 'worker', ARGV[1], 'lease', lease, 'started', now)
        redis.call('ZADD', p .. ':running', lease, key)
        local f = redis.call('HMGET', t, 'group', 'index', 'ordinal', 'spec', 'viewport', 'browser')
        return {key, f[1], f[2], f[3], f[4], f[5], f[6], attempt, lease}
        """;

    // A batched claim is two scripts: a look at the queue (after putting expired leases back), then a claim of the keys
    // chosen from it that succeeds only if the look still holds (the head is the same and every chosen key still
    // waits), so the chooser stays in C# and the claim itself stays one atomic transition.
    private const string PeekScript = Reap + """

        local p = KEYS[1]
        reap(p, tonumber(ARGV[1]), tonumber(ARGV[2]))
        local waiting = {}
        for i, key in ipairs(redis.call('ZRANGE', p .. ':waiting', 0, -1)) do
          local f = redis.call('HMGET', p .. ':task:' .. key, 'group', 'index', 'ordinal', 'spec', 'viewport', 'browser', 'attempt', 'expected')
          waiting[i] = {key, f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8] or ''}
        end
        local running = {}
        for i, key in ipairs(redis.call('ZRANGE', p .. ':running', 0, -1)) do
          local f = redis.call('HMGET', p .. ':task:' .. key, 'worker', 'started', 'expected')
          running[i] = {f[1] or '', f[2] or ARGV[1], f[3] or ''}
        end
        return {waiting, running}
        """;

    private const string ClaimKeysScript = Reap + """

        local p = KEYS[1]
        local now = tonumber(ARGV[2])
        reap(p, now, tonumber(ARGV[4]))
        local first = redis.call('ZRANGE', p .. ':waiting', 0, 0)
        if #first == 0 or first[1] ~= ARGV[5] then return false end
        for i = 5, #ARGV do
          if not redis.call('ZSCORE', p .. ':waiting', ARGV[i]) then return false end
        end
        local lease = now + tonumber(ARGV[3])
        local out = {}
        for i = 5, #ARGV do
          local key = ARGV[i]
          redis.call('ZREM', p .. ':waiting', key)
          local t = p .. ':task:' .. key
          local attempt = redis.call('HINCRBY', t, 'attempt', 1)
          redis.call('HSET', t, 'state', 'running', 'worker', ARGV[1], 'lease', lease, 'started', now)
          redis.call('ZADD', p .. ':running', lease, key)
          local f = redis.call('HMGET', t, 'group', 'index', 'ordinal', 'spec', 'viewport', 'browser')
          out[#out + 1] = {key, f[1], f[2], f[3], f[4], f[5], f[6], attempt, lease}
        end
        return out
        """;

    private const string HeartbeatScript = Reap + """

        local p = KEYS[1]
        local now = tonumber(ARGV[4])
        reap(p, now, tonumber(ARGV[6]))
        local t = p .. ':task:' .. ARGV[1]
        local f = redis.call('HMGET', t, 'state', 'attempt', 'worker')
        if f[1] ~= 'running' or tonumber(f[2]) ~= tonumber(ARGV[2]) or f[3] ~= ARGV[3] then return 0 end
        local lease = now + tonumber(ARGV[5])
        redis.call('HSET', t, 'lease', lease)
        redis.call('ZADD', p .. ':running', lease, ARGV[1])
        return 1
        """;

    private const string CompleteScript = Reap + """

        local p = KEYS[1]
        local key, attempt, worker, result = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
        local now = tonumber(ARGV[8])
        local reported = key .. '#' .. attempt
        if redis.call('HGET', p .. ':reported', reported) == worker then return 'duplicate' end
        reap(p, now, tonumber(ARGV[10]))
        local t = p .. ':task:' .. key
        local f = redis.call('HMGET', t, 'state', 'attempt', 'worker', 'failures', 'rank', 'spec', 'browser', 'viewport')
        if f[1] ~= 'running' or tonumber(f[2]) ~= tonumber(attempt) or f[3] ~= worker then return 'refused' end
        local failures = tonumber(f[4])
        local state
        if result == 'passed' then
          if failures > 0 then state = 'flaky' else state = 'passed' end
        else
          failures = failures + 1
          if failures <= tonumber(ARGV[9]) then state = 'waiting'
          elseif result == 'failed' then state = 'failed'
          elseif result == 'timed-out' then state = 'timed-out'
          else state = 'error' end
        end
        redis.call('HSET', t, 'state', state, 'failures', failures, 'duration', ARGV[6], 'tail', ARGV[7])
        if ARGV[5] ~= '' then redis.call('HSET', t, 'exit', ARGV[5]) else redis.call('HDEL', t, 'exit') end
        redis.call('HDEL', t, 'lease')
        redis.call('ZREM', p .. ':running', key)
        if state == 'waiting' then
          redis.call('ZADD', p .. ':waiting', f[5], key)
          redis.call('HDEL', t, 'ended')
        else
          redis.call('HSET', t, 'ended', now)
        end
        redis.call('HSET', p .. ':reported', reported, worker)
        local record = {key = key, attempt = tonumber(attempt), worker = worker, result = result, durationMs = tonumber(ARGV[6]), endedMs = now}
        if ARGV[5] ~= '' then record.exitCode = tonumber(ARGV[5]) end
        redis.call('RPUSH', p .. ':attempts', cjson.encode(record))
        local hk = f[6] .. '|' .. f[7] .. '|' .. f[8]
        local previous = redis.call('HGET', 'wq:history', hk)
        local duration = tonumber(ARGV[6])
        if previous then duration = (tonumber(previous) + duration) / 2 end
        redis.call('HSET', 'wq:history', hk, tostring(duration))
        return 'recorded'
        """;

    private const string ExpireScript = Reap + """

        return reap(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
        """;

    private const string ListScript = """
        local p = KEYS[1]
        local keys = redis.call('LRANGE', p .. ':tasks', 0, -1)
        local out = {}
        for i, key in ipairs(keys) do out[i] = redis.call('HGETALL', p .. ':task:' .. key) end
        return out
        """;

    private readonly ConnectionMultiplexer _redis;
    private readonly IDatabase _db;
    private readonly RedisKey[] _keys;
    private readonly QueueRules _rules;

    private RedisTaskStore(ConnectionMultiplexer redis, string runId, QueueRules rules)
    {
        _redis = redis;
        _db = redis.GetDatabase();
        _keys = [(RedisKey)$"wq:{runId}"];
        _rules = rules;
    }

    /// <summary>Connects to <c>redis://host:port</c>, <c>host:port</c> or a unix socket's absolute path; throws <see cref="RedisConnectionException"/> when it cannot.</summary>
    public static async Task<RedisTaskStore> ConnectAsync(string url, string runId, QueueRules rules)
    {
        ConfigurationOptions options;
        if (Path.IsPathRooted(url))
        {
            // A unix socket (the plan's own redis-server).
            options = new ConfigurationOptions();
            options.EndPoints.Add(new UnixDomainSocketEndPoint(url));
        }
        else
        {
            options = ConfigurationOptions.Parse(url.StartsWith("redis://", StringComparison.Ordinal) ? url["redis://".Length..].TrimEnd('/') : url);
        }

        options.AbortOnConnectFail = true;
        options.ConnectTimeout = 5000;
        options.SyncTimeout = 10_000;
        options.AsyncTimeout = 10_000;
        options.ConnectRetry = 3;
        var redis = await ConnectionMultiplexer.ConnectAsync(options).ConfigureAwait(false);
        return new RedisTaskStore(redis, runId, rules);
    }

    private long LeaseMs => (long)_rules.Lease.TotalMilliseconds;

    public async Task<bool> EnqueueAsync(IReadOnlyList<TaskDefinition> tasks, long nowMs)
    {
        var history = await _db.HashGetAllAsync(HistoryKey).ConfigureAwait(false);
        var expected = history.ToDictionary(e => (string)e.Name!, e => (long)Math.Round(double.Parse((string)e.Value!, CultureInfo.InvariantCulture)), StringComparer.Ordinal);
        var ranked = QueueOrder.Rank(tasks, t => expected.TryGetValue(t.HistoryKey, out var e) ? e : null);
        var args = new List<RedisValue>(2 + tasks.Count * 10) { nowMs, tasks.Count };
        for (var rank = 0; rank < ranked.Count; rank++)
        {
            var (t, e) = ranked[rank];
            args.AddRange([t.Key, t.Group, t.Index, t.Ordinal, t.Spec, t.Viewport, t.Browser, rank, e is { } v ? v : "", ""]);
        }

        return (int)await _db.ScriptEvaluateAsync(EnqueueScript, _keys, args.ToArray()).ConfigureAwait(false) == 1;
    }

    public async Task<Claim?> ClaimAsync(string worker, long nowMs)
    {
        var result = await _db.ScriptEvaluateAsync(ClaimScript, _keys, [worker, nowMs, LeaseMs, _rules.MaxLostLeases]).ConfigureAwait(false);
        if (result.IsNull) return null;
        var f = (RedisResult[])result!;
        var task = new TaskDefinition
        {
            Key = (string)f[0]!, Group = (string)f[1]!, Index = (int)f[2], Ordinal = (int)f[3],
            Spec = (string)f[4]!, Viewport = (string)f[5]!, Browser = (string)f[6]!,
        };
        return new Claim(task, (int)f[7], (long)f[8]);
    }

    public async Task<IReadOnlyList<Claim>> ClaimBatchAsync(string worker, long nowMs, IClaimBatching batching)
    {
        // Another claim between the look and the claim makes the claim refuse; look again a few times, then take the head alone.
        for (var tries = 0; tries < 5; tries++)
        {
            var look = (RedisResult[])(await _db.ScriptEvaluateAsync(PeekScript, _keys, [nowMs, _rules.MaxLostLeases]).ConfigureAwait(false))!;
            var waiting = ((RedisResult[])look[0]!).Select(r => (RedisResult[])r!).Select(f => new WaitingTask(new TaskDefinition
            {
                Key = (string)f[0]!, Group = (string)f[1]!, Index = (int)f[2], Ordinal = (int)f[3],
                Spec = (string)f[4]!, Viewport = (string)f[5]!, Browser = (string)f[6]!,
            }, (int)f[7], OptionalLong((string?)f[8]))).ToArray();
            if (waiting.Length == 0) return [];
            var running = ((RedisResult[])look[1]!).Select(r => (RedisResult[])r!)
                .Select(f => new RunningTask((string)f[0]!, OptionalLong((string?)f[1]) ?? nowMs, OptionalLong((string?)f[2]))).ToArray();
            var keys = QueueOrder.Chosen(batching.Choose(waiting, running, nowMs), waiting.Length).Select(i => (RedisValue)waiting[i].Task.Key);
            var result = await _db.ScriptEvaluateAsync(ClaimKeysScript, _keys, [worker, nowMs, LeaseMs, _rules.MaxLostLeases, .. keys]).ConfigureAwait(false);
            if (result.IsNull) continue;
            return ((RedisResult[])result!).Select(r => (RedisResult[])r!).Select(f => new Claim(new TaskDefinition
            {
                Key = (string)f[0]!, Group = (string)f[1]!, Index = (int)f[2], Ordinal = (int)f[3],
                Spec = (string)f[4]!, Viewport = (string)f[5]!, Browser = (string)f[6]!,
            }, (int)f[7], (long)f[8])).ToArray();
        }

        return await ClaimAsync(worker, nowMs).ConfigureAwait(false) is { } single ? [single] : [];
    }

    private static long? OptionalLong(string? text) =>
        string.IsNullOrEmpty(text) ? null : (long)double.Parse(text, CultureInfo.InvariantCulture);

    public async Task<bool> HeartbeatAsync(string key, int attempt, string worker, long nowMs) =>
        (int)await _db.ScriptEvaluateAsync(HeartbeatScript, _keys, [key, attempt, worker, nowMs, LeaseMs, _rules.MaxLostLeases]).ConfigureAwait(false) == 1;

    public async Task<ReportOutcome> CompleteAsync(Completion c, long nowMs)
    {
        var result = (string?)await _db.ScriptEvaluateAsync(CompleteScript, _keys,
        [
            c.Key, c.Attempt, c.Worker, SqliteTaskStore.ResultName(c.Result), c.ExitCode is { } exit ? exit : "", c.DurationMs, c.OutputTail,
            nowMs, _rules.Retries, _rules.MaxLostLeases,
        ]).ConfigureAwait(false);
        return result switch
        {
            "recorded" => ReportOutcome.Recorded,
            "duplicate" => ReportOutcome.Duplicate,
            _ => ReportOutcome.Refused,
        };
    }

    public async Task<IReadOnlyList<string>> ExpireAsync(long nowMs)
    {
        var result = await _db.ScriptEvaluateAsync(ExpireScript, _keys, [nowMs, _rules.MaxLostLeases]).ConfigureAwait(false);
        return ((RedisResult[])result!).Select(r => (string)r!).ToArray();
    }

    public async Task<IReadOnlyList<QueuedTask>> ListAsync()
    {
        var result = (RedisResult[])(await _db.ScriptEvaluateAsync(ListScript, _keys).ConfigureAwait(false))!;
        var list = new List<QueuedTask>(result.Length);
        foreach (var item in result)
        {
            var pairs = (RedisResult[])item!;
            var h = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i + 1 < pairs.Length; i += 2) h[(string)pairs[i]!] = (string)pairs[i + 1]!;
            long? Long(string name) => h.TryGetValue(name, out var v) ? (long)double.Parse(v, CultureInfo.InvariantCulture) : null;
            list.Add(new QueuedTask
            {
                Task = new TaskDefinition
                {
                    Key = h["key"], Group = h["group"], Index = int.Parse(h["index"], CultureInfo.InvariantCulture),
                    Ordinal = int.Parse(h["ordinal"], CultureInfo.InvariantCulture), Spec = h["spec"], Viewport = h["viewport"], Browser = h["browser"],
                },
                State = SqliteTaskStore.ParseState(h["state"]),
                Attempt = (int)(Long("attempt") ?? 0),
                Failures = (int)(Long("failures") ?? 0),
                LostLeases = (int)(Long("lost") ?? 0),
                Worker = h.GetValueOrDefault("worker"),
                LeaseExpiresMs = Long("lease"),
                ExitCode = Long("exit") is { } exit ? (int)exit : null,
                DurationMs = Long("duration"),
                OutputTail = h.GetValueOrDefault("tail"),
                ExpectedMs = Long("expected"),
                StartedMs = Long("started"),
                EndedMs = Long("ended"),
            });
        }

        return list;
    }

    public async Task<IReadOnlyList<AttemptRecord>> AttemptsAsync()
    {
        var items = await _db.ListRangeAsync($"{_keys[0]}:attempts").ConfigureAwait(false);
        return items.Select(i => JsonSerializer.Deserialize((string)i!, WorkQueueJson.Default.RedisAttempt)!)
            .Select(a => new AttemptRecord(a.Key, a.Attempt, a.Worker, SqliteTaskStore.ParseResult(a.Result), a.ExitCode, a.DurationMs, a.EndedMs))
            .ToArray();
    }

    public async ValueTask DisposeAsync() => await _redis.DisposeAsync().ConfigureAwait(false);
}

/// <summary>An attempt as the complete script encodes it in <c>P:attempts</c>.</summary>
internal sealed record RedisAttempt(string Key, int Attempt, string Worker, string Result, int? ExitCode, long DurationMs, long EndedMs);
