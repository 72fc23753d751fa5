using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using WsCore.Chips;
using WsCore.Esp;
using WsCore.Flashing;

namespace WsCore.Tests.Esp;

/// <summary>
/// Builds what an ESP-IDF build directory holds, from scratch: a valid ESP32 bootloader image (two segments,
/// checksum, appended SHA-256), a binary partition table, an app, and flasher_args.json. Given
/// <c>partitions</c> with an otadata partition, it holds what ESP-IDF adds for an OTA layout too:
/// <c>ota_data_initial.bin</c> (0x2000 bytes of 0xFF) listed in flash_files and as "otadata", and the app at the
/// first app partition (factory, else ota_0).
/// </summary>
public sealed class FirmwareFixture : IDisposable
{
    public FirmwareFixture(
        int appSize = 48 * 1024,
        uint nvsOffset = 0x9000,
        uint nvsSize = 0x6000,
        string afterSpelling = "hard_reset",
        ChipDescriptor? chip = null,
        string flashSize = "4MB",
        IReadOnlyList<Partition>? partitions = null)
    {
        chip ??= KnownChips.Esp32;
        var bootloaderOffset = $"0x{chip.BootloaderOffset:X}";
        Directory.CreateDirectory(Path.Combine(Dir, "bootloader"));
        Directory.CreateDirectory(Path.Combine(Dir, "partition_table"));
        Bootloader = BuildImage(hashAppended: true, chipId: chip.ImageChipId);
        PartitionTable = partitions is null ? BuildPartitionTable(nvsOffset, nvsSize) : BuildPartitionTable(partitions);
        App = BuildApp(appSize, chip.ImageChipId);
        File.WriteAllBytes(Path.Combine(Dir, "bootloader", "bootloader.bin"), Bootloader);
        File.WriteAllBytes(Path.Combine(Dir, "partition_table", "partition-table.bin"), PartitionTable);
        File.WriteAllBytes(Path.Combine(Dir, "app.bin"), App);
        var apps = partitions?.Where(p => p.Type == Flashing.PartitionTable.AppType).OrderBy(p => p.Subtype).ToList();
        var appOffset = $"0x{(apps is { Count: > 0 } ? apps[0].Offset : 0x10000u):X}";
        var otadata = partitions?.FirstOrDefault(p => p.Type == Flashing.PartitionTable.DataType
            && p.Subtype == Flashing.PartitionTable.OtaDataSubtype);
        var otaFile = "";
        var otaEntry = "";
        if (otadata is not null)
        {
            OtaDataInitial = new byte[0x2000];
            OtaDataInitial.AsSpan().Fill(0xFF);
            File.WriteAllBytes(Path.Combine(Dir, "ota_data_initial.bin"), OtaDataInitial);
            otaFile = $",\n    \"0x{otadata.Offset:x}\": \"ota_data_initial.bin\"";
            otaEntry = $"\n  \"otadata\": {{\"offset\": \"0x{otadata.Offset:x}\", \"file\": " +
                "\"ota_data_initial.bin\", \"encrypted\": \"false\"},";
        }
        // Pieces of the JSON below, to keep its lines short.
        const string plain = "\"encrypted\": \"false\"";
        const string tableFile = "\"partition_table/partition-table.bin\"";
        const string resetAndStub = "\"before\": \"default_reset\", \"stub\": true";
        File.WriteAllText(Path.Combine(Dir, "flasher_args.json"), $$"""
            {
              "write_flash_args": ["--flash_mode", "dio", "--flash_size", "{{flashSize}}", "--flash_freq", "40m"],
              "flash_settings": {"flash_mode": "dio", "flash_size": "{{flashSize}}", "flash_freq": "40m"},
              "flash_files": {
                "{{bootloaderOffset}}": "bootloader/bootloader.bin",
                "{{appOffset}}": "app.bin",
                "0x8000": "partition_table/partition-table.bin"{{otaFile}}
              },
              "bootloader": {"offset": "{{bootloaderOffset}}", "file": "bootloader/bootloader.bin", {{plain}}},
              "app": {"offset": "{{appOffset}}", "file": "app.bin", "encrypted": "false"},
              "partition-table": {"offset": "0x8000", "file": {{tableFile}}, {{plain}}},{{otaEntry}}
              "extra_esptool_args": {"after": "{{afterSpelling}}", {{resetAndStub}}, "chip": "{{chip.Id}}"}
            }
            """);
    }

    public string Dir { get; } = Directory.CreateTempSubdirectory("wsctl-fw-").FullName;
    public byte[] Bootloader { get; }
    public byte[] PartitionTable { get; }
    public byte[] App { get; }
    /// <summary>ota_data_initial.bin when the partitions have an otadata partition, else null.</summary>
    public byte[]? OtaDataInitial { get; }

    public void Dispose() => Directory.Delete(Dir, recursive: true);

    /// <summary>A valid ESP32 image: header (DIO, 1MB, 40m), 2 segments, padding, checksum, optional SHA-256.</summary>
    public static byte[] BuildImage(bool hashAppended, byte mode = 2, byte sizeFreq = 0x00, ushort chipId = 0)
    {
        var image = new List<byte> { 0xE9, 2, mode, sizeFreq };
        image.AddRange(BitConverter.GetBytes(0x40080400u));
        // extended header: wp_pin, 3 drive bytes, chip_id u16, min_rev, min_rev_full u16, max_rev_full u16, 4 reserved,
        // hash_appended
        image.AddRange([0xEE, 0, 0, 0, (byte)chipId, (byte)(chipId >> 8), 0, 0, 0, 0xFF, 0xFF, 0, 0, 0, 0,
            (byte)(hashAppended ? 1 : 0)]);
        byte checksum = 0xEF;
        foreach (var (addr, len) in new[] { (0x3FFF0000u, 20), (0x40078000u, 301) })
        {
            image.AddRange(BitConverter.GetBytes(addr));
            image.AddRange(BitConverter.GetBytes((uint)len));
            for (var i = 0; i < len; i++)
            {
                var b = (byte)(i * 7 + len);
                if (i % 50 == 0)
                    b = 0xC0; // bytes SLIP must escape
                image.Add(b);
                checksum ^= b;
            }
        }
        while (image.Count % 16 != 15)
            image.Add(0);
        image.Add(checksum);
        if (hashAppended)
            image.AddRange(SHA256.HashData(image.ToArray()));
        return image.ToArray();
    }

