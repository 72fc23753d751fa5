using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using WsCore.Nvs;
using WsCore.Tests.Support;
using Wsctl.Cli;

namespace WsCore.Tests.Esp;

/// <summary>
/// NVS images compared with ESP-IDF's own NVS partition generator: byte-identical for the same entries, order and
/// size (docs/esp32-rom-protocol.md §11).
/// </summary>
/// <remarks>
/// How the expected bytes were made (the generator is not installable here, so it was run from its source; its code
/// is not in this repository):
/// <list type="bullet">
/// <item>Generator: espressif/esp-idf-nvs-partition-gen, esp_idf_nvs_partition_gen/nvs_partition_gen.py at commit
/// 0169b796a3e27c1c8ba4353a96569b6a190e0695 (47,415 characters, SHA-256 of the file
/// e934fb1a7058750c659aeb4b2a9f263f1d1a13283d495c0aad4980d7f5c2105e), run with Debian's /usr/bin/python3 3.11.2 and
/// python3-cryptography 38.0.4.</item>
/// <item>Command: <c>python3 nvs_partition_gen.py generate in.csv out.bin SIZE</c> (format version 2, the
/// default).</item>
/// <item>CSV (written with Python's csv.writer, minimal quoting), for the device vectors:
/// <code>
/// key,type,encoding,value
/// wsctl,namespace,,
/// ssid,data,string,SSID
/// pass,data,string,PASSWORD
/// hostname,data,string,HOSTNAME
/// port,data,u16,PORT
/// max_clients,data,u8,MAX_CLIENTS
/// </code></item>
/// <item>Each expected image is given as the hex of its bytes up to the last non-0xFF byte (every byte after it is
/// 0xFF up to SIZE) plus the SHA-256 of the whole SIZE-byte file; the CRC fields (page header at 28, each entry at
/// 4..7 and the string CRCs at 28..31) are inside the hex.</item>
/// </list>
/// The same comparison, run over more sets through <c>wsctl flash ... --nvs-out</c> with <c>cmp -l</c> (typical values,
/// empty password, 63-character password, 64-hex-digit PSK, 31- and 32-byte SSIDs, spaces/quotes/commas/'#',
/// 63-character hostname, ports 1 and 65535, max clients 1 and 16, sizes 0x3000/0x4000/0x6000/0x10000), was identical
/// for every ASCII set (the 63-character host name and 16 clients were taken then; wsctl flash now refuses more than
/// the device holds, 32 characters and 8 clients, and the psk64 vector is checked through the encoder alone). Non-ASCII
/// SSIDs differ on purpose: see <see cref="NonAsciiSsid_DiffersFromGenerator_OnlyInLengthAndEntryCrc"/>.
/// <para>The two vectors with the <c>echo</c> (u8) and <c>counter_ms</c> (u32) keys were made later the same way with
/// the generator at commit 67113ed0719dd3bdda42d2de6c2c0e3d47ec4a4e of that repository (version 0.2.0), run with the
/// same Python and python3-cryptography, which gives the four vectors above byte for byte too; their CSV is the device
/// CSV plus the rows given with each.</para>
/// <para>The vectors with the OTA key (a blob, CSV encoding <c>hex2bin</c>) and <c>ota_confirm_s</c> (u16), and the
/// builder's blob vectors, were made the same way again with that commit's nvs_partition_gen.py (51,986 characters,
/// SHA-256 aabe6411821bdd1626f8e2fd551b91bbdd0392d99ef8a91b79f2a6ef5cecccae), Debian's /usr/bin/python3 3.11.2 and
/// python3-cryptography 38.0.4.</para>
/// </remarks>
public class NvsGeneratorVectorTests
{
    public sealed record Vector(string Name, DeviceSettings Settings, int Size, string PrefixHex, string Sha256Hex)
    {
        public override string ToString() => Name;
    }

