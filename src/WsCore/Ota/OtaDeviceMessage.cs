namespace WsCore.Ota;

/// <summary>The kinds of message a device sends on <c>/ota</c>.</summary>
public enum OtaMessageType
{
    /// <summary>At once on each connection: nonce and running app (<see cref="OtaHello"/>).</summary>
    Hello,
    /// <summary><c>begin</c> accepted: how many bytes may be unacknowledged.</summary>
    Ready,
    /// <summary>How many image bytes the device has written.</summary>
    Progress,
    /// <summary>The image is written, checked and set to boot; the device restarts.</summary>
    Rebooting,
    /// <summary>The running app accepted the confirmation.</summary>
    Confirmed,
    /// <summary>A refusal; the device closes with 1008 after it.</summary>
    Error,
}

/// <summary>One message from the device, parsed (<see cref="OtaMessages.Parse"/>).</summary>
/// <param name="Type">Which message.</param>
/// <param name="Hello">The hello, for <see cref="OtaMessageType.Hello"/>.</param>
/// <param name="Number">
/// <c>window</c> of ready, <c>written</c> of progress; 0 otherwise.
/// </param>
/// <param name="Text">
/// <c>slot</c> of rebooting, <c>version</c> of confirmed, <c>code</c> of error; null otherwise.
/// </param>
/// <param name="Message">An error's <c>message</c>, if it has one.</param>
public sealed record OtaDeviceMessage(OtaMessageType Type, OtaHello? Hello = null, long Number = 0,
    string? Text = null, string? Message = null);
