using System.Globalization;
using System.Text;
using Corral.Node.Storage;

namespace Corral.WorkQueue.Worker;

/// <summary>
/// Bounds one attempt's log once its command has ended: a log past <see cref="MaxBytes"/> keeps its first and last
/// halves (where a runner says what it ran and how it failed) around one line saying how much was cut, so a spec that
/// prints without end cannot fill the disk across attempts and runs. Logs are the owner's only (0600).
/// </summary>
internal static class AttemptLog
{
    public const long MaxBytes = 1024 * 1024;

    /// <summary>Cuts the middle of the log at <paramref name="path"/> when it is longer than <paramref name="maxBytes"/>; returns the bytes cut.</summary>
    public static long Cap(string path, long maxBytes = MaxBytes)
    {
        try
        {
            return CapOrThrow(path, maxBytes);
        }
        catch (IOException)
        {
            // A log that cannot be rewritten stays as it is: the attempt's result matters more than its log's size.
            return 0;
        }
    }

    private static long CapOrThrow(string path, long maxBytes)
    {
        var length = new FileInfo(path) is { Exists: true } info ? info.Length : 0;
        if (length <= maxBytes)
        {
            return 0;
        }

        var half = (int)(maxBytes / 2);
        byte[] head = new byte[half], tail = new byte[half];
        using (var source = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        {
            source.ReadExactly(head);
            source.Seek(-half, SeekOrigin.End);
            source.ReadExactly(tail);
        }

        // Whole lines on both sides of the cut, when the halves hold a line break at all.
        var headLength = Array.LastIndexOf(head, (byte)'\n') is var lastBreak and >= 0 ? lastBreak + 1 : half;
        var tailStart = Array.IndexOf(tail, (byte)'\n') is var firstBreak and >= 0 ? firstBreak + 1 : 0;
        var cut = length - headLength - (half - tailStart);
        var note = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"{(headLength == half ? "\n" : "")}[corral] {cut} bytes cut from the middle of this log ({length} bytes; the first and last {half} at most are kept)\n"));

        var temporary = path + ".cap";
        using (var target = PrivateFiles.OpenForWriting(temporary, FileMode.Create))
        {
            target.Write(head, 0, headLength);
            target.Write(note);
            target.Write(tail, tailStart, half - tailStart);
        }

        File.Move(temporary, path, overwrite: true);
        return cut;
    }
}