    // SSID "MyNet", password "password123", hostname esp32ws, port 8080, max_clients 5; SIZE 0x6000.
    private static readonly Vector Typical = new(
        "typical",
        new DeviceSettings("MyNet", "password123", "esp32ws", 8080, 5),
        0x6000,
        """
        FEFFFFFF00000000FEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF842DBAB9
        AAAAFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
        000101FF53A1E29F777363746C000000000000000000000001FFFFFFFFFFFFFF
        012102FF240FB743737369640000000000000000000000000600FFFFC4FE7FC6
        4D794E657400FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
        012102FF156D2F19706173730000000000000000000000000C00FFFFB0E49FF4
        70617373776F726431323300FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
        012102FF35AF50D9686F73746E616D6500000000000000000800FFFFCB305958
        6573703332777300FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
        010201FF0CD32BBF706F7274000000000000000000000000901FFFFFFFFFFFFF
        010101FFE924F80E6D61785F636C69656E7473000000000005
        """,
        "39F431BD789E3DA23194185C6E1783E73E93EFEFB335FDB7BA195952681D9B50");

    // Open network: SSID "CoffeeShop", empty password (the CSV value is empty; the generator stores "\0", length 1);
    // esp32ws, 8080, 5; SIZE 0x6000.
    private static readonly Vector Open = new(
        "open",
        new DeviceSettings("CoffeeShop", "", "esp32ws", 8080, 5),
        0x6000,
        """
        FEFFFFFF00000000FEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF842DBAB9
        AAAAFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
        000101FF53A1E29F777363746C000000000000000000000001FFFFFFFFFFFFFF
        012102FFAFFB2ADA737369640000000000000000000000000B00FFFF49EC66C5
        436F6666656553686F7000FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
        012102FF11CE01A3706173730000000000000000000000000100FFFFFFFFFFFF
        00FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
        012102FF35AF50D9686F73746E616D6500000000000000000800FFFFCB305958
        6573703332777300FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
        010201FF0CD32BBF706F7274000000000000000000000000901FFFFFFFFFFFFF
        010101FFE924F80E6D61785F636C69656E7473000000000005
        """,
        "B25A59D7391D123E0A7DA40595285FC0B1895E100C091DE86AB4651A3A8A47F9");

    // SSID "Office WLAN", a 64-hex-digit PSK, a 63-character hostname "h" + 61 "o" + "x", port 65535,
    // max_clients 16; SIZE 0x4000.
    private static readonly Vector PskLongHostname = new(
        "psk64",
        new DeviceSettings(
            "Office WLAN",
            "0123456789abcdefABCDEF0123456789abcdef0123456789ABCDEF0123456789",
            "h" + new string('o', 61) + "x",
            65535,
            16),
        0x4000,
        """
        FEFFFFFF00000000FEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF842DBAB9
        AAAAAAFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
        000101FF53A1E29F777363746C000000000000000000000001FFFFFFFFFFFFFF
        012102FF5E6B0D23737369640000000000000000000000000C00FFFFC37845ED
        4F666669636520574C414E00FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
        012104FFEDDEDA87706173730000000000000000000000004100FFFF82CF0282
        3031323334353637383961626364656641424344454630313233343536373839
        6162636465663031323334353637383941424344454630313233343536373839
        00FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
        012103FF297264FD686F73746E616D6500000000000000004000FFFFF7BE325A
        686F6F6F6F6F6F6F6F6F6F6F6F6F6F6F6F6F6F6F6F6F6F6F6F6F6F6F6F6F6F6F
        6F6F6F6F6F6F6F6F6F6F6F6F6F6F6F6F6F6F6F6F6F6F6F6F6F6F6F6F6F6F7800
        010201FF0CC740B5706F7274000000000000000000000000FFFFFFFFFFFFFFFF
        010101FFA61BA33A6D61785F636C69656E7473000000000010
        """,
        "310C4F64217B6D94BD3C0E70CDC069FFB68AE0E24F90EDF6FB76EA0514BF04F5");

