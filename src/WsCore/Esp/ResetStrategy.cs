namespace WsCore.Esp;

/// <summary>
/// One way of driving DTR/RTS to reset the chip (esptool <c>reset.py</c>; docs/esp32-rom-protocol.md §5).
/// </summary>
public abstract class ResetStrategy
{
    /// <summary>A short name for logs.</summary>
    public abstract string Name { get; }

    /// <summary>Runs the sequence on <paramref name="transport"/>.</summary>
    public abstract void Reset(ISerialTransport transport);

    /// <summary>Waits, unless the transport has no lines to wait for.</summary>
    protected static void Pause(ISerialTransport transport, int milliseconds)
    {
        if (transport.CanControlLines)
            Thread.Sleep(milliseconds);
    }
}
