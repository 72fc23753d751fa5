namespace WsCore.FlashFiles;

/// <summary>Writes files that may hold a secret (an NVS image holds the Wi-Fi password): for the owner only.</summary>
public static class PrivateFile
{
    /// <summary>
    /// Writes <paramref name="data"/> to <paramref name="path"/> with mode 0600 from the start (no window where others
    /// could read the password): a new file created with UnixCreateMode in the same folder, then renamed over the
    /// target. A device such as /dev/stdout is written in place, never replaced.
    /// </summary>
    /// <param name="path">Where to write.</param>
    /// <param name="data">What to write.</param>
    /// <param name="field">The input that named the path, for the failures.</param>
    /// <exception cref="WsCoreException">InvalidInput of <paramref name="field"/>: it cannot be written.</exception>
    public static void Write(string path, byte[] data, InputField field)
    {
        var full = Path.GetFullPath(path);
        var resolved = File.Exists(full)
            ? new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full
            : full;
        if (resolved.StartsWith("/dev/", StringComparison.Ordinal)
            || resolved.StartsWith("/proc/", StringComparison.Ordinal))
        {
            using var device = new FileStream(full, FileMode.Open, FileAccess.Write);
            device.Write(data);
            return;
        }
        if (Directory.Exists(full))
            throw WsCoreException.Invalid(field, $"{path} is a directory");
        if (Path.GetDirectoryName(full) is { } parent && !Directory.Exists(parent))
            throw WsCoreException.Invalid(field, $"the directory {parent} does not exist",
                $"create it first: mkdir -p {parent}");
        var temp = Path.Combine(Path.GetDirectoryName(full) ?? ".",
            $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using (var file = new FileStream(temp, options))
                file.Write(data);
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try
            {
                File.Delete(temp);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                // Nothing was created, or it cannot be removed either: the error below is the one to report.
            }
            throw WsCoreException.Invalid(field, $"cannot write {path} ({e.Message})");
        }
    }
}
