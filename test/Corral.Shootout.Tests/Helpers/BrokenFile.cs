using System.Runtime.InteropServices;

namespace Corral.Shootout.Tests.Helpers;

/// <summary>
/// Makes writes to a file this process holds open fail the way a full disk does: the open descriptor is swapped
/// for one on <c>/dev/full</c> (every write answers ENOSPC), and the path is taken by a directory so that opening
/// it again fails too, until <see cref="Dispose"/> puts the real file back.
/// </summary>
public sealed class BrokenFile : IDisposable
{
    private readonly string _path;
    private readonly string _aside;

    private BrokenFile(string path)
    {
        _path = path;
        _aside = path + ".aside";
    }

    public static BrokenFile Break(string path)
    {
        var full = Path.GetFullPath(path);
        var descriptors = Directory.GetFiles("/proc/self/fd")
            .Where(fd => TargetOf(fd) == full)
            .Select(fd => int.Parse(Path.GetFileName(fd), System.Globalization.CultureInfo.InvariantCulture))
            .ToArray();
        Assert.NotEmpty(descriptors);
        using (var devFull = File.OpenHandle("/dev/full", FileMode.Open, FileAccess.Write))
        {
            foreach (var fd in descriptors)
            {
                Assert.True(Dup2((int)devFull.DangerousGetHandle(), fd) >= 0, $"dup2 failed: errno {Marshal.GetLastPInvokeError()}");
            }
        }

        var broken = new BrokenFile(full);
        File.Move(full, broken._aside);
        Directory.CreateDirectory(full);
        return broken;
    }

    /// <summary>Where a descriptor points; null for one that other tests closed meanwhile.</summary>
    private static string? TargetOf(string descriptor)
    {
        try
        {
            return new FileInfo(descriptor).LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Puts the real file back where it was.</summary>
    public void Dispose()
    {
        if (!File.Exists(_aside)) return;
        Directory.Delete(_path);
        File.Move(_aside, _path);
    }

    [DllImport("libc", EntryPoint = "dup2", SetLastError = true)]
    private static extern int Dup2(int oldFd, int newFd);
}
