namespace WsCore.Ota;

/// <summary>
/// The device's first message on <c>/ota</c> (docs/ota-protocol.md §1): the connection's nonce, and what it runs.
/// </summary>
/// <param name="Nonce">32 random bytes that authenticate one <c>begin</c> or one <c>confirm</c> on this
/// connection.</param>
/// <param name="Chip">The device's chip, as ESP-IDF names targets (<c>esp32c3</c>).</param>
/// <param name="Project">The running app's project name.</param>
/// <param name="Version">The running app's version.</param>
/// <param name="ElfSha256">The running app's ELF SHA-256, lowercase hex.</param>
/// <param name="RunningSlot">The slot the app runs from (<c>ota_0</c>, <c>ota_1</c>, <c>factory</c>).</param>
/// <param name="State"><c>valid</c>, or <c>pending_verify</c> when booted once after an update and not
/// confirmed.</param>
/// <param name="SlotSize">The bytes the slot an update goes to holds.</param>
/// <param name="LastUpdate">How the last update ended.</param>
public sealed record OtaHello(byte[] Nonce, string Chip, string Project, string Version, string ElfSha256,
    string RunningSlot, string State, long SlotSize, OtaLastUpdate LastUpdate)
{
    /// <summary>The state of an app booted once after an update and not confirmed yet.</summary>
    public const string PendingVerify = "pending_verify";

    /// <summary>Whether the running app waits for its confirmation.</summary>
    public bool IsPending => State == PendingVerify;

    /// <summary>Whether the device runs <paramref name="image"/> (by its ELF SHA-256).</summary>
    public bool Runs(OtaImage image) =>
        string.Equals(ElfSha256, image.ElfSha256Hex, StringComparison.OrdinalIgnoreCase);

    /// <summary>Never prints the nonce.</summary>
    public override string ToString() =>
        $"OtaHello {{ Chip = {Chip}, Project = {Project}, Version = {Version}, RunningSlot = {RunningSlot}, " +
        $"State = {State} }}";
}
