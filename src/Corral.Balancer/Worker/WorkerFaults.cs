using System.Text.Json.Serialization;
using Corral.Node.Text;

namespace Corral.Balancer.Worker;

/// <summary>What a worker's service port does during an injected outage.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<OutageMode>))]
internal enum OutageMode
{
    /// <summary>Serving normally.</summary>
    None,

    /// <summary>The service listener is closed: connections are refused.</summary>
    Refuse,

    /// <summary>The listener accepts, but every request's connection is dropped without an answer.</summary>
    Drop,
}

/// <summary>The faults a worker injects right now.</summary>
internal sealed record FaultSettings
{
    public required TimeSpan AvgDelay { get; init; }
    public required double FailurePercent { get; init; }
    public OutageMode Outage { get; init; } = OutageMode.None;
}

/// <summary>The body of <c>PUT /faults</c>: every field is optional; an absent one keeps its current value.</summary>
internal sealed record FaultsRequest
{
    /// <summary>A duration such as <c>50ms</c>.</summary>
    public string? AvgDelay { get; init; }

    /// <summary>Percent 0–100.</summary>
    public double? Failure { get; init; }

    /// <summary><c>none</c>, <c>refuse</c> or <c>drop</c>.</summary>
    public string? Outage { get; init; }

    /// <summary>The new settings, or the reason the request is refused (and nothing changes).</summary>
    public (FaultSettings? Settings, string? Error) ApplyTo(FaultSettings current)
    {
        var next = current;
        if (AvgDelay is not null)
        {
            if (!Durations.TryParse(AvgDelay, out var delay) || delay > TimeSpan.FromHours(1))
                return (null, $"avgDelay must be a duration from 0 to 1h such as 50ms or 1.5s (digits 0-9), got '{AvgDelay}'");
            next = next with { AvgDelay = delay };
        }

        if (Failure is { } failure)
        {
            if (!double.IsFinite(failure) || failure is < 0 or > 100)
                return (null, $"failure must be a percent from 0 to 100, got {failure}");
            next = next with { FailurePercent = failure };
        }

        if (Outage is not null)
        {
            OutageMode? mode = Outage.ToLowerInvariant() switch
            {
                "none" => OutageMode.None,
                "refuse" => OutageMode.Refuse,
                "drop" => OutageMode.Drop,
                _ => null,
            };
            if (mode is null) return (null, $"outage must be none, refuse or drop, got '{Outage}'");
            next = next with { Outage = mode.Value };
        }

        return (next, null);
    }
}
