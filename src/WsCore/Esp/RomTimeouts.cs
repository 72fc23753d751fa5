namespace WsCore.Esp;

/// <summary>
/// Per-command time limits, as esptool computes them (loader.py constants, <c>timeout_per_mb</c>;
/// docs/esp32-rom-protocol.md §4).
/// </summary>
public static class RomTimeouts
{
    /// <summary>esptool <c>DEFAULT_TIMEOUT</c>.</summary>
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(3);

    /// <summary>SYNC waits 100 ms per try (esptool <c>SYNC_TIMEOUT</c>).</summary>
    public static readonly TimeSpan Sync = TimeSpan.FromMilliseconds(100);

    /// <summary>Flash erase at FLASH_BEGIN: 30 s per MB, at least 3 s.</summary>
    public static TimeSpan Erase(long bytes) => PerMegabyte(30, bytes);

    /// <summary>Write (with erase) of a data block: 40 s per MB of uncompressed data, at least 3 s.</summary>
    public static TimeSpan EraseWrite(long bytes) => PerMegabyte(40, bytes);

    /// <summary>SPI_FLASH_MD5: 8 s per MB, at least 3 s.</summary>
    public static TimeSpan Md5(long bytes) => PerMegabyte(8, bytes);

    private static TimeSpan PerMegabyte(double secondsPerMb, long bytes)
    {
        var seconds = secondsPerMb * (bytes / 1e6);
        return seconds < Default.TotalSeconds ? Default : TimeSpan.FromSeconds(seconds);
    }
}
