namespace WsCore.Improv;

/// <summary>
/// Finds Improv packets in the bytes a device's serial console sends, where its log lines come too. Pure: no I/O;
/// one owner (not thread-safe).
/// </summary>
/// <remarks>
/// A packet starts at any "IMPROV" followed by version 1, not only at the start of a line (the SDK's reader needs
/// the line start; a device that logs without a final '\n' would hide its answer from it, not from this one).
/// Everything else is console text. A packet whose checksum is wrong is dropped, as the SDK drops it
/// (serial.ts, _handleIncomingPacket).
/// </remarks>
public sealed class ImprovReader
{
    private readonly byte[] _packet = new byte[ImprovCodec.PrefixLength + ImprovCodec.MaxData + 1];
    private readonly Queue<ImprovPacket> _ready = new();
    private int _held;

    /// <summary>Packets dropped for a wrong checksum so far.</summary>
    public int BadChecksums { get; private set; }

    /// <summary>
    /// Takes bytes read from the port; whole packets among them become available to <see cref="TryTake"/>.
    /// </summary>
    public void Feed(ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
            Feed(b);
    }

    /// <summary>The oldest packet found and not taken yet.</summary>
    public bool TryTake(out ImprovPacket packet) => _ready.TryDequeue(out packet);

    private void Feed(byte b)
    {
        if (_held <= 6 && !Fits(_held, b))
        {
            // Not a header (any more): the byte may start the next one.
            _held = 0;
            if (!Fits(0, b))
                return;
        }
        _packet[_held++] = b;
        if (_held < ImprovCodec.PrefixLength)
            return;
        var length = _packet[8];
        if (_held < ImprovCodec.PrefixLength + length + 1)
            return;
        var total = _held;
        _held = 0;
        if (ImprovCodec.Checksum(_packet.AsSpan(0, total - 1)) != _packet[total - 1])
        {
            BadChecksums++;
            return;
        }
        _ready.Enqueue(new ImprovPacket((ImprovPacketType)_packet[7],
            _packet.AsSpan(ImprovCodec.PrefixLength, length).ToArray()));
    }

    private static bool Fits(int position, byte b) => position < 6 ? b == ImprovCodec.Header[position]
        : position != 6 || b == ImprovCodec.Version;
}