    // A 32-byte SSID and a 63-character password with spaces, quotes and commas (CSV rows:
    // ssid,data,string,"My ""Home"", Net 2.4 GHz (guest)!!" and
    // pass,data,string," a, ""quoted"" pass phrase with spaces, commas & quotes: 63 chars"), hostname dev-1, port 1,
    // max_clients 1; SIZE 0x3000 (the smallest read/write NVS).
    private static readonly Vector Punctuation = new(
        "punctuation",
        new DeviceSettings("My \"Home\", Net 2.4 GHz (guest)!!",
            " a, \"quoted\" pass phrase with spaces, commas & quotes: 63 chars", "dev-1", 1, 1),
        0x3000,
        """
        FEFFFFFF00000000FEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF842DBAB9
        AAAAEAFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
        000101FF53A1E29F777363746C000000000000000000000001FFFFFFFFFFFFFF
        012103FF8C4588CF737369640000000000000000000000002100FFFFA8FAA50E
        4D792022486F6D65222C204E657420322E342047487A20286775657374292121
        00FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
        012103FFBA385AA3706173730000000000000000000000004000FFFF63859A03
        20612C202271756F746564222070617373207068726173652077697468207370
        616365732C20636F6D6D617320262071756F7465733A20363320636861727300
        012102FF0A5A045C686F73746E616D6500000000000000000600FFFFCF67D485
        6465762D3100FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
        010201FF448B97CD706F72740000000000000000000000000100FFFFFFFFFFFF
        010101FF132AB28A6D61785F636C69656E7473000000000001
        """,
        "F077C6A0116ED99D381A9F70816A1B6B95DE1A640122B0C0C94ED7FCE4942C65");

    // The typical settings with echo on and no counter: CSV rows echo,data,u8,1 and counter_ms,data,u32,0 after
    // max_clients; SIZE 0x6000.
    private static readonly Vector EchoCounterOff = new(
        "echo-counter-off",
        new DeviceSettings("MyNet", "password123", "esp32ws", 8080, 5, Echo: true, CounterInterval: TimeSpan.Zero),
        0x6000,
        """
        FEFFFFFF00000000FEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF842DBAB9
        AAAAEAFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
        000101FF53A1E29F777363746C000000000000000000000001FFFFFFFFFFFFFF
        012102FF240FB743737369640000000000000000000000000600FFFFC4FE7FC6
        4D794E657400FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
        012102FF156D2F19706173730000000000000000000000000C00FFFFB0E49FF4
        70617373776F726431323300FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
        012102FF35AF50D9686F73746E616D6500000000000000000800FFFFCB305958
        6573703332777300FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
        010201FF0CD32BBF706F7274000000000000000000000000901FFFFFFFFFFFFF
        010101FFE924F80E6D61785F636C69656E7473000000000005FFFFFFFFFFFFFF
        010101FFFFB674506563686F00000000000000000000000001FFFFFFFFFFFFFF
        010401FF94A090E8636F756E7465725F6D7300000000000000000000
        """,
        "106D2E5A56A7FF5EE47EB35B66E3FF808D8D75BD2DCC8499F7DFDDDE2C1362D3");

    // SSID "Lab", password123, bench-1, 8080, 8 clients, echo off, the longest counter interval: CSV rows
    // echo,data,u8,0 and counter_ms,data,u32,3600000 after max_clients; SIZE 0x3000.
    private static readonly Vector EchoOffCounterMax = new(
        "echo-off-counter-max",
        new DeviceSettings("Lab", "password123", "bench-1", 8080, 8, Echo: false,
            CounterInterval: TimeSpan.FromMilliseconds(3_600_000)),
        0x3000,
        """
        FEFFFFFF00000000FEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF842DBAB9
        AAAAEAFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
        000101FF53A1E29F777363746C000000000000000000000001FFFFFFFFFFFFFF
        012102FF2F333355737369640000000000000000000000000400FFFF48B0E330
        4C616200FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
        012102FF156D2F19706173730000000000000000000000000C00FFFFB0E49FF4
        70617373776F726431323300FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
        012102FF8F4A6DA1686F73746E616D6500000000000000000800FFFF21558950
        62656E63682D3100FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
        010201FF0CD32BBF706F7274000000000000000000000000901FFFFFFFFFFFFF
        010101FF3831FD956D61785F636C69656E7473000000000008FFFFFFFFFFFFFF
        010101FF61B6DE9C6563686F00000000000000000000000000FFFFFFFFFFFFFF
        010401FFB41C173A636F756E7465725F6D7300000000000080EE3600
        """,
        "5D7A6DCA588367B087CC773D32F63D4F5C85D345A2F1B51196675DB9E5712E3C");

