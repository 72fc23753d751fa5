namespace WsCore.Ota;

/// <summary>
/// An update that failed, with its <see cref="OtaOutcome"/> beside the <see cref="FailureKind"/> (rolled back:
/// VerificationFailed; not confirmed: Timeout; refused: HandshakeRejected or InvalidInput; a wrong key:
/// AuthenticationFailed).
/// </summary>
public sealed class OtaException : WsCoreException
{
    public OtaException(OtaOutcome outcome, FailureKind kind, string message, string? hint = null,
        Exception? inner = null)
        : base(kind, message, hint, inner)
    {
        Outcome = outcome;
    }

    /// <summary>How the update ended.</summary>
    public OtaOutcome Outcome { get; }

    /// <summary>
    /// Why the device rolled back (<c>not_confirmed</c>, <c>panic</c>…), for <see cref="OtaOutcome.RolledBack"/>.
    /// </summary>
    public string? Reason { get; init; }

    /// <summary>The device's error code (<c>wrong_chip</c>, <c>auth_failed</c>…), when it sent one.</summary>
    public string? DeviceCode { get; init; }

    /// <summary>
    /// The outcome of any failure of an update: an <see cref="OtaException"/>'s own, else by its kind.
    /// </summary>
    public static OtaOutcome OutcomeOf(WsCoreException error) => error switch
    {
        OtaException ota => ota.Outcome,
        { Kind: FailureKind.HandshakeRejected or FailureKind.InvalidInput } => OtaOutcome.Refused,
        { Kind: FailureKind.AuthenticationFailed } => OtaOutcome.AuthenticationFailed,
        _ => OtaOutcome.Failed,
    };
}
