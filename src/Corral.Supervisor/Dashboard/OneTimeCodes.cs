using System.Security.Cryptography;
using System.Text;

namespace Corral.Supervisor.Dashboard;

/// <summary>
/// The dashboard's one-time codes: each works once, within <see cref="Lifetime"/> of being issued, and is exchanged
/// for a session (the cookie's value). Codes and sessions are random and unrelated to the run's token, so a link
/// that leaks (shell history, a screenshot) is worthless once used or five minutes old.
/// </summary>
internal sealed class OneTimeCodes(TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);
    private readonly Lock _lock = new();
    private readonly Dictionary<string, DateTimeOffset> _codes = new(StringComparer.Ordinal);
    private readonly HashSet<string> _sessions = new(StringComparer.Ordinal);

    public string Issue()
    {
        var code = Random(16);
        lock (_lock)
        {
            Prune();
            _codes[code] = time.GetUtcNow() + Lifetime;
        }

        return code;
    }

    /// <summary>A new session for a valid code, which is spent whatever the answer; null for an unknown, used or expired code.</summary>
    public string? Redeem(string code)
    {
        lock (_lock)
        {
            if (!_codes.Remove(code, out var expires) || time.GetUtcNow() >= expires)
            {
                return null;
            }

            var session = Random(32);
            _sessions.Add(session);
            return session;
        }
    }

    /// <summary>Whether <paramref name="session"/> was issued by <see cref="Redeem"/>, compared in constant time.</summary>
    public bool IsSession(string session)
    {
        var given = Encoding.UTF8.GetBytes(session);
        lock (_lock)
        {
            var found = false;
            foreach (var known in _sessions)
            {
                found |= CryptographicOperations.FixedTimeEquals(given, Encoding.UTF8.GetBytes(known));
            }

            return found;
        }
    }

    private void Prune()
    {
        var now = time.GetUtcNow();
        foreach (var (code, expires) in _codes.ToArray())
        {
            if (now >= expires) _codes.Remove(code);
        }
    }

    private static string Random(int bytes) =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(bytes)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
