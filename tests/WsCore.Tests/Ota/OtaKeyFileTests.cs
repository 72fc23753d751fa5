using System.Net;
using WsCore.Mdns;
using WsCore.Ota;

namespace WsCore.Tests.Ota;

public sealed class OtaKeyFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("wsctl-otakey-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void LoadOrCreate_NoFile_MakesA0600FileWithARandomKey()
    {
        var path = Path.Combine(_dir, "ota.key");

        var made = OtaKeyFile.LoadOrCreate(path);
        var again = OtaKeyFile.LoadOrCreate(path);

        Assert.True(made.Created);
        Assert.False(again.Created);
        Assert.Equal(made.Key, again.Key);
        Assert.Equal(32, made.Key.Length);
        Assert.Matches("^[0-9a-f]{64}\n$", File.ReadAllText(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.NotEqual(made.Key, OtaKeyFile.LoadOrCreate(Path.Combine(_dir, "other.key")).Key);
        Assert.DoesNotContain(Convert.ToHexStringLower(made.Key), made.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Load_AKeyWithBlanksAround_ReadsIt_AndSeesWhoMayRead()
    {
        var path = Path.Combine(_dir, "k");
        File.WriteAllText(path, "  " + new string('A', 64) + "\r\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);

        var contents = OtaKeyFile.Load(path);

        Assert.Equal(Enumerable.Repeat((byte)0xAA, 32), contents.Key);
        Assert.True(contents.OthersCanRead);
    }

    [Theory]
    [InlineData("")]
    [InlineData("abcd")]
    [InlineData("zz00000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("000000000000000000000000000000000000000000000000000000000000000000")]
    public void Load_NotAKey_RefusedWithoutShowingIt(string text)
    {
        var path = Path.Combine(_dir, "bad.key");
        File.WriteAllText(path, text);

        var e = Assert.Throws<WsCoreException>(() => OtaKeyFile.LoadOrCreate(path));

        Assert.Equal((FailureKind.InvalidInput, InputField.OtaKey), (e.Kind, e.Field));
        Assert.Equal(text, File.ReadAllText(path)); // never replaced
        if (text.Length > 0)
            Assert.DoesNotContain(text, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_Missing_SaysWhichVerbMakesIt()
    {
        var e = Assert.Throws<WsCoreException>(() => OtaKeyFile.Load(Path.Combine(_dir, "none.key")));
        Assert.EndsWith("does not exist", e.Message, StringComparison.Ordinal);
        Assert.Contains("wsctl flash", e.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadOrCreate_InAMissingDirectory_Refused()
    {
        var e = Assert.Throws<WsCoreException>(() => OtaKeyFile.LoadOrCreate(Path.Combine(_dir, "no", "k")));
        Assert.StartsWith("the directory ", e.Message, StringComparison.Ordinal);
    }

    private static DiscoveredDevice Device(string instance, string host, params (string, string)[] txt) =>
        DeviceDiscovery.ToDevice(new MdnsServiceInstance(instance, "_ws._tcp", host, 8080,
            [IPAddress.Parse("192.0.2.7")], txt.ToDictionary(t => t.Item1, t => t.Item2), "lo"));

    [Theory]
    [InlineData("kitchen-*", true)]
    [InlineData("KITCHEN-1", true)]
    [InlineData("kitchen-1.local", true)]
    [InlineData("Kitchen Sensor", true)]
    [InlineData("version=1.2.*", true)]
    [InlineData("version=1.3.*", false)]
    [InlineData("hall-?", false)]
    [InlineData("kitchen", false)]
    public void Matches_InstanceHostOrTxt(string pattern, bool expected) =>
        Assert.Equal(expected, OtaFleet.Matches(
            Device("Kitchen Sensor", "kitchen-1.local.", ("path", "/"), ("version", "1.2.0")), pattern));
}
