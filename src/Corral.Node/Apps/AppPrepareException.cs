namespace Corral.Node.Apps;

/// <summary>
/// An app's preparation before its nodes start could not be done (a tool is missing, an install failed). The message
/// says what went wrong and what to do; the supervisor stops before any node runs.
/// </summary>
public sealed class AppPrepareException(string message) : Exception(message);
