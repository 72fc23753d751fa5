using System.Text;
using WsCore.WebSockets.Protocol;

namespace WsCore.Tests.WebSockets;

public class Utf8ValidatorTests
{
    [Theory]
    [InlineData("plain ASCII")]
    [InlineData("κόσμε")]
    [InlineData("€ 𝄞 \uFFFD 日本語")]
    [InlineData("")]
    public void IsValid_ValidText_IsTrue(string text)
        => Assert.True(Utf8Validator.IsValid(Encoding.UTF8.GetBytes(text)));

    [Theory]
    [InlineData(new byte[] { 0x80 })]                   // stray continuation
    [InlineData(new byte[] { 0xc0, 0xaf })]             // overlong '/'
    [InlineData(new byte[] { 0xe0, 0x80, 0xaf })]       // overlong 3-byte
    [InlineData(new byte[] { 0xed, 0xa0, 0x80 })]       // surrogate U+D800
    [InlineData(new byte[] { 0xf4, 0x90, 0x80, 0x80 })] // above U+10FFFF
    [InlineData(new byte[] { 0xf5 })]
    [InlineData(new byte[] { 0xff })]
    [InlineData(new byte[] { 0xce, 0xba, 0xe1 })]       // cut short at the end
    public void IsValid_InvalidBytes_IsFalse(byte[] bytes) => Assert.False(Utf8Validator.IsValid(bytes));

    [Fact]
    public void Append_EveryValidTextSplitAtEveryPoint_IsValid()
    {
        var bytes = Encoding.UTF8.GetBytes("aκ€𝄞z");
        for (var split = 0; split <= bytes.Length; split++)
        {
            var validator = new Utf8Validator();
            Assert.True(validator.Append(bytes.AsSpan(0, split)));
            Assert.True(validator.Append(bytes.AsSpan(split)));
            Assert.True(validator.IsComplete);
        }
    }

    [Theory]
    [InlineData(new byte[] { 0xed }, new byte[] { 0xa0 })]       // a surrogate is known bad at its second byte
    [InlineData(new byte[] { 0xf4 }, new byte[] { 0x90 })]
    [InlineData(new byte[] { 0xe0 }, new byte[] { 0x80 })]
    [InlineData(new byte[] { 0xce }, new byte[] { 0x41 })]
    public void Append_DefinitelyInvalidPrefix_FailsAtTheFirstBadByte(byte[] first, byte[] second)
    {
        var validator = new Utf8Validator();
        Assert.True(validator.Append(first));
        Assert.False(validator.IsComplete);
        Assert.False(validator.Append(second));
    }

    [Fact]
    public void Append_RandomTextAndCorruptions_InRandomPieces_AgreesWithAStrictDecoder()
    {
        // The strict decoder (throwOnInvalidBytes) is the oracle; pieces of random sizes exercise both the whole-piece
        // fast path and the byte-by-byte path, and characters cut between pieces.
        var strict = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        var random = new Random(6455);
        var alphabet = "aé€😀ßж中\u007f\u0080\uffff";
        for (var round = 0; round < 3000; round++)
        {
            var text = new StringBuilder();
            for (var n = random.Next(0, 200); n > 0; n--)
                text.Append(char.IsSurrogate(alphabet[random.Next(alphabet.Length)])
                    ? "😀"
                    : alphabet[random.Next(alphabet.Length)].ToString());
            var bytes = Encoding.UTF8.GetBytes(text.ToString());
            if (bytes.Length > 0 && random.Next(3) == 0)
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);   // often makes it invalid
            bool expected;
            try
            {
                strict.GetString(bytes);
                expected = true;
            }
            catch (DecoderFallbackException)
            {
                expected = false;
            }
            var validator = new Utf8Validator();
            var valid = true;
            for (var at = 0; at < bytes.Length && valid;)
            {
                var piece = Math.Min(bytes.Length - at, random.Next(1, 70));
                valid = validator.Append(bytes.AsSpan(at, piece));
                at += piece;
            }
            Assert.True(expected == (valid && validator.IsComplete), $"round {round}: {Convert.ToHexString(bytes)}");
        }
    }
}
