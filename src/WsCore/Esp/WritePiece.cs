namespace WsCore.Esp;

/// <summary>
/// One FLASH_BEGIN + data blocks sequence: part of a region (or all of it), compressed or plain.
/// </summary>
/// <param name="Offset">Flash address of the piece's first byte (sector aligned unless the region is not).</param>
/// <param name="Data">The piece's bytes as they must end up in flash.</param>
/// <param name="EraseSize">Bytes FLASH_BEGIN erases from <paramref name="Offset"/> (whole sectors are erased).</param>
/// <param name="Compressed">The zlib stream to send with FLASH_DEFL_*, or null for plain FLASH_DATA.</param>
/// <param name="SentLength">Plain pieces: bytes of <paramref name="Data"/> sent; the rest is 0xFF, which the
/// erase already leaves there.</param>
public sealed record WritePiece(uint Offset, byte[] Data, uint EraseSize, byte[]? Compressed, int SentLength)
{
    public bool IsCompressed => Compressed is not null;
}
