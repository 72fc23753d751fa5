using System.Buffers.Binary;
using System.Text;

namespace WsCore.Nvs;

/// <summary>
/// Builds an NVS partition image (format version 2) the way ESP-IDF's nvs_partition_gen.py does, byte for byte:
/// pages filled in order, the page being filled ACTIVE and earlier ones FULL, unused pages all 0xFF, the last page
/// reserved (docs/esp32-rom-protocol.md §11; generator classes Page and NVS).
/// </summary>
/// <remarks>
/// Pure: no I/O. Not thread-safe. Compared with the generator's own output (esp-idf-nvs-partition-gen,
/// nvs_partition_gen.py at commits 0169b796a3e2 and 67113ed0719d; NvsGeneratorVectorTests) it matches byte for byte
/// for ASCII strings, primitives and blobs (one spanning pages too) in one namespace, across page overflow and
/// partition sizes. Two deliberate differences: non-ASCII
/// string lengths (a non-ASCII SSID reaches this; see <see cref="String(string, string)"/>), and selecting an earlier
/// namespace again (<see cref="DeviceSettings"/> never does): the generator keeps tagging entries with the newest
/// namespace's index (its write_entry uses namespace_count), this builder uses the selected one, as nvs_open on the
/// device would.
/// </remarks>
public sealed class NvsPartitionBuilder
{
    /// <summary>NVS page size.</summary>
    public const int PageSize = 4096;
    private const int EntrySize = 32;
    private const int FirstEntryOffset = 64;
    private const int MaxEntries = 126;
    private const uint PageActive = 0xFFFFFFFE;
    private const uint PageFull = 0xFFFFFFFC;
    private const byte Version2 = 0xFE;
    private const byte ChunkAny = 0xFF;
    // The generator checks a string against 4000 bytes (max_blob_size) but then needs header + data to stay below
    // entry 126 even on a fresh page (write_varlen_data's ">="), so 124 data entries are the most it can place;
    // a longer string ends in an unhandled PageFullError there. Same limit here, so every image this builder makes
    // is one the generator makes too.
    private const int MaxStringSize = (MaxEntries - 2) * EntrySize;

    private readonly List<byte[]> _pages = [];
    private readonly Dictionary<string, byte> _namespaces = new(StringComparer.Ordinal);
    private readonly int _size;
    private int _dataPagesLeft;
    private int _entry;
    private byte _namespaceIndex;

    /// <summary>
    /// Starts an image of <paramref name="partitionSize"/> bytes (a multiple of 4096, at least 0x3000).
    /// </summary>
    /// <exception cref="ArgumentException">The size is not usable for a read/write NVS.</exception>
    public NvsPartitionBuilder(int partitionSize)
    {
        if (partitionSize % PageSize != 0 || partitionSize < 3 * PageSize)
            throw new ArgumentException(
                $"NVS partition size 0x{partitionSize:X} must be a multiple of 0x1000 and at least 0x3000",
                nameof(partitionSize));
        _size = partitionSize;
        // The generator keeps the last page back as the reserved page (check_size).
        _dataPagesLeft = partitionSize / PageSize - 1;
        NewPage();
    }

    /// <summary>
    /// Selects <paramref name="name"/> for the entries that follow, writing its namespace entry the first time.
    /// </summary>
    public NvsPartitionBuilder Namespace(string name)
    {
        if (_namespaces.TryGetValue(name, out var index))
        {
            _namespaceIndex = index;
            return this;
        }
        index = checked((byte)(_namespaces.Count + 1));
        WritePrimitive(0, name, NvsItemType.U8, index);
        _namespaces[name] = index;
        _namespaceIndex = index;
        return this;
    }

    /// <summary>Adds an unsigned 8-bit value.</summary>
    public NvsPartitionBuilder U8(string key, byte value) => Primitive(key, NvsItemType.U8, value);

