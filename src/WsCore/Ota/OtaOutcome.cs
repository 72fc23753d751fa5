namespace WsCore.Ota;

/// <summary>How an update of one device ended (docs/ota-protocol.md, "What wsctl ota reports").</summary>
public enum OtaOutcome
{
    /// <summary>The device runs the new image and confirmed it.</summary>
    Updated,
    /// <summary>The device already ran the image, confirmed: nothing was sent.</summary>
    Current,
    /// <summary>
    /// The device runs the new image, not confirmed (as asked): it rolls back at its deadline unless something
    /// confirms it.
    /// </summary>
    Pending,
    /// <summary>The device came back running the previous image.</summary>
    RolledBack,
    /// <summary>The device did not come back, or not confirmed, within the time allowed.</summary>
    NotConfirmed,
    /// <summary>
    /// The device refused the connection (no key, busy, full) or the image; what boots did not change.
    /// </summary>
    Refused,
    /// <summary>The key is not the device's.</summary>
    AuthenticationFailed,
    /// <summary>Any other failure (the connection lost mid-upload, a read-back hash that differs…).</summary>
    Failed,
    /// <summary>Not attempted: a canary of the fleet failed first.</summary>
    Skipped,
}
