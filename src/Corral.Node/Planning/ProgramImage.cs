namespace Corral.Node.Planning;

/// <summary>
/// The image a program role (etcd, redis-server) runs from on a container engine: <c>corral image --program NAME</c>
/// names it <c>corral-NAME</c> with the tag of Corral's own image, so one tag picks a matching set.
/// </summary>
public static class ProgramImage
{
    /// <summary><c>corral-etcd:0.1.0</c> for Corral's image <c>corral:0.1.0</c>; <c>latest</c> when that image has no tag.</summary>
    public static string For(string corralImage, string program)
    {
        var colon = corralImage.LastIndexOf(':');
        var tag = colon > 0 && corralImage.IndexOf('/', colon) < 0 ? corralImage[(colon + 1)..] : "latest";
        return $"corral-{Path.GetFileName(program)}:{tag}";
    }
}
