using Corral.Node.Apps;
using Corral.Balancer;
using Corral.Counter;
using Corral.Shootout;
using Corral.WorkQueue;

namespace Corral;

/// <summary>The apps this binary ships. A new app module is added here and nowhere else.</summary>
internal static class AppRegistry
{
    public static AppCatalog CreateCatalog() => new([new ShootoutModule(), new BalancerModule(), new CounterModule(), new WorkQueueModule()]);
}
