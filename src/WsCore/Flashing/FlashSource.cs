namespace WsCore.Flashing;

/// <summary>A file to write, as the caller read it: its bytes, where they go and where they came from.</summary>
/// <param name="Name">The region's name, e.g. "bootloader.bin" or "app".</param>
/// <param name="Offset">Where it goes in flash.</param>
/// <param name="Origin">Where the bytes came from, as the user named it (a path): what failures quote.</param>
/// <param name="Field">The request field that named it (Firmware or Images): what failures are attributed to.</param>
/// <param name="Data">The file's bytes.</param>
public sealed record FlashSource(string Name, uint Offset, string Origin, InputField Field, byte[] Data);
