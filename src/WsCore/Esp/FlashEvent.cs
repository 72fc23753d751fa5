using WsCore.Flashing;

namespace WsCore.Esp;

/// <summary>A progress event. Carries no secret: region names and sizes only.</summary>
/// <param name="Kind">What happened.</param>
/// <param name="Region">The region concerned, or null.</param>
/// <param name="Done">Uncompressed bytes of the region written so far.</param>
/// <param name="Total">The region's size.</param>
/// <param name="Message">Detail: the chip name, the reason for a retry, the MD5.</param>
public readonly record struct FlashEvent(
    FlashEventKind Kind, FlashRegion? Region = null, long Done = 0, long Total = 0, string? Message = null);
