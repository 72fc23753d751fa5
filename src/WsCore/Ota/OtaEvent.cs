namespace WsCore.Ota;

/// <summary>What an update reports as it goes (<see cref="IOtaObserver"/>).</summary>
public enum OtaEventKind
{
    /// <summary>Connected: <see cref="OtaEvent.Hello"/> says what the device runs.</summary>
    Hello,
    /// <summary><c>begin</c> accepted: the key is the device's (<see cref="OtaEvent.Total"/> bytes to send).</summary>
    Authenticated,
    /// <summary><see cref="OtaEvent.Done"/> of <see cref="OtaEvent.Total"/> bytes written by the device.</summary>
    Progress,
    /// <summary>
    /// The image is written and checked; the device restarts into <see cref="OtaEvent.Detail"/> (a slot).
    /// </summary>
    Rebooting,
    /// <summary>
    /// Waiting for the device to come back (<see cref="OtaEvent.Detail"/>: the last attempt's error).
    /// </summary>
    Waiting,
    /// <summary>The device runs the new image and confirmed it (or is left unconfirmed, as asked).</summary>
    Confirmed,
    /// <summary>The device came back running the previous image (<see cref="OtaEvent.Detail"/>: the reason).</summary>
    RolledBack,
    /// <summary>The device sent an error (<see cref="OtaEvent.Code"/>, <see cref="OtaEvent.Detail"/>).</summary>
    Error,
}

/// <summary>One thing an update reports.</summary>
/// <param name="Kind">What happened.</param>
/// <param name="Target">The device, as the caller named it.</param>
public sealed record OtaEvent(OtaEventKind Kind, string Target)
{
    /// <summary>The device's hello, for <see cref="OtaEventKind.Hello"/> (and the one it came back with).</summary>
    public OtaHello? Hello { get; init; }

    /// <summary>Bytes written so far.</summary>
    public long Done { get; init; }

    /// <summary>Bytes of the image.</summary>
    public long Total { get; init; }

    /// <summary>A slot, a reason or an error's words, by kind.</summary>
    public string? Detail { get; init; }

    /// <summary>The device's error code, for <see cref="OtaEventKind.Error"/>.</summary>
    public string? Code { get; init; }

    /// <summary>The version concerned (confirmed, rolled back).</summary>
    public string? Version { get; init; }
}

/// <summary>
/// Receives an update's events. Called from the update's own tasks: with several devices at once, from several
/// threads, so implementations must be thread-safe.
/// </summary>
public interface IOtaObserver
{
    void OnEvent(OtaEvent e);
}
