using Wsctl.Cli;

namespace Wsctl.Device;

/// <summary>What every <c>device</c> subverb that connects was given, as given.</summary>
/// <param name="Loader">How to reach the ROM loader.</param>
/// <param name="FlashSize">The flash size (4MB), or detect.</param>
/// <param name="Json">JSON lines instead of text.</param>
public sealed record DeviceRun(LoaderSettings Loader, string? FlashSize, bool Json);
