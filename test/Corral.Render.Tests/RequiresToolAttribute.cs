namespace Corral.Render.Tests;

/// <summary>A theory skipped, saying why, when the tool it runs is not installed (test.sh does not need it).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RequiresToolTheoryAttribute : TheoryAttribute
{
    public RequiresToolTheoryAttribute(string path)
    {
        if (!File.Exists(path))
        {
            Skip = $"{path} is not installed";
        }
    }
}
