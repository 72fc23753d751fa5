namespace WsCore.Ota;

/// <summary>A successful update of one device.</summary>
/// <param name="Outcome"><see cref="OtaOutcome.Updated"/>, <see cref="OtaOutcome.Current"/> or
/// <see cref="OtaOutcome.Pending"/>.</param>
/// <param name="Before">The device's hello before the update.</param>
/// <param name="After">Its hello once it came back (the same as <paramref name="Before"/> when nothing was
/// sent).</param>
/// <param name="BytesSent">Image bytes sent.</param>
/// <param name="Elapsed">From the first connection to the outcome.</param>
public sealed record OtaResult(OtaOutcome Outcome, OtaHello Before, OtaHello After, long BytesSent, TimeSpan Elapsed);
