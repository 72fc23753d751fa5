using WsCore.Ota;

namespace WsCore.Probe;

/// <summary>
/// What a device's <c>/ota</c> endpoint says about the app it runs (its wsctl-ota.1 hello), or why there is nothing
/// to say: a device without a key answers 403, a server without OTA 404, 400 or no subprotocol. Neither is a failure
/// of the probe.
/// </summary>
/// <param name="Hello">The hello, when the device offers OTA.</param>
/// <param name="Status">The HTTP status that refused the connection, when one did.</param>
/// <param name="Detail">Why there is no hello, in words; null with one.</param>
/// <param name="Elapsed">How long the look took.</param>
public sealed record ProbeOtaInfo(OtaHello? Hello, int? Status, string? Detail, TimeSpan Elapsed)
{
    /// <summary>Whether the device offers OTA and said what it runs.</summary>
    public bool Available => Hello is not null;
}
