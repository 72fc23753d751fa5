using Serilog;

namespace WsCore.Esp;

/// <summary>
/// Request/response exchange with a ROM loader over an <see cref="ISerialTransport"/>: SLIP framing, response
/// matching (up to 100 frames per request), status checks and "unsupported command" handling
/// (docs/esp32-rom-protocol.md §2 and §3). Throws the typed Rom*Exceptions, which the write path tells apart to
/// decide what to send again; <see cref="RomCommandRunner"/> turns them into <see cref="WsCoreException"/>.
/// </summary>
/// <remarks>One owner: not thread-safe.</remarks>
public sealed class RomConnection
{
    /// <summary>Frames read while looking for the answer to one request (esptool <c>command()</c>).</summary>
    public const int MaxFramesPerResponse = 100;

    private readonly ISerialTransport _transport;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly SlipDecoder _decoder = new();
    private readonly byte[] _buffer = new byte[8192];
    private int _bufferStart;
    private int _bufferEnd;
    // Ops that have had their answer: a later frame with one of them is a duplicate, not an answer to what waits.
    private readonly HashSet<byte> _answered = [];

    /// <summary>A connection over <paramref name="transport"/>.</summary>
    /// <param name="transport">The line to the loader.</param>
    /// <param name="logger">Where to log (default: nowhere).</param>
    /// <param name="time">Whose monotonic clock measures the timeouts (default: the system's).</param>
    public RomConnection(ISerialTransport transport, ILogger? logger = null, TimeProvider? time = null)
    {
        _transport = transport;
        _logger = logger ?? Serilog.Core.Logger.None;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The transport underneath.</summary>
    public ISerialTransport Transport => _transport;

    /// <summary>Bytes sent on the line so far, SLIP framing included.</summary>
    public long BytesSent { get; private set; }

    /// <summary>Frames and sends an unframed request packet.</summary>
    public void Send(ReadOnlySpan<byte> packet)
    {
        var frame = Slip.Encode(packet);
        _transport.Write(frame);
        BytesSent += frame.Length;
    }

    /// <summary>
    /// Sends a request and returns its checked response: the status is read after the payload the command's answer
    /// carries (<see cref="RomResponse.PayloadLength"/>).
    /// </summary>
    /// <exception cref="RomCommandException">The response carries a failing status.</exception>
    /// <exception cref="RomTimeoutException">No matching response in time.</exception>
    /// <exception cref="RomMalformedResponseException">A response whose status cannot be read.</exception>
    /// <exception cref="RomUnsupportedCommandException">The loader does not know the command.</exception>
    public RomResponse Command(RomCommand command, ReadOnlySpan<byte> packet, TimeSpan timeout)
    {
        Send(packet);
        var response = ReadResponse(command, timeout) ?? throw new RomTimeoutException(command, timeout);
        var payload = RomResponse.PayloadLength(command, response.Data.Length);
        if (!response.TryGetStatus(payload, out var failed, out var error))
            throw new RomMalformedResponseException(command);
        if (failed)
        {
            _logger.Debug(
                "{Command} answered status failed, error 0x{Error:X2} ({Name})",
                command,
                error,
                RomErrors.Describe(error));
            throw new RomCommandException(command, error);
        }
        // A success without the payload the command answers with (a frame cut short on the line).
        if (RomResponse.PayloadLength(command, response.Data.Length) == 0
            && RomResponse.PayloadLength(command, int.MaxValue) > 0)
            throw new RomMalformedResponseException(command);
        return response;
    }

    /// <summary>
    /// Reads frames until the answer to <paramref name="command"/> arrives; null on timeout. Frames for other ops
    /// are skipped (e.g. the 7 extra SYNC replies); an "invalid message" reply with another op means unsupported.
    /// </summary>
    public RomResponse? ReadResponse(RomCommand command, TimeSpan timeout)
    {
        var deadline = Deadline.After(timeout, _time);
        for (var frames = 0; frames < MaxFramesPerResponse;)
        {
            var frame = ReadFrame(deadline);
            if (frame is null)
                return null;
            frames++;
            if (!RomResponse.TryParse(frame, out var response))
            {
                _logger.Debug("Skipped a frame that is not a response ({Length} bytes)", frame.Length);
                continue;
            }
            if (response.Command == (byte)command)
            {
                _answered.Add(response.Command);
                return response;
            }
            // A late second answer to an earlier request (the ESP32 ROM can answer a refused GET_SECURITY_INFO
            // twice): stale, not a verdict on this one.
            if (_answered.Contains(response.Command))
            {
                _logger.Debug(
                    "Skipped a late answer to 0x{Op:X2} while waiting for {Command}", response.Command, command);
                continue;
            }
            if (response.IsUnsupportedAnswerTo(command))
            {
                // esptool: flush and give up on this command; the ROM may answer several times (l.555).
                Drain(TimeSpan.FromMilliseconds(200));
                throw new RomUnsupportedCommandException(command);
            }
            _logger.Verbose("Skipped a response to 0x{Op:X2} while waiting for {Command}", response.Command, command);
        }
        return null;
    }

    /// <summary>Reads one SLIP frame, or null when none is complete before <paramref name="deadline"/>.</summary>
    private byte[]? ReadFrame(Deadline deadline)
    {
        while (true)
        {
            if (_bufferStart < _bufferEnd)
            {
                var status = _decoder.Decode(
                    _buffer.AsSpan(_bufferStart, _bufferEnd - _bufferStart), out var consumed, out var frame);
                _bufferStart += consumed;
                if (status == SlipDecodeStatus.Frame)
                    return frame;
                if (status == SlipDecodeStatus.BadEscape)
                    _logger.Debug("Dropped a frame with an invalid SLIP escape");
                else if (status == SlipDecodeStatus.FrameTooLong)
                    _logger.Debug("Dropped a frame longer than {Max} bytes as noise (no loader sends one)",
                        _decoder.MaxFrameLength);
                continue;
            }
            var left = deadline.Left;
            if (left <= TimeSpan.Zero)
                return null;
            _bufferStart = 0;
            _bufferEnd = _transport.Read(_buffer, left);
        }
    }

    /// <summary>
    /// Reads and discards everything that arrives for <paramref name="duration"/>, and any partial frame.
    /// </summary>
    public void Drain(TimeSpan duration)
    {
        var deadline = Deadline.After(duration, _time);
        while (deadline.Left is { Ticks: > 0 } left)
            _transport.Read(_buffer, left);
        DiscardInput();
    }

    /// <summary>Forgets buffered input and partial frames.</summary>
    public void DiscardInput()
    {
        _transport.DiscardInput();
        _bufferStart = _bufferEnd = 0;
        _decoder.Reset();
    }
}
