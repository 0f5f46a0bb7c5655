using System.Diagnostics;
using Corral.WorkQueue.Config;
using Corral.WorkQueue.Store;

namespace Corral.WorkQueue.Tests.Store;

/// <summary>The plan's own redis-server listens on a unix socket only, and the store connects through it.</summary>
public sealed class RedisSocketTests
{
    [Fact]
    public void The_managed_redis_role_has_no_tcp_port_and_a_socket_in_its_data_folder()
    {
        var config = new WorkQueueConfig { SpecList = "/s/map.json", SpecRoot = "/s", Command = ["true"], Tasks = [], Store = "redis" };
        var redis = WorkQueuePlan.Create(config).Roles.Single(r => r.Role == WorkQueuePlan.RedisRole);

        Assert.Empty(redis.Ports);
        Assert.Equal("{data}/redis.sock", redis.EffectiveProbe.SocketPath);
        Assert.Equal(["--port", "0", "--unixsocket", "{data}/redis.sock", "--unixsocketperm", "700"], redis.Program!.Arguments.Take(6));
        Assert.Equal(Path.Combine("/d", WorkQueuePlan.RedisDataFolder, "redis.sock"), WorkQueuePlan.RedisSocket("/d"));
    }

    [Fact]
    public async Task The_store_runs_a_queue_through_a_unix_socket()
    {
        using var folder = new TempFolder("corral-redis-sock-");
        var socket = folder.Combine("redis.sock");
        var info = new ProcessStartInfo("setpriv") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "--pdeathsig", "KILL", "--", "redis-server", "--port", "0", "--unixsocket", socket, "--unixsocketperm", "700",
                     "--dir", folder.Path, "--save", "", "--daemonize", "no" })
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await Eventually.TrueAsync(() => File.Exists(socket), TimeSpan.FromSeconds(10), "redis-server to make its socket");
            var task = new TaskDefinition { Key = "task:g:0", Group = "g", Index = 0, Ordinal = 0, Spec = "a", Viewport = "desktop", Browser = "chrome" };

            await using var store = await RedisTaskStore.ConnectAsync(socket, "run-1", new QueueRules());
            Assert.True(await store.EnqueueAsync([task], 1000));
            Assert.Equal("task:g:0", (await store.ClaimAsync("worker-1", 1001))!.Task.Key);
        }
        finally
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
    }
}
