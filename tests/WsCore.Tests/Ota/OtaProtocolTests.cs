using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using WsCore.Ota;

namespace WsCore.Tests.Ota;

/// <summary>
/// The wsctl-ota.1 messages and authenticators, against docs/ota-protocol.md: the HMACs computed two other ways (the
/// message built by hand for .NET's HMACSHA256, and Python's hmac module, whose results are written here), the
/// client's messages byte for byte, the device's parsed and refused.
/// </summary>
public class OtaProtocolTests
{
    private static readonly byte[] Key = [.. Enumerable.Range(0, 32).Select(i => (byte)i)];
    private static readonly byte[] Nonce = [.. Enumerable.Range(0x40, 32).Select(i => (byte)i)];
    private static readonly byte[] ImageSha = SHA256.HashData("image"u8);
    private static readonly byte[] ElfSha = SHA256.HashData("elf"u8);

    // /usr/bin/python3 (3.11.2): hmac.new(bytes(range(32)), b'wsctl-ota.1' + bytes(range(0x40, 0x60)) + b'begin' +
    // struct.pack('>Q', 1048576) + hashlib.sha256(b'image').digest() + b'\x00' (force: b'\x01'), hashlib.sha256), and
    // the same with b'confirm' + hashlib.sha256(b'elf').digest() after the nonce.
    private const string PythonBegin = "68d62ba14ffc42e9747e8e172b1e36cb77a55189de13ee07364cddebf6bedefc";
    private const string PythonBeginForce = "6320dadae30fad8913b8c4d2a40874fcbb3222b70bc9a69ff7b74e9e9fd89028";
    private const string PythonConfirm = "c362bd1d2f1ec6f74c181638810316d1eb6b4bb900e8bee5e2120409439c0f51";

    [Theory]
    [InlineData(false, PythonBegin)]
    [InlineData(true, PythonBeginForce)]
    public void Begin_Auth_IsTheSpecsHmac(bool force, string python)
    {
        var message = new List<byte>();
        message.AddRange("wsctl-ota.1"u8.ToArray());
        message.AddRange(Nonce);
        message.AddRange("begin"u8.ToArray());
        var size = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(size, 1_048_576);
        message.AddRange(size);
        message.AddRange(ImageSha);
        message.Add(force ? (byte)1 : (byte)0);
        using var hmac = new HMACSHA256(Key);
        var expected = hmac.ComputeHash(message.ToArray());

        var auth = OtaAuth.Begin(Key, Nonce, 1_048_576, ImageSha, force);

        Assert.Equal(expected, auth);
        Assert.Equal(python, Convert.ToHexStringLower(auth));
    }

    [Fact]
    public void Confirm_Auth_IsTheSpecsHmac()
    {
        byte[] message = [.. "wsctl-ota.1"u8, .. Nonce, .. "confirm"u8, .. ElfSha];
        using var hmac = new HMACSHA256(Key);

        var auth = OtaAuth.Confirm(Key, Nonce, ElfSha);

        Assert.Equal(hmac.ComputeHash(message), auth);
        Assert.Equal(PythonConfirm, Convert.ToHexStringLower(auth));
    }

    [Fact]
    public void Auth_EachInput_ChangesIt()
    {
        var baseline = OtaAuth.Begin(Key, Nonce, 1000, ImageSha, false);
        Assert.NotEqual(baseline, OtaAuth.Begin(Key, Nonce, 1001, ImageSha, false));
        Assert.NotEqual(baseline, OtaAuth.Begin(Key, [.. Nonce[..31], 0], 1000, ImageSha, false));
        Assert.NotEqual(baseline, OtaAuth.Begin([.. Key[..31], 0], Nonce, 1000, ImageSha, false));
        Assert.NotEqual(baseline, OtaAuth.Begin(Key, Nonce, 1000, ElfSha, false));
        // A begin's authenticator is no confirm's, for the same hash: the message names itself.
        Assert.NotEqual(OtaAuth.Confirm(Key, Nonce, ImageSha), OtaAuth.Begin(Key, Nonce, 0, ImageSha, false));
        Assert.Throws<ArgumentException>(() => OtaAuth.Begin(Key, Nonce[..16], 1000, ImageSha, false));
    }

