using Microsoft.AspNetCore.Builder;

namespace Corral.Node.Http;

/// <summary>An endpoint that answers whatever Host a client sent (a proxy's data plane): <see cref="HostGuard"/> lets it through.</summary>
public interface IAcceptAnyHost;

/// <summary>An endpoint whose body is not JSON or whose original clients sent another type: <see cref="JsonWrites"/> lets it through.</summary>
public interface IAcceptAnyContentType;

/// <summary>The explicit exemptions from the node kit's listener rules, as endpoint metadata.</summary>
public static class EndpointExemptions
{
    /// <summary>The endpoint answers any Host (a proxy that forwards what the client sent, as nginx does).</summary>
    public static TBuilder AcceptAnyHost<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(AnyHost.Instance);

    /// <summary>The endpoint takes a write body of any content type (its original's clients send one that is not JSON).</summary>
    public static TBuilder AcceptAnyContentType<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(AnyContentType.Instance);

    private sealed class AnyHost : IAcceptAnyHost
    {
        public static readonly AnyHost Instance = new();
    }

    private sealed class AnyContentType : IAcceptAnyContentType
    {
        public static readonly AnyContentType Instance = new();
    }
}
