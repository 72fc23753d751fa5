using System.Text;

namespace WsCore.Esp;

/// <summary>
/// Runs ROM loader commands whose failure ends the operation: each failure becomes one <see cref="WsCoreException"/>
/// (kind Device) with a hint the user can act on. What every flasher operation is built on, before and after the chip
/// is known; the write path, which retries blocks, uses <see cref="RomConnection"/> itself for its data packets.
/// </summary>
/// <remarks>One owner: not thread-safe.</remarks>
public sealed class RomCommandRunner(RomConnection connection)
{
    /// <summary>What to do when the loader does not answer: put the board in download mode, check the cable.</summary>
    public const string DownloadModeHint =
        "hold BOOT and tap EN (reset), then try again; check the cable is a data cable";

    /// <summary>The connection the commands go through.</summary>
    public RomConnection Connection { get; } = connection;

    /// <summary>
    /// Sends <paramref name="command"/> with <paramref name="data"/> and returns its checked answer.
    /// </summary>
    /// <param name="command">The command.</param>
    /// <param name="data">The request's data field.</param>
    /// <param name="timeout">How long to wait for the answer (default: esptool's 3 s).</param>
    /// <exception cref="WsCoreException">Device: refused, not answered, garbled, or unknown to the loader.</exception>
    public RomResponse Run(RomCommand command, ReadOnlySpan<byte> data, TimeSpan? timeout = null)
    {
        try
        {
            return Connection.Command(command, RomPackets.Request(command, data), timeout ?? RomTimeouts.Default);
        }
        catch (RomCommandException e)
        {
            throw new WsCoreException(FailureKind.Device, $"the ESP32 refused {command}: {RomErrors.Describe(e.Error)}",
                "reset the board into download mode (hold BOOT, tap EN) and run again", e);
        }
        catch (RomTimeoutException e)
        {
            throw new WsCoreException(FailureKind.Device, $"the ESP32 stopped answering: {e.Message}",
                "check the cable and that nothing else uses the port; then " + DownloadModeHint, e);
        }
        catch (RomMalformedResponseException e)
        {
            throw new WsCoreException(FailureKind.Device, $"the ESP32's answer to {command} was garbled on the line",
                "check the cable (a shorter one helps), try the default baud rate, and run again", e);
        }
        catch (RomUnsupportedCommandException e)
        {
            throw new WsCoreException(FailureKind.Device, $"the loader does not support {command}", null, e);
        }
    }

    /// <summary>
    /// SPI_FLASH_MD5 of <paramref name="range"/>: the lowercase hex digest of what the flash holds there
    /// (docs/esp32-rom-protocol.md §4).
    /// </summary>
    public string FlashMd5(FlashRange range)
    {
        var response = Run(
            RomCommand.SpiFlashMd5,
            RomPackets.Words((uint)range.Start, (uint)range.Length, 0, 0),
            RomTimeouts.Md5(range.Length));
        return Encoding.ASCII.GetString(response.Data, 0, 32)
            .ToLowerInvariant();
    }

    /// <summary>
    /// SPI_ATTACH to the default flash pins: the ROM needs it, and <see cref="SetFlashSize"/>, before it reads or
    /// writes flash (docs/esp32-rom-protocol.md §7).
    /// </summary>
    public void AttachFlash() => Run(RomCommand.SpiAttach, RomPackets.SpiAttachPayload(0));

    /// <summary>
    /// SPI_SET_PARAMS for a flash of <paramref name="flashSize"/> bytes (docs/esp32-rom-protocol.md §7).
    /// </summary>
    public void SetFlashSize(uint flashSize) =>
        Run(RomCommand.SpiSetParams, RomPackets.SpiSetParamsPayload(flashSize));
}
