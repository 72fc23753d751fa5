namespace WsCore.Ota;

/// <summary>The constants of the wsctl-ota.1 protocol (docs/ota-protocol.md).</summary>
public static class OtaProtocol
{
    /// <summary>
    /// The WebSocket subprotocol an update connection asks for and the device selects (RFC 6455 §1.9).
    /// </summary>
    public const string Subprotocol = "wsctl-ota.1";

    /// <summary>The path of the update endpoint, on the device's WebSocket port.</summary>
    public const string Path = "/ota";

    /// <summary>The largest binary frame the device takes.</summary>
    public const int MaxFrameBytes = 16 * 1024;

    /// <summary>Bytes of the nonce in <c>hello</c>.</summary>
    public const int NonceBytes = 32;
}
