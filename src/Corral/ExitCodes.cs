namespace Corral;

/// <summary>Process exit codes of the <c>corral</c> command.</summary>
internal static class ExitCodes
{
    public const int Success = 0;

    /// <summary>The run failed: a finite app reported failure, a node hit its restart cap, or a check found a violation.</summary>
    public const int Failure = 1;

    /// <summary>Bad input: the topology, an argument or a file does not validate; nothing was started.</summary>
    public const int BadInput = 2;
}
