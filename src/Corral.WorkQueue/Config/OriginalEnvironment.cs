using System.Globalization;
using Corral.Node.Topology;

namespace Corral.WorkQueue.Config;

/// <summary>
/// The original's environment variables, read as overrides when set so its deployment scripts keep working:
/// <c>GROUP_TASKS_FILE</c> (the spec list), <c>SPEC_ROOT</c> (where specs run), <c>REDIS_HOST</c> and
/// <c>REDIS_PORT</c> (the queue in that Redis). Each one used is said in one line at start.
/// </summary>
internal static class OriginalEnvironment
{
    public const string GroupTasksFile = "GROUP_TASKS_FILE";
    public const string SpecRoot = "SPEC_ROOT";
    public const string RedisHost = "REDIS_HOST";
    public const string RedisPort = "REDIS_PORT";

    public static string? Read(Func<string, string?> environment, string name) => environment(name) is { Length: > 0 } value ? value.Trim() : null;

    /// <summary>The settings with <c>SPEC_ROOT</c> and <c>REDIS_HOST</c>/<c>REDIS_PORT</c> applied, each announced; a bad value is an error.</summary>
    public static WorkQueueConfig Apply(WorkQueueConfig settings, MappingReader reader, Func<string, string?> environment)
    {
        var d = reader.Diagnostics;
        if (Read(environment, SpecRoot) is { } root)
        {
            var full = Path.GetFullPath(root);
            if (!Directory.Exists(full))
            {
                d.Error(reader.Mapping, $"{SpecRoot} is set to '{root}', which is not a folder: the spec commands run there; unset it or name a folder");
            }
            else
            {
                d.Warn(reader.Mapping, $"{SpecRoot} is set: specs run in {full} (not {settings.SpecRoot})");
                settings = settings with { SpecRoot = full };
            }
        }

        var host = Read(environment, RedisHost);
        var portText = Read(environment, RedisPort);
        if (host is null && portText is null) return settings;
        if (!int.TryParse(portText ?? "6379", NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            d.Error(reader.Mapping, $"{RedisPort} is set to '{portText}': it must be a port number 1-65535; unset it or fix it");
            return settings;
        }

        if (host is not null && (host.Contains('/') || host.Contains(' ') || Uri.CheckHostName(host) == UriHostNameType.Unknown))
        {
            d.Error(reader.Mapping, $"{RedisHost} is set to '{host}': it must be a host name or address; unset it or fix it");
            return settings;
        }

        var url = $"redis://{host ?? "localhost"}:{port.ToString(CultureInfo.InvariantCulture)}";
        d.Warn(reader.Mapping, $"{RedisHost}/{RedisPort} are set: the queue is in the Redis at {url} (not store: {settings.Store})");
        return settings with { Store = url };
    }
}
