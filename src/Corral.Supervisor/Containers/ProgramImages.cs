namespace Corral.Supervisor.Containers;

/// <summary>
/// How a program role's image is named beside Corral's: <c>corral-PROGRAM</c> with the tag of Corral's image, so
/// <c>corral image --tag corral:T --program etcd</c> builds what <c>corral up --engine docker --image corral:T</c> runs.
/// </summary>
public static class ProgramImages
{
    /// <summary>The image of <paramref name="program"/> (<c>etcd</c>) that goes with Corral's image <paramref name="corralImage"/>.</summary>
    public static string For(string corralImage, string program)
    {
        var colon = corralImage.LastIndexOf(':');
        var tag = colon > 0 && corralImage.IndexOf('/', colon) < 0 ? corralImage[(colon + 1)..] : "latest";
        return $"corral-{program}:{tag}";
    }
}
