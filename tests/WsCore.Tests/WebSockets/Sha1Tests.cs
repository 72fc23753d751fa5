using System.Security.Cryptography;
using System.Text;
using WsCore.WebSockets.Protocol;

namespace WsCore.Tests.WebSockets;

/// <summary>The handshake's own SHA-1 (<see cref="Sha1"/>) against RFC 3174's test vectors and the runtime's.</summary>
public class Sha1Tests
{
    private static string Hex(ReadOnlySpan<byte> data)
    {
        Span<byte> hash = stackalloc byte[Sha1.HashSizeInBytes];
        Sha1.HashData(data, hash);
        return Convert.ToHexStringLower(hash);
    }

    // RFC 3174 §7.3's TEST1 and TEST2, and the empty message.
    [Theory]
    [InlineData("", "da39a3ee5e6b4b0d3255bfef95601890afd80709")]
    [InlineData("abc", "a9993e364706816aba3e25717850c26c9cd0d89d")]
    [InlineData("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "84983e441c3bd26ebaae4aa1f95129e5e54670f1")]
    public void HashData_Rfc3174Vectors(string text, string expected) =>
        Assert.Equal(expected, Hex(Encoding.ASCII.GetBytes(text)));

    [Fact]
    public void HashData_MillionA_Rfc3174Test3() =>
        Assert.Equal(
            "34aa973cd4c4daa4f61eeb2bdbad27316534016f", Hex(Encoding.ASCII.GetBytes(new string('a', 1_000_000))));

    // Every length through three blocks, so each padding case (one block, two blocks, the length field split off)
    // and every remainder is covered, on random bytes, against the runtime's SHA-1.
    [Fact]
    public void HashData_EveryLengthTo200_MatchesRuntime()
    {
        var random = new Random(3174);
        for (var length = 0; length <= 200; length++)
        {
            var data = new byte[length];
            random.NextBytes(data);
            Assert.Equal(Convert.ToHexStringLower(SHA1.HashData(data)), Hex(data));
        }
    }

    [Fact]
    public void HashData_ShortDestination_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Sha1.HashData([], new byte[19]));
}
