using WsCore.Cluster;

namespace WsCore.Tests.Cluster;

/// <summary>
/// <c>--cluster</c>'s address, every accepted and refused form: the redis/rediss schemes, the user
/// information redis-cli reads (USER:PASSWORD, :PASSWORD, a bare PASSWORD), and no password in any text shown.
/// </summary>
public class ClusterAddressTests
{
    public static TheoryData<string, string, int, int, bool, string?, string?> Accepted => new()
    {
        // text, host, port, database, tls, user, password
        { "redis://127.0.0.1", "127.0.0.1", 6379, 0, false, null, null },
        { "redis://localhost:6380/2", "localhost", 6380, 2, false, null, null },
        { "REDIS://[::1]:7000/", "::1", 7000, 0, false, null, null },
        { "rediss://cache.example.com", "cache.example.com", 6379, 0, true, null, null },
        { "rediss://cache.example.com:6390/1", "cache.example.com", 6390, 1, true, null, null },
        { "redis://:s3cret@127.0.0.1", "127.0.0.1", 6379, 0, false, null, "s3cret" },
        { "redis://s3cret@127.0.0.1", "127.0.0.1", 6379, 0, false, null, "s3cret" },
        { "redis://app:s3cret@127.0.0.1:6379/3", "127.0.0.1", 6379, 3, false, "app", "s3cret" },
        { "rediss://app:p%40ss%3Aword@localhost", "localhost", 6379, 0, true, "app", "p@ss:word" },
        { "redis://app:@127.0.0.1", "127.0.0.1", 6379, 0, false, "app", "" },
    };

    [Theory]
    [MemberData(nameof(Accepted))]
    public void Parse_Accepted(string text, string host, int port, int database, bool tls, string? user,
        string? password)
    {
        var address = ClusterAddress.Parse(text);
        Assert.Equal((host, port, database, tls, user, password),
            (address.Host, address.Port, address.Database, address.Tls, address.User, address.Password));
        Assert.StartsWith(tls ? "rediss://" : "redis://", address.ToString());
        if (password is { Length: > 0 })
            Assert.DoesNotContain(password, address.ToString());
        if (user is not null)
            Assert.Contains(user + "@", address.ToString());
    }

    [Theory]
    [InlineData("redis://[::1]:6380", "redis://[::1]:6380/0")]
    [InlineData("rediss://app:s3cret@cache.example.com/4", "rediss://app@cache.example.com:6379/4")]
    [InlineData("redis://s3cret@127.0.0.1", "redis://127.0.0.1:6379/0")]
    public void ToString_EndPointInBracketsAndNoPassword(string text, string shown) =>
        Assert.Equal(shown, ClusterAddress.Parse(text).ToString());

    [Theory]
    [InlineData("127.0.0.1:6379", "expected redis://HOST[:PORT][/DB]")]
    [InlineData("http://127.0.0.1", "expected redis://HOST[:PORT][/DB]")]
    [InlineData("redis://", "expected redis://HOST[:PORT][/DB]")]
    [InlineData("redis://127.0.0.1/x", "the database must be a number, got 'x'")]
    [InlineData("redis://127.0.0.1/70000", "the database must be a number, got '70000'")]
    [InlineData("redis://127.0.0.1/?db=1", "no query or fragment")]
    [InlineData("redis://:hunter22@127.0.0.1/?db=1", "no query or fragment")]
    [InlineData("redis://app:hunter22@127.0.0.1#x", "no query or fragment")]
    [InlineData("redis://app:hunter22@", "expected redis://HOST[:PORT][/DB]")]
    public void Parse_Refused_InvalidInputWithoutThePassword(string text, string expected)
    {
        var error = Assert.Throws<WsCoreException>(() => ClusterAddress.Parse(text));
        Assert.Equal(FailureKind.InvalidInput, error.Kind);
        Assert.Equal(InputField.ClusterAddress, error.Field);
        Assert.Contains(expected, error.Message);
        Assert.DoesNotContain("hunter22", error.Message);
    }
}