    // The typical settings with an OTA key, the bytes 00..1F: CSV row ota_key,data,hex2bin,000102…1f after
    // max_clients; SIZE 0x6000. A blob in format version 2: a BLOB_DATA header (type 0x42, chunk index 0, size 32,
    // the data's CRC), its data entry, then the BLOB_IDX entry (type 0x48, size 32, 1 chunk, starting at index 0).
    private static readonly Vector OtaKey = new(
        "ota-key",
        new DeviceSettings("MyNet", "password123", "esp32ws", 8080, 5, OtaKey: [.. Enumerable.Range(0, 32)
            .Select(i => (byte)i)]),
        0x6000,
        """
        FEFFFFFF00000000FEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF842DBAB9
        AAAAAAFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
        000101FF53A1E29F777363746C000000000000000000000001FFFFFFFFFFFFFF
        012102FF240FB743737369640000000000000000000000000600FFFFC4FE7FC6
        4D794E657400FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
        012102FF156D2F19706173730000000000000000000000000C00FFFFB0E49FF4
        70617373776F726431323300FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
        012102FF35AF50D9686F73746E616D6500000000000000000800FFFFCB305958
        6573703332777300FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
        010201FF0CD32BBF706F7274000000000000000000000000901FFFFFFFFFFFFF
        010101FFE924F80E6D61785F636C69656E7473000000000005FFFFFFFFFFFFFF
        01420200156C95AC6F74615F6B65790000000000000000002000FFFFD8D4D377
        000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F
        014801FF01AA13786F74615F6B6579000000000000000000200000000100
        """,
        "98DCFF8E002FB31A34A662F9480229DB3D6E294DC790670902714E7266A4B6D9");

    // The echo-off-counter-max settings with an OTA key (SHA-256 of "wsctl ota") and a 300 s confirmation deadline:
    // CSV rows ota_key,data,hex2bin,4d19a6…bcb9 and ota_confirm_s,data,u16,300 after counter_ms; SIZE 0x3000.
    private static readonly Vector OtaKeyConfirm = new(
        "ota-key-confirm",
        new DeviceSettings("Lab", "password123", "bench-1", 8080, 8, Echo: false,
            CounterInterval: TimeSpan.FromMilliseconds(3_600_000), OtaKey: SHA256.HashData("wsctl ota"u8),
            OtaConfirmTimeout: TimeSpan.FromSeconds(300)),
        0x3000,
        """
        FEFFFFFF00000000FEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF842DBAB9
        AAAAAAEAFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
        000101FF53A1E29F777363746C000000000000000000000001FFFFFFFFFFFFFF
        012102FF2F333355737369640000000000000000000000000400FFFF48B0E330
        4C616200FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
        012102FF156D2F19706173730000000000000000000000000C00FFFFB0E49FF4
        70617373776F726431323300FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
        012102FF8F4A6DA1686F73746E616D6500000000000000000800FFFF21558950
        62656E63682D3100FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
        010201FF0CD32BBF706F7274000000000000000000000000901FFFFFFFFFFFFF
        010101FF3831FD956D61785F636C69656E7473000000000008FFFFFFFFFFFFFF
        010101FF61B6DE9C6563686F00000000000000000000000000FFFFFFFFFFFFFF
        010401FFB41C173A636F756E7465725F6D7300000000000080EE3600FFFFFFFF
        01420200E44E8AB06F74615F6B65790000000000000000002000FFFFB95CA0F4
        4D19A6F181576DC2AF9FB4BBF5BF2424C95B494DB643B9D8D3EDC692F1FCBCB9
        014801FF01AA13786F74615F6B6579000000000000000000200000000100FFFF
        010201FF341B08356F74615F636F6E6669726D5F730000002C01
        """,
        "2C6A7295126E3B16D9003925A47C1B62A85AE0BC93E2A16EA3FE708400E25228");

