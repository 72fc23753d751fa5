namespace WsCore;

/// <summary>What went wrong, in the terms a user acts on. The CLI maps each kind to one exit code.</summary>
public enum FailureKind
{
    /// <summary>An argument or input file is not acceptable; nothing was done.</summary>
    InvalidInput,
    /// <summary>Anything without a more precise kind.</summary>
    Other,
    /// <summary>A host name did not resolve (DNS or mDNS).</summary>
    NameNotResolved,
    /// <summary>TCP connection refused or host unreachable.</summary>
    ConnectionFailed,
    /// <summary>The server answered the opening handshake with something other than 101.</summary>
    HandshakeRejected,
    /// <summary>An operation did not finish within its time limit.</summary>
    Timeout,
    /// <summary>
    /// The connection ended other than as asked: abnormal close code, early close, or a protocol violation.
    /// </summary>
    ConnectionEnded,
    /// <summary>TLS negotiation or certificate validation failed.</summary>
    Tls,
    /// <summary>Some, not all, of several targets failed.</summary>
    Partial,
    /// <summary>A serial port or device error.</summary>
    Device,
    /// <summary>Written data did not verify (e.g. an MD5 mismatch after flashing).</summary>
    VerificationFailed,
    /// <summary>The user interrupted the operation.</summary>
    Interrupted,
    /// <summary>The device's firmware panicked (crash, abort, failed assertion) or the chip keeps rebooting.</summary>
    DeviceCrashed,
    /// <summary>The peer refused our credentials: a key that is not the device's (an OTA update's HMAC).</summary>
    AuthenticationFailed,
}

/// <summary>
/// The one error type WsCore throws at its API edge. It carries a <see cref="FailureKind"/> (which the CLI maps to
/// an exit code), the <see cref="InputField"/> at fault and the one the hint suggests changing where there are such,
/// and, where one exists, a hint the user can act on. Neither the message nor the hint names a front end's spelling of
/// a field (a command-line flag): the front end shows <see cref="Field"/> and <see cref="HintField"/> its own way.
/// </summary>
public class WsCoreException : Exception
{
    public WsCoreException(FailureKind kind, string message, string? hint = null, Exception? inner = null)
        : base(message, inner)
    {
        Kind = kind;
        Hint = hint;
    }

    /// <summary>What kind of failure this is.</summary>
    public FailureKind Kind { get; }

    /// <summary>What the user can do about it, or null.</summary>
    public string? Hint { get; }

    /// <summary>The input at fault, or null. The message does not name it: the front end does.</summary>
    public InputField? Field { get; init; }

    /// <summary>The input the hint suggests changing (forcing a refused image, another flash size), or null.</summary>
    public InputField? HintField { get; init; }

    /// <summary>An <see cref="FailureKind.InvalidInput"/> failure of <paramref name="field"/>.</summary>
    public static WsCoreException Invalid(InputField field, string message, string? hint = null) =>
        new(FailureKind.InvalidInput, message, hint) { Field = field };
}
