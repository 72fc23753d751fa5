using System.Security.Cryptography;
using Serilog;
using WsCore.Flashing;

namespace WsCore.Esp;

/// <summary>
/// Reads flash through a connected ROM loader (docs/esp32-rom-protocol.md §12): READ_FLASH_SLOW, 64 bytes a command
/// (the ROM has no faster read; esptool's <c>read_flash</c> without its stub does the same), each command sent again
/// when its answer is lost or garbled (a read changes nothing), and what was read checked against SPI_FLASH_MD5 of the
/// same range, so that a byte changed on the line cannot pass.
/// </summary>
/// <remarks>One owner: not thread-safe. Throws <see cref="WsCoreException"/> at its edge.</remarks>
public sealed class FlashReader
{
    /// <summary>The most one READ_FLASH_SLOW returns.</summary>
    public const int BlockSize = RomResponse.ReadFlashBlock;

    private const int BlockAttempts = 3;

    private readonly RomLoader _loader;
    private readonly ILogger _logger;
    private readonly IFlashObserver? _observer;

    /// <summary>A reader through <paramref name="loader"/>, its flash attached and sized.</summary>
    public FlashReader(RomLoader loader, ILogger? logger = null, IFlashObserver? observer = null)
    {
        _loader = loader;
        _logger = logger ?? Serilog.Core.Logger.None;
        _observer = observer;
    }

    /// <summary>
    /// Reads <paramref name="range"/>, reporting progress under <paramref name="name"/>, and checks it against the
    /// flash's MD5.
    /// </summary>
    /// <exception cref="WsCoreException">
    /// Device: the loader refused or stopped answering; VerificationFailed: what was read is not what the flash holds.
    /// </exception>
    public byte[] Read(string name, FlashRange range, CancellationToken cancel = default)
    {
        var region = new FlashRegion(name, (uint)range.Start, []);
        _observer?.OnEvent(new FlashEvent(FlashEventKind.ReadStarted, region, 0, range.Length));
        // The MD5 is taken over whole words, as the ROM reads flash: the range rounded out to 4 bytes.
        var start = range.Start & ~3L;
        var end = (range.End + 3) & ~3L;
        var words = new byte[end - start];
        for (var at = 0; at < words.Length; at += BlockSize)
        {
            cancel.ThrowIfCancellationRequested();
            var length = Math.Min(BlockSize, words.Length - at);
            ReadBlock((uint)(start + at), length).CopyTo(words, at);
            var done = Math.Clamp(start + at + length - range.Start, 0, range.Length);
            _observer?.OnEvent(new FlashEvent(FlashEventKind.RegionProgress, region, done, range.Length));
        }
        Check(name, new FlashRange(start, end), words);
        var data = words.AsSpan((int)(range.Start - start), (int)range.Length).ToArray();
        _observer?.OnEvent(new FlashEvent(FlashEventKind.RegionRead, region, range.Length, range.Length,
            Convert.ToHexStringLower(MD5.HashData(data))));
        return data;
    }

    /// <summary>
    /// Reads from <paramref name="offset"/>, a block at a time, until <paramref name="complete"/> says what was read
    /// is enough or <paramref name="maxLength"/> bytes were read (a partition table, whose length its own entries
    /// tell); checked against the flash's MD5 as <see cref="Read"/> is.
    /// </summary>
    public byte[] ReadUntil(uint offset, int maxLength, Func<byte[], bool> complete)
    {
        var data = Array.Empty<byte>();
        while (data.Length < maxLength && !complete(data))
        {
            var block = ReadBlock((uint)(offset + data.Length), Math.Min(BlockSize, maxLength - data.Length));
            data = [.. data, .. block];
        }
        Check($"0x{offset:X}", new FlashRange(offset, offset + data.Length), data);
        return data;
    }

    /// <summary>
    /// One READ_FLASH_SLOW of <paramref name="length"/> bytes (1-64) at <paramref name="address"/>. The ROM answers
    /// with its whole 64-byte buffer, of which the first <paramref name="length"/> bytes are the flash's.
    /// </summary>
    public byte[] ReadBlock(uint address, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, BlockSize);
        var request = RomPackets.Request(RomCommand.ReadFlashSlow, RomPackets.Words(address, (uint)length));
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var answer = _loader.Connection.Command(RomCommand.ReadFlashSlow, request, RomTimeouts.Default);
                return answer.Data.AsSpan(0, length).ToArray();
            }
            catch (RomCommandException e) when (e.Error is not ((byte)RomErrorCode.InvalidMessage
                or (byte)RomErrorCode.BadChecksum))
            {
                // Flash read error, read length error: the ROM's verdict on the range, not the line's.
                throw new WsCoreException(FailureKind.Device,
                    $"the ESP32 could not read flash at 0x{address:X} ({RomErrors.Describe(e.Error)})",
                    "check the flash size: the range must lie inside the flash", e);
            }
            catch (Exception e) when (e is RomCommandException or RomTimeoutException
                or RomMalformedResponseException)
            {
                if (attempt >= BlockAttempts)
                    throw new WsCoreException(FailureKind.Device,
                        $"reading flash at 0x{address:X} failed: {e.Message} ({attempt} tries)",
                        "check the cable, try the default baud rate, and run again", e);
                _logger.Warning("Reading 0x{Address:X}: {Reason}; asking again", address, e.Message);
                _loader.Connection.Drain(TimeSpan.FromMilliseconds(100));
            }
            catch (RomUnsupportedCommandException e)
            {
                throw new WsCoreException(FailureKind.Device, "the loader cannot read flash (READ_FLASH_SLOW is " +
                    "unknown to it)", "this chip's ROM loader has no read command wsctl knows", e);
            }
        }
    }

    /// <summary>Fails unless <paramref name="data"/> has the flash's MD5 of <paramref name="range"/>.</summary>
    private void Check(string name, FlashRange range, byte[] data)
    {
        if (range.Length == 0)
            return;
        var read = Convert.ToHexStringLower(MD5.HashData(data));
        var flash = _loader.Commands.FlashMd5(range);
        if (read == flash)
            return;
        throw new WsCoreException(FailureKind.VerificationFailed,
            $"what was read of {name} at {range} does not match the flash (md5 {read} read, {flash} in flash)",
            "bytes changed on the line: check the cable, try the default baud rate, and read again");
    }
}
