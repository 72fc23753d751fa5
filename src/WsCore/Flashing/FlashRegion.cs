namespace WsCore.Flashing;

/// <summary>One contiguous piece of flash to write.</summary>
/// <param name="Name">What it is ("bootloader", "app", "nvs", a file name).</param>
/// <param name="Offset">Flash address.</param>
/// <param name="Data">The bytes, exactly as they must end up in flash.</param>
public sealed record FlashRegion(string Name, uint Offset, byte[] Data)
{
    /// <summary>
    /// Whether the bytes are derived from a secret (the NVS partition holds the Wi-Fi password): its MD5 is then
    /// shown as "(secret)", since the image is fully determined by a few guessable inputs and its hash would let
    /// anyone holding a log test password guesses offline.
    /// </summary>
    public bool Secret { get; init; }

    /// <summary>
    /// Whether the bytes are an ESP image (the bootloader or an app) that must be well formed and built for the
    /// chip it is written to.
    /// </summary>
    public bool IsImage { get; init; }

    /// <summary>The MD5 as a front end may show it: the hex digest, or "(secret)".</summary>
    public string ShownMd5(string md5) => Secret ? "(secret)" : md5;

    /// <summary>One past the last byte.</summary>
    public long End => (long)Offset + Data.Length;

    /// <summary>
    /// The bytes as they are sent and as the ROM's MD5 covers them: padded with 0xFF to a multiple of 4 (esptool
    /// <c>pad_to(image, 4)</c>).
    /// </summary>
    public static byte[] PadTo4(byte[] data)
    {
        if (data.Length % 4 == 0)
            return data;
        var padded = new byte[(data.Length + 3) & ~3];
        padded.AsSpan().Fill(0xFF);
        data.CopyTo(padded, 0);
        return padded;
    }
}
