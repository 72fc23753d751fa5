using WsCore.Flashing;

namespace WsCore.Esp;

/// <summary>How one region is written: its pieces, in order.</summary>
public sealed record RegionWrite(FlashRegion Region, byte[] Image, IReadOnlyList<WritePiece> Pieces);
