using System.Text.Json;
using Corral.Node.Control;
using Corral.Node.Feeds;

namespace Corral.Supervisor.Control;

/// <summary>The app's config as served to nodes, and the feed of reloaded versions.</summary>
internal sealed class ConfigFeed
{
    private readonly Lock _lock = new();
    private readonly Fanout<ConfigDocument> _subscribers;
    private ConfigDocument _current;

    public ConfigFeed(JsonElement config, int capacity = Fanout<ConfigDocument>.DefaultCapacity)
    {
        _subscribers = new Fanout<ConfigDocument>(_lock, capacity);
        _current = new ConfigDocument(1, JsonValues.OrNull(config));
    }

    public ConfigDocument Current
    {
        get
        {
            lock (_lock)
            {
                return _current;
            }
        }
    }

    /// <summary>Publishes a reloaded config as the next version; an identical config publishes nothing.</summary>
    public bool Publish(JsonElement config)
    {
        config = JsonValues.OrNull(config);
        lock (_lock)
        {
            if (config.GetRawText() == _current.Config.GetRawText())
            {
                return false;
            }

            _current = new ConfigDocument(_current.Version + 1, config);
            _subscribers.Publish(_current);

            return true;
        }
    }

    public Subscription<ConfigDocument> Subscribe()
    {
        lock (_lock)
        {
            return _subscribers.Subscribe(_current);
        }
    }

    public void Complete()
    {
        lock (_lock)
        {
            _subscribers.Complete();
        }
    }
}

/// <summary>JSON values from callers, made safe to serialise: an unset element becomes JSON null.</summary>
internal static class JsonValues
{
    private static readonly JsonElement Null = JsonDocument.Parse("null").RootElement.Clone();

    public static JsonElement OrNull(JsonElement value) => value.ValueKind == JsonValueKind.Undefined ? Null : value.Clone();
}
