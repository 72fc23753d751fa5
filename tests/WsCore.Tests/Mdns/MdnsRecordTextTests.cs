using Makaretu.Dns;
using WsCore.Mdns;

namespace WsCore.Tests.Mdns;

/// <summary>
/// Records as log text: the types whose Makaretu.Dns text form calls SimpleBase methods that SimpleBase 3 lacks (see
/// MdnsRecordText) are written by wsctl itself.
/// </summary>
public class MdnsRecordTextTests
{
    // MdnsWireTests' cache-flush A response (esp32ws.local at offset 12) with two additional records (ARCOUNT 2).
    private static readonly byte[] ResponseWithNsecAndOpt =
    [
        .. MdnsWireTests.CacheFlushAResponse[..11], 0x02, .. MdnsWireTests.CacheFlushAResponse[12..],
        // NSEC (RFC 6762 §6.1: the name has no other types), name pointer to offset 12, IN | cache-flush, TTL 120,
        // RDATA: next name (pointer), window 0, bitmap length 1, 0x40 = type 1 (A) only
        0xC0, 0x0C, 0x00, 0x2F, 0x80, 0x01, 0x00, 0x00, 0x00, 0x78, 0x00, 0x05, 0xC0, 0x0C, 0x00, 0x01, 0x40,
        // OPT (RFC 6891 §6.1.2), root name, class = UDP payload size 1440, TTL 0, RDATA: option 4
        // (EDNS0 Owner), length 8: version 0, sequence 0, MAC a1:b2:c3:d4:e5:f6
        0x00, 0x00, 0x29, 0x05, 0xA0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0C,
        0x00, 0x04, 0x00, 0x08, 0x00, 0x00, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6,
    ];

    [Fact]
    public void Describe_ResponseWithNsecAndOpt_WritesEveryRecord()
    {
        var message = MdnsWire.TryParse(ResponseWithNsecAndOpt, ResponseWithNsecAndOpt.Length)!;

        Assert.Equal(
            "esp32ws.local 120 IN cache-flush A 10.231.0.1; "
            + "esp32ws.local 120 IN cache-flush NSEC esp32ws.local A; "
            + @". 0 CLASS1440 OPT \# 12 000400080000a1b2c3d4e5f6",
            MdnsRecordText.Describe(message));
    }

    [Theory]
    [InlineData("DS", @"esp32ws.local 120 IN DS \# 7 ec4505012bb183")]
    [InlineData("NSEC3", @"esp32ws.local 120 IN NSEC3 \# 13 0100000c04aabbccdd03010203")]
    [InlineData("unknown", @"esp32ws.local 120 IN TYPE65280 \# 2 dead")]
    public void Format_RecordMakaretuCannotWrite_UsesTheGenericFormOfRfc3597(string type, string expected)
    {
        // Through the wire and back, as a received record would come.
        var wire = new Message { QR = true, Answers = { Record(type) } }.ToByteArray();
        var received = MdnsWire.TryParse(wire, wire.Length)!.Answers.Single();

        Assert.Equal(expected, MdnsRecordText.Format(received));
        // Makaretu.Dns's own text writer reaches SimpleBase's Base16/Base32 string calls, gone from SimpleBase 3. If
        // this starts to fail, the versions changed and MdnsRecordText may go back to Makaretu's ToString().
        Assert.ThrowsAny<MissingMemberException>(() => received.ToString());
    }

    private static ResourceRecord Record(string type)
    {
        var name = new DomainName("esp32ws", "local");
        var ttl = TimeSpan.FromSeconds(120);
        return type switch
        {
            // RFC 4034 §5.1: key tag 60485, algorithm 5, digest type 1, a SHA-1 digest (shortened).
            "DS" => new DSRecord
            {
                Name = name,
                TTL = ttl,
                KeyTag = 60485,
                Algorithm = SecurityAlgorithm.RSASHA1,
                HashAlgorithm = DigestType.Sha1,
                Digest = [0x2B, 0xB1, 0x83]
            },
            // RFC 5155 §3.2: algorithm 1, flags 0, 12 iterations, salt aabbccdd, a 3-byte hash, no types.
            "NSEC3" => new NSEC3Record
            {
                Name = name,
                TTL = ttl,
                HashAlgorithm = DigestType.Sha1,
                Iterations = 12,
                Salt = [0xAA, 0xBB, 0xCC, 0xDD],
                NextHashedOwnerName = [1, 2, 3]
            },
            // RFC 3597 §5: a type nobody models (private use), its data kept as bytes.
            _ => new UnknownRecord { Name = name, TTL = ttl, Type = (DnsType)65280, Data = [0xDE, 0xAD] },
        };
    }
}
