namespace Corral.Node.Nodes;

/// <summary>
/// Whether a node takes work. An app marks it ready once its state is loaded; it turns not-ready the
/// moment the node starts draining, so balancers and the supervisor stop sending before it stops.
/// </summary>
public sealed class NodeReadiness
{
    private volatile bool _ready;
    private volatile bool _draining;

    public bool IsReady => _ready && !_draining;
    public bool IsDraining => _draining;

    public void MarkReady() => _ready = true;
    public void MarkNotReady() => _ready = false;
    public void MarkDraining() => _draining = true;
}