    /// <summary>Adds an unsigned 16-bit value.</summary>
    public NvsPartitionBuilder U16(string key, ushort value) => Primitive(key, NvsItemType.U16, value);

    /// <summary>Adds an unsigned 32-bit value.</summary>
    public NvsPartitionBuilder U32(string key, uint value) => Primitive(key, NvsItemType.U32, value);

    /// <summary>
    /// Adds a string: UTF-8 bytes plus a NUL, in the entries after its header (span 1 + ceil(len/32)). A string
    /// that does not fit in the rest of the page starts a new page.
    /// </summary>
    /// <remarks>
    /// The length field is the UTF-8 byte count including the NUL, which is what ESP-IDF's reader needs
    /// (Page::readItem checks the data CRC over that many bytes). The generator stores Python's
    /// <c>len(str)</c> instead, i.e. code points, so for non-ASCII text its length field, span and entry CRC
    /// differ from this builder's and the device cannot read its string (espressif/esp-idf#15441). For ASCII
    /// the two agree byte for byte.
    /// </remarks>
    /// <exception cref="ArgumentException">The value is longer than 3967 UTF-8 bytes.</exception>
    public NvsPartitionBuilder String(string key, string value)
    {
        var data = new byte[Encoding.UTF8.GetByteCount(value) + 1];
        Encoding.UTF8.GetBytes(value, data);
        if (data.Length > MaxStringSize)
            throw new ArgumentException(
                $"the value of '{key}' is {data.Length} bytes with its NUL; nvs_partition_gen.py places at most " +
                    $"{MaxStringSize}",
                nameof(value));
        var dataEntries = (data.Length + 31) / 32;
        // The generator starts a new page when header + data would reach the 126th entry (">=", write_varlen_data).
        if (_entry >= MaxEntries || _entry + dataEntries + 1 >= MaxEntries)
            NewPage();
        var header = NewEntry(_namespaceIndex, NvsItemType.String, (byte)(dataEntries + 1), key);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(24), (ushort)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(28), NvsCrc.Compute(data));
        SealEntry(header);
        Put(header, 1);
        Put(data, dataEntries);
        return this;
    }

    /// <summary>
    /// Adds a blob (format version 2's multi-page form): the data in chunks, each a <see cref="NvsItemType.BlobData"/>
    /// header (chunk index, size, data CRC) with its data entries, as much of the rest as fits on the page, then one
    /// <see cref="NvsItemType.BlobIndex"/> entry (total size, chunk count, first chunk index 0) after the last chunk.
    /// </summary>
    /// <remarks>
    /// As the generator's write_varlen_binary_data places them: a chunk takes the page's room after its header
    /// (<c>tailroom</c>), and a new page starts after a chunk when data is left or less than one entry's bytes of that
    /// room are free, so the index entry always follows its last chunk (ESP-IDF's Page::writeItem reads them the same
    /// way, nvs_page.cpp).
    /// </remarks>
    /// <exception cref="ArgumentException">The entries do not fit in the partition.</exception>
    public NvsPartitionBuilder Blob(string key, ReadOnlySpan<byte> data)
    {
        if (_entry >= MaxEntries)
            NewPage();
        var offset = 0;
        byte chunks = 0;
        while (true)
        {
            var tailroom = (MaxEntries - _entry - 1) * EntrySize;
            var chunkSize = Math.Min(tailroom, data.Length - offset);
            var chunk = data.Slice(offset, chunkSize);
            var dataEntries = (chunkSize + 31) / 32;
            var header = NewEntry(_namespaceIndex, NvsItemType.BlobData, (byte)(dataEntries + 1), key);
            header[3] = chunks; // the chunk index: the first chunk is 0 (the generator's chunk_start)
            BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(24), (ushort)chunkSize);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(28), NvsCrc.Compute(chunk));
            SealEntry(header);
            Put(header, 1);
            Put(chunk, dataEntries);
            chunks++;
            offset += chunkSize;
            if (offset < data.Length || tailroom - chunkSize < EntrySize)
                NewPage();
            if (offset == data.Length)
                break;
        }
        var index = NewEntry(_namespaceIndex, NvsItemType.BlobIndex, 1, key);
        BinaryPrimitives.WriteUInt32LittleEndian(index.AsSpan(24), (uint)data.Length);
        index[28] = chunks;
        index[29] = 0; // the first chunk's index
        SealEntry(index);
        Put(index, 1);
        return this;
    }

    /// <summary>The finished image: used pages, then 0xFF up to the partition size.</summary>
    public byte[] Build()
    {
        var image = new byte[_size];
        image.AsSpan().Fill(0xFF);
        for (var i = 0; i < _pages.Count; i++)
            _pages[i].CopyTo(image, i * PageSize);
        return image;
    }

    private NvsPartitionBuilder Primitive(string key, NvsItemType type, ulong value)
    {
        WritePrimitive(_namespaceIndex, key, type, value);
        return this;
    }

    private void WritePrimitive(byte ns, string key, NvsItemType type, ulong value)
    {
        if (_entry >= MaxEntries)
            NewPage();
        var entry = NewEntry(ns, type, 1, key);
        var width = (int)type & 0x0F; // 1, 2, 4 or 8 bytes; the rest of the data field stays 0xFF
        for (var i = 0; i < width; i++)
            entry[24 + i] = (byte)(value >> (8 * i));
        SealEntry(entry);
        Put(entry, 1);
    }

    private static byte[] NewEntry(byte ns, NvsItemType type, byte span, string key)
    {
        var keyBytes = Encoding.ASCII.GetBytes(key);
        if (keyBytes.Length is 0 or > 15)
            throw new ArgumentException($"NVS key '{key}' must be 1-15 characters", nameof(key));
        var entry = new byte[EntrySize];
        entry.AsSpan().Fill(0xFF);
        entry[0] = ns;
        entry[1] = (byte)type;
        entry[2] = span;
        entry[3] = ChunkAny;
        entry.AsSpan(8, 16).Clear();
        keyBytes.CopyTo(entry, 8);
        return entry;
    }

    /// <summary>Entry CRC over bytes 0..3 and 8..31 (set_crc_header).</summary>
    private static void SealEntry(byte[] entry)
    {
        Span<byte> crcData = stackalloc byte[28];
        entry.AsSpan(0, 4).CopyTo(crcData);
        entry.AsSpan(8, 24).CopyTo(crcData[4..]);
        BinaryPrimitives.WriteUInt32LittleEndian(entry.AsSpan(4), NvsCrc.Compute(crcData));
    }

    private void Put(ReadOnlySpan<byte> data, int entries)
    {
        var page = _pages[^1];
        data.CopyTo(page.AsSpan(FirstEntryOffset + EntrySize * _entry));
        for (var i = 0; i < entries; i++, _entry++)
            page[32 + _entry * 2 / 8] &= (byte)~(1 << (_entry * 2 % 8)); // state 11 (empty) -> 10 (written)
    }

    private void NewPage()
    {
        if (_dataPagesLeft == 0)
            throw new ArgumentException($"the NVS entries do not fit in a 0x{_size:X}-byte partition");
        _dataPagesLeft--;
        if (_pages.Count > 0 && BinaryPrimitives.ReadUInt32LittleEndian(_pages[^1]) == PageActive)
            BinaryPrimitives.WriteUInt32LittleEndian(_pages[^1], PageFull);
        var page = new byte[PageSize];
        page.AsSpan().Fill(0xFF);
        BinaryPrimitives.WriteUInt32LittleEndian(page, PageActive);
        BinaryPrimitives.WriteUInt32LittleEndian(page.AsSpan(4), (uint)_pages.Count);
        page[8] = Version2;
        BinaryPrimitives.WriteUInt32LittleEndian(page.AsSpan(28), NvsCrc.Compute(page.AsSpan(4, 24)));
        _pages.Add(page);
        _entry = 0;
    }
}