    public static TheoryData<Vector> Vectors =>
        new(Typical, Open, PskLongHostname, Punctuation, EchoCounterOff, EchoOffCounterMax, OtaKey, OtaKeyConfirm);

    private static byte[] Expected(Vector v)
    {
        var prefix = Convert.FromHexString(string.Concat(v.PrefixHex.Where(char.IsAsciiHexDigit)));
        var image = new byte[v.Size];
        image.AsSpan().Fill(0xFF);
        prefix.CopyTo(image, 0);
        return image;
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void BuildNvsImage_GeneratorVector_ByteIdentical(Vector vector)
    {
        var expected = Expected(vector);
        Assert.Equal(vector.Sha256Hex, Convert.ToHexString(SHA256.HashData(expected))); // the vector itself is intact
        // EncodeNvsImage: the psk64 vector goes beyond what the device takes (63-character host name, 16 clients),
        // which the NVS format holds and BuildNvsImage (it validates first) refuses.
        var image = vector.Settings.EncodeNvsImage(vector.Size);
        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(image));
        if (vector != PskLongHostname)
            Assert.Equal(image, vector.Settings.BuildNvsImage(vector.Size));
    }

    [Fact]
    public async Task FlashNvsOut_PunctuationVectorThroughPartitionTable_ByteIdentical()
    {
        // The CLI path: arguments with quotes and commas, and the NVS size (0x3000) taken from a partition table
        // image at 0x8000 (gen_esp32part.py's binary entry layout: AA 50, type, subtype, offset, size, label, flags).
        var dir = Directory.CreateTempSubdirectory("wsctl-nvsvec-").FullName;
        try
        {
            var table = new byte[0xC00];
            table.AsSpan().Fill(0xFF);
            WritePartition(table.AsSpan(0, 32), type: 1, subtype: 2, offset: 0x9000, size: 0x3000, "nvs");
            WritePartition(table.AsSpan(32, 32), type: 0, subtype: 0, offset: 0x10000, size: 0x100000, "factory");
            var tablePath = Path.Combine(dir, "partitions.bin");
            await File.WriteAllBytesAsync(tablePath, table);
            var nvs = Path.Combine(dir, "nvs.bin");
            var s = Punctuation.Settings;
            var result = await WsctlProcess.RunAsync(["flash", "--ssid", s.Ssid, "--pass", s.Password, "--hostname",
                s.Hostname,
                "--ws-port", "1", "--max-clients", "1", "--image", $"0x8000={tablePath}", "--nvs-out", nvs]);
            Assert.True(result.ExitCode == 0, result.All);
            Assert.Equal(
                Convert.ToHexString(Expected(Punctuation)), Convert.ToHexString(await File.ReadAllBytesAsync(nvs)));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task FlashNvsOut_DeviceEchoAndCounterOff_ByteIdenticalToGeneratorVector()
    {
        // The CLI path of the two NVS settings: --device-echo writes echo=1, --counter-interval 0 writes counter_ms=0.
        var dir = Directory.CreateTempSubdirectory("wsctl-nvsecho-").FullName;
        try
        {
            var nvs = Path.Combine(dir, "nvs.bin");
            var result = await WsctlProcess.RunAsync(["flash", "--ssid", "MyNet", "--pass", "password123",
                "--device-echo", "--counter-interval", "0", "--nvs-out", nvs]);
            Assert.True(result.ExitCode == 0, result.All);
            Assert.Equal(Convert.ToHexString(Expected(EchoCounterOff)),
                Convert.ToHexString(await File.ReadAllBytesAsync(nvs)));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task FlashNvsOut_OtaKeyFileAndConfirmTimeout_ByteIdenticalToGeneratorVector()
    {
        // The CLI path of the OTA settings: the key read from its file (64 hex digits and a newline), the deadline
        // from --ota-confirm-timeout.
        var dir = Directory.CreateTempSubdirectory("wsctl-nvsota-").FullName;
        try
        {
            var keyFile = Path.Combine(dir, "ota.key");
            await File.WriteAllTextAsync(keyFile, Convert.ToHexStringLower(OtaKeyConfirm.Settings.OtaKey!) + "\n");
            File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var nvs = Path.Combine(dir, "nvs.bin");
            var result = await WsctlProcess.RunAsync(["flash", "--ssid", "Lab", "--pass", "password123", "--hostname",
                "bench-1", "--max-clients", "8", "--device-echo", "false", "--counter-interval", "1h", "--ota-key",
                keyFile, "--ota-confirm-timeout", "5m", "--nvs-out", nvs, "--image", $"0x8000={WriteNvsTable(dir)}"]);
            Assert.True(result.ExitCode == 0, result.All);
            Assert.Equal(Convert.ToHexString(Expected(OtaKeyConfirm)),
                Convert.ToHexString(await File.ReadAllBytesAsync(nvs)));
            // The key is a secret: not in any output.
            Assert.DoesNotContain(Convert.ToHexStringLower(OtaKeyConfirm.Settings.OtaKey!), result.All,
                StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // A partition table image whose nvs partition is 0x3000 bytes at 0x9000.
    private static string WriteNvsTable(string dir)
    {
        var table = new byte[0xC00];
        table.AsSpan().Fill(0xFF);
        WritePartition(table.AsSpan(0, 32), type: 1, subtype: 2, offset: 0x9000, size: 0x3000, "nvs");
        WritePartition(table.AsSpan(32, 32), type: 0, subtype: 0, offset: 0x10000, size: 0x100000, "factory");
        var path = Path.Combine(dir, "partitions.bin");
        File.WriteAllBytes(path, table);
        return path;
    }

    private static void WritePartition(Span<byte> entry, byte type, byte subtype, uint offset, uint size, string label)
    {
        entry.Clear();
        entry[0] = 0xAA;
        entry[1] = 0x50;
        entry[2] = type;
        entry[3] = subtype;
        BinaryPrimitives.WriteUInt32LittleEndian(entry[4..], offset);
        BinaryPrimitives.WriteUInt32LittleEndian(entry[8..], size);
        Encoding.ASCII.GetBytes(label, entry[12..28]);
    }

    // The generator's image for SSID "Café Ü" (6 code points, 8 UTF-8 bytes), password123, esp32ws, 8080, 5; SIZE
    // 0x6000.
    private const string GeneratorCafeHex = """
        FEFFFFFF00000000FEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF842DBAB9
        AAAAFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
        000101FF53A1E29F777363746C000000000000000000000001FFFFFFFFFFFFFF
        012102FF7A3B0A73737369640000000000000000000000000700FFFF0BCAA3E8
        436166C3A920C39C00FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
        012102FF156D2F19706173730000000000000000000000000C00FFFFB0E49FF4
        70617373776F726431323300FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
        012102FF35AF50D9686F73746E616D6500000000000000000800FFFFCB305958
        6573703332777300FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
        010201FF0CD32BBF706F7274000000000000000000000000901FFFFFFFFFFFFF
        010101FFE924F80E6D61785F636C69656E7473000000000005
        """;

    [Fact]
    public void NonAsciiSsid_DiffersFromGenerator_OnlyInLengthAndEntryCrc()
    {
        // The generator stores len(str) (code points + NUL = 7) as the SZ length but writes and CRCs the 9 UTF-8
        // bytes, so ESP-IDF's Page::readItem (CRC over "length" bytes) rejects the string and erases it
        // (espressif/esp-idf#15441). wsctl stores the UTF-8 byte count (9). Everything else is the same bytes.
        var generator = new byte[0x6000];
        generator.AsSpan().Fill(0xFF);
        Convert.FromHexString(string.Concat(GeneratorCafeHex.Where(char.IsAsciiHexDigit))).CopyTo(generator, 0);
        Assert.Equal(
            "E615F8EAF027497AD01F9FE4FFCDF52ECF686E20F5CD70AEF68931F9936F9415",
            Convert.ToHexString(SHA256.HashData(generator)));
        var image = new DeviceSettings("Café Ü", "password123").BuildNvsImage(0x6000);

        const int ssidHeader = 64 + 32; // entry 1
        Assert.Equal(7, BinaryPrimitives.ReadUInt16LittleEndian(generator.AsSpan(ssidHeader + 24)));
        Assert.Equal(9, BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(ssidHeader + 24)));
        var entry = image.AsSpan(ssidHeader, 32).ToArray();
        Assert.Equal(
            NvsCrc.Compute([.. entry[..4], .. entry[8..]]), BinaryPrimitives.ReadUInt32LittleEndian(entry.AsSpan(4)));
        Assert.Equal(NvsCrc.Compute("Café Ü\0"u8), BinaryPrimitives.ReadUInt32LittleEndian(entry.AsSpan(28)));
        var differing = Enumerable.Range(0, image.Length).Where(i => image[i] != generator[i]).ToArray();
        Assert.All(
            differing,
            i => Assert.True(i is >= ssidHeader + 4 and < ssidHeader + 8 or ssidHeader + 24, $"byte 0x{i:X} differs"));
    }

    // Builder-level vectors (more than DeviceSettings reaches): the generator's SHA-256 for the same entries.
    // CSV rows are given as (key,type,encoding,value) after the header line.

    [Fact]
    public void Builder_130U8Entries_OverflowToPage1_MatchesGenerator()
    {
        // big,namespace,, then k0..k129,data,u8,(i % 256); SIZE 0x6000. Page 0 FULL with 126 entries, page 1 ACTIVE.
        var builder = new NvsPartitionBuilder(0x6000).Namespace("big");
        for (var i = 0; i < 130; i++)
            builder.U8($"k{i}", (byte)i);
        Assert.Equal(
            "C8A1594DCD07B64C3A3577854E6BDA8FEB7648369B3E86620B9198C533D9BD8E",
            Convert.ToHexString(SHA256.HashData(builder.Build())));
    }

    [Fact]
    public void Builder_StringReachingEntry126_MovesToNextPage_MatchesGenerator()
    {
        // e,namespace,, then k0..k122,data,u8,1 (124 entries used), s1,data,string,xxxxxxxxxx (needs 2: 124+2 >= 126,
        // so page 1), after,data,u8,7; SIZE 0x6000.
        var builder = new NvsPartitionBuilder(0x6000).Namespace("e");
        for (var i = 0; i < 123; i++)
            builder.U8($"k{i}", 1);
        builder.String("s1", new string('x', 10)).U8("after", 7);
        Assert.Equal(
            "0E7AFA1F700F5E29E6EAB51A279AD9DFA14820FCC1B072498564227F3F8239C9",
            Convert.ToHexString(SHA256.HashData(builder.Build())));
    }

    [Fact]
    public void Builder_LongestPlaceableString_MatchesGenerator()
    {
        // w,namespace,, a,data,u8,1, big,data,string,(3967 x 'q'), b,data,u8,2; SIZE 0x6000. 3968 bytes with the NUL
        // = 124 data entries: the most the generator places (on a fresh page).
        var builder = new NvsPartitionBuilder(0x6000)
            .Namespace("w")
            .U8("a", 1)
            .String("big", new string('q', 3967))
            .U8("b", 2);
        Assert.Equal(
            "D530263AAB8018C03F5B10FFB69E15A35F0082A0AC47E942A6A45F5089FD9DF6",
            Convert.ToHexString(SHA256.HashData(builder.Build())));
    }

    [Fact]
    public void Builder_StringTheGeneratorCannotPlace_Throws()
    {
        // 3968 characters + NUL = 125 data entries: the generator ends in an unhandled PageFullError, even though
        // max_blob_size (4000) allows it. wsctl refuses it the same way instead of making an image it would not.
        var builder = new NvsPartitionBuilder(0x6000).Namespace("w");
        var e = Assert.Throws<ArgumentException>(() => builder.String("big", new string('q', 3968)));
        Assert.Contains("3968", e.Message);
    }

    [Fact]
    public void Builder_TwoPagesFilledAt0x3000_MatchesGenerator()
    {
        // w,namespace,, a,data,string,(3000 x 'q'), b,data,string,(3000 x 'r'); SIZE 0x3000: pages 0 (FULL) and 1
        // (ACTIVE) used, page 2 the reserved all-0xFF page.
        var image = new NvsPartitionBuilder(0x3000)
            .Namespace("w")
            .String("a", new string('q', 3000))
            .String("b", new string('r', 3000))
            .Build();
        Assert.Equal(
            "682B238698A192CCB41DE2B39F1B508E715668ABDEE3F02F9B30F4DC2ED7027F",
            Convert.ToHexString(SHA256.HashData(image)));
    }

    [Fact]
    public void Builder_BlobSpanningPages_MatchesGenerator()
    {
        // m,namespace,, filler,data,string,(3000 x 'f'), big,data,hex2bin,(2000 bytes: byte i = 7i mod 256),
        // after,data,u8,7; SIZE 0x4000. The string leaves page 0 room for a first chunk; the rest goes to page 1 with
        // the index entry after it.
        var image = new NvsPartitionBuilder(0x4000)
            .Namespace("wsctl")
            .String("filler", new string('f', 3000))
            .Blob("big", [.. Enumerable.Range(0, 2000).Select(i => (byte)(i * 7))])
            .U8("after", 7)
            .Build();
        Assert.Equal(
            "2D05FC26345757787B3B12408426B358E51C50093861AECA5E44366B5960103A",
            Convert.ToHexString(SHA256.HashData(image)));
    }

    [Theory]
    // b,namespace,, blob,data,hex2bin,(N bytes: byte i = (k·i + c) mod 256), after,data,u8,9; SIZE 0x3000.
    // 3936 bytes fill the page to entry 124 and leave one entry, so the index stays on page 0; 3950 bytes leave less
    // than an entry's bytes of the chunk's room, so the index starts page 1.
    [InlineData(3936, 3, 1, "7627E105C87B9AB27E6244A6FF88CA9713D8B853F226CEF40E95D1569F11B57A")]
    [InlineData(3950, 5, 2, "6D29A3E5E33E8B5481872BB17977E31DDEC244BD51B4671D3812B5AD3E6DE2FD")]
    public void Builder_BlobFillingAPage_IndexWhereTheGeneratorPutsIt(int size, int k, int c, string sha256)
    {
        var image = new NvsPartitionBuilder(0x3000)
            .Namespace("b")
            .Blob("blob", [.. Enumerable.Range(0, size).Select(i => (byte)(i * k + c))])
            .U8("after", 9)
            .Build();
        Assert.Equal(sha256, Convert.ToHexString(SHA256.HashData(image)));
    }

    [Fact]
    public void Builder_NamespaceSelectedAgain_UsesItsOwnIndex()
    {
        // Deliberate difference: the generator (write_entry: namespace_idx = namespace_count) would tag "z" with
        // index 2 ("b"), though the CSV put it under "a" again. Entries belong to the namespace selected for them.
        var image = new NvsPartitionBuilder(0x3000)
            .Namespace("a")
            .U8("x", 1)
            .Namespace("b")
            .U8("y", 2)
            .Namespace("a")
            .U16("z", 513)
            .Build();
        Assert.Equal(1, image[64 + 4 * 32]); // entries: ns a, x, ns b, y, z
        Assert.Equal("z", Encoding.ASCII.GetString(image, 64 + 4 * 32 + 8, 1));
    }
}