    public static byte[] BuildPartitionTable(uint nvsOffset, uint nvsSize) =>
        BuildPartitionTable([
            new Partition("nvs", 1, 2, nvsOffset, nvsSize),
            new Partition("phy_init", 1, 1, 0xF000, 0x1000),
            new Partition("factory", 0, 0, 0x10000, 0x100000),
        ]);

    /// <summary>
    /// The binary table gen_esp32part.py makes from <paramref name="partitions"/> (without its MD5 entry).
    /// </summary>
    public static byte[] BuildPartitionTable(IReadOnlyList<Partition> partitions)
    {
        var table = new byte[0xC00];
        table.AsSpan().Fill(0xFF);
        for (var i = 0; i < partitions.Count; i++)
        {
            var p = partitions[i];
            var e = table.AsSpan(i * 32, 32);
            e[0] = 0xAA; e[1] = 0x50; e[2] = p.Type; e[3] = p.Subtype;
            BinaryPrimitives.WriteUInt32LittleEndian(e[4..], p.Offset);
            BinaryPrimitives.WriteUInt32LittleEndian(e[8..], p.Size);
            e.Slice(12, 16).Clear();
            Encoding.ASCII.GetBytes(p.Label).CopyTo(e[12..]);
            BinaryPrimitives.WriteUInt32LittleEndian(e[28..], 0);
        }
        return table;
    }

    /// <summary>
    /// A well-formed app image of exactly <paramref name="size"/> bytes (at least 48) that compresses somewhat, like
    /// real code: header, one segment of text-ish runs mixed with noise, padding, checksum, and an appended SHA-256,
    /// for the chip with image id <paramref name="chipId"/> (0: ESP32).
    /// </summary>
    public static byte[] BuildApp(int size, ushort chipId = 0)
    {
        const int overhead = 24 + 8 + 1 + 32; // headers, segment header, checksum, SHA-256
        // The segment's length puts the checksum byte at an offset ≡ 15 (mod 16) with no padding needed.
        var segment = size - overhead;
        var app = new byte[size];
        app[0] = 0xE9;
        app[1] = 1;
        app[2] = 2; // DIO
        BitConverter.TryWriteBytes(app.AsSpan(4), 0x400D0000u);
        app[8] = 0xEE;
        BitConverter.TryWriteBytes(app.AsSpan(12), chipId);
        BitConverter.TryWriteBytes(app.AsSpan(17), (ushort)0xFFFF); // max_chip_rev_full
        app[23] = 1; // hash appended
        BitConverter.TryWriteBytes(app.AsSpan(24), 0x3F400020u);
        BitConverter.TryWriteBytes(app.AsSpan(28), (uint)segment);
        var random = new Random(size);
        byte checksum = 0xEF;
        for (var i = 0; i < segment; i++)
        {
            var b = i % 64 < 40 ? (byte)"wsctl esp32 websocket server "[i % 29] : (byte)random.Next(256);
            app[32 + i] = b;
            checksum ^= b;
        }
        if ((32 + segment) % 16 != 15)
            throw new ArgumentException(
                $"an app of {size} bytes cannot be built without padding: use a size ≡ 0 (mod 16)", nameof(size));
        app[32 + segment] = checksum;
        SHA256.HashData(app.AsSpan(0, size - 32)).CopyTo(app.AsSpan(size - 32));
        return app;
    }

    /// <summary>Flash as it must be after writing <paramref name="regions"/> onto an erased (0xFF) chip.</summary>
    public static byte[] ExpectedFlash(IEnumerable<(uint Offset, byte[] Data)> regions)
    {
        var flash = new byte[RomSimulator.FlashSize];
        flash.AsSpan().Fill(0xFF);
        foreach (var (offset, data) in regions)
            data.CopyTo(flash, offset);
        return flash;
    }
}

/// <summary>What the flash must hold after a run onto a chip that already held something.</summary>
public static class FlashExpectations
{
    /// <summary>A chip that holds an old build and data: every byte is something, none of them 0xFF.</summary>
    public static byte[] UsedChip(int seed)
    {
        var flash = new byte[RomSimulator.FlashSize];
        new Random(seed).NextBytes(flash);
        return flash;
    }

    /// <summary>The flash after writing <paramref name="regions"/> onto <paramref name="before"/>: each region's
    /// sectors erased, then its bytes; nothing else changed.</summary>
    public static byte[] ExpectedOnto(byte[] before, IEnumerable<FlashRegion> regions)
    {
        var expected = before.ToArray();
        foreach (var region in regions)
        {
            var erased = WritePlanner.Erased(region.Offset, FlashRegion.PadTo4(region.Data).Length);
            expected.AsSpan((int)erased.Start, (int)erased.Length).Fill(0xFF);
            region.Data.CopyTo(expected, region.Offset);
        }
        return expected;
    }

    public static void AssertSameFlash(byte[] expected, byte[] actual)
    {
        var same = actual.AsSpan().CommonPrefixLength(expected);
        if (same != expected.Length)
            Assert.Fail($"flash differs from 0x{same:X}: expected {expected[same]:X2}, found {actual[same]:X2}");
    }
}
