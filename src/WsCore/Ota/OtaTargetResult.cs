namespace WsCore.Ota;

/// <summary>How the update of one device of a fleet ended.</summary>
/// <param name="Target">The device, as the caller named it.</param>
/// <param name="Result">The update, when it succeeded.</param>
/// <param name="Error">Why it failed, when it did; null for a success or a skipped device.</param>
/// <param name="Elapsed">How long it took.</param>
/// <param name="Skipped">Not attempted: a canary failed first.</param>
public sealed record OtaTargetResult(string Target, OtaResult? Result, WsCoreException? Error, TimeSpan Elapsed,
    bool Skipped = false)
{
    /// <summary>Whether the device ended as asked (updated, already current, or pending as asked).</summary>
    public bool Ok => Result is not null;

    /// <summary>How it ended.</summary>
    public OtaOutcome Outcome => Skipped ? OtaOutcome.Skipped
        : Result?.Outcome ?? (Error is null ? OtaOutcome.Failed : OtaException.OutcomeOf(Error));
}