    [Fact]
    public void BeginAndConfirm_Json_AsTheSpecWritesThem()
    {
        var auth = OtaAuth.Begin(Key, Nonce, 1_048_576, ImageSha, false);
        Assert.Equal(
            "{\"type\":\"begin\",\"size\":1048576,\"sha256\":\"" + Convert.ToHexStringLower(ImageSha) +
                "\",\"force\":false,\"auth\":\"" + PythonBegin + "\"}",
            Encoding.UTF8.GetString(OtaMessages.Begin(1_048_576, ImageSha, false, auth)));
        Assert.Equal(
            "{\"type\":\"confirm\",\"version\":\"1.3.0\",\"elf_sha256\":\"" + Convert.ToHexStringLower(ElfSha) +
                "\",\"auth\":\"" + PythonConfirm + "\"}",
            Encoding.UTF8.GetString(OtaMessages.Confirm("1.3.0", ElfSha,
                OtaAuth.Confirm(Key, Nonce, ElfSha))));
    }

    private static string Hello(string lastUpdate = "{\"result\":\"none\"}") =>
        "{\"type\":\"hello\",\"protocol\":\"wsctl-ota.1\",\"nonce\":\"" + Convert.ToHexStringLower(Nonce) +
        "\",\"chip\":\"esp32c3\",\"project\":\"esp32ws\",\"version\":\"1.2.0\",\"elf_sha256\":\"" +
        Convert.ToHexString(ElfSha) + "\",\"running_slot\":\"ota_0\",\"state\":\"valid\",\"slot_size\":2031616," +
        "\"last_update\":" + lastUpdate + "}";

    [Fact]
    public void Parse_TheSpecsHello_EveryField()
    {
        var message = OtaMessages.Parse(Encoding.UTF8.GetBytes(Hello()));

        Assert.Equal(OtaMessageType.Hello, message.Type);
        var hello = Assert.IsType<OtaHello>(message.Hello);
        Assert.Equal(Nonce, hello.Nonce);
        Assert.Equal(("esp32c3", "esp32ws", "1.2.0", "ota_0", "valid", 2031616L),
            (hello.Chip, hello.Project, hello.Version, hello.RunningSlot, hello.State, hello.SlotSize));
        Assert.Equal(Convert.ToHexStringLower(ElfSha), hello.ElfSha256); // uppercase hex taken, kept lowercase
        Assert.Equal(OtaLastUpdate.None, hello.LastUpdate);
        Assert.False(hello.IsPending);
        Assert.DoesNotContain(Convert.ToHexStringLower(Nonce), hello.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_LastUpdateRolledBack_ReasonAndVersion()
    {
        var hello = OtaMessages.Parse(Encoding.UTF8.GetBytes(Hello(
            "{\"result\":\"rolled_back\",\"version\":\"1.3.0\",\"reason\":\"panic\"}"))).Hello!;
        Assert.Equal(new OtaLastUpdate("rolled_back", "1.3.0", "panic"), hello.LastUpdate);
        Assert.True(hello.LastUpdate.RolledBack);
    }

    [Theory]
    [InlineData("{\"type\":\"ready\",\"window\":131072}", OtaMessageType.Ready, 131072L, null)]
    [InlineData("{\"type\":\"progress\",\"written\":65536}", OtaMessageType.Progress, 65536L, null)]
    [InlineData("{\"type\":\"rebooting\",\"slot\":\"ota_1\"}", OtaMessageType.Rebooting, 0L, "ota_1")]
    [InlineData("{\"type\":\"confirmed\",\"version\":\"1.3.0\"}", OtaMessageType.Confirmed, 0L, "1.3.0")]
    [InlineData("{\"type\":\"error\",\"code\":\"auth_failed\",\"message\":\"bad\"}", OtaMessageType.Error, 0L,
        "auth_failed")]
    public void Parse_DeviceMessages(string json, OtaMessageType type, long number, string? text)
    {
        var message = OtaMessages.Parse(Encoding.UTF8.GetBytes(json));
        Assert.Equal((type, number, text), (message.Type, message.Number, message.Text));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("{\"type\":\"hello\"}")]
    [InlineData("{\"type\":\"ready\",\"window\":0}")]
    [InlineData("{\"type\":\"progress\",\"written\":-1}")]
    [InlineData("{\"type\":\"progress\",\"written\":\"5\"}")]
    [InlineData("{\"type\":\"error\"}")]
    [InlineData("{\"type\":\"launch\"}")]
    [InlineData("{\"type\":\"hello\",\"protocol\":\"wsctl-ota.2\",\"nonce\":\"00\"}")]
    public void Parse_NotAMessageOfTheProtocol_FormatException(string json) =>
        Assert.Throws<FormatException>(() => OtaMessages.Parse(Encoding.UTF8.GetBytes(json)));

    [Fact]
    public void Parse_HelloWithAShortNonce_FormatException() =>
        Assert.Throws<FormatException>(() => OtaMessages.Parse(Encoding.UTF8.GetBytes(
            Hello().Replace(Convert.ToHexStringLower(Nonce), "abcd", StringComparison.Ordinal))));
}
