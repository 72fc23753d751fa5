using System.Security.Cryptography;
using WsCore.Chips;
using WsCore.Esp;
using WsCore.Flashing;
using WsCore.Nvs;

namespace WsCore.Tests.Esp;

public class DeviceSettingsTests
{
    [Theory]
    [InlineData("", "password1", "esp32ws", 8080, 5, "--ssid")]
    [InlineData("123456789012345678901234567890123", "password1", "esp32ws", 8080, 5, "--ssid")]
    [InlineData("net", "short", "esp32ws", 8080, 5, "--pass")]
    [InlineData(
        "net", "0123456789012345678901234567890123456789012345678901234567890123456789", "esp32ws", 8080, 5, "--pass")]
    [InlineData("net", "password1", "-bad", 8080, 5, "--hostname")]
    [InlineData("net", "password1", "has space", 8080, 5, "--hostname")]
    [InlineData("net", "password1", "esp32ws", 0, 5, "--ws-port")]
    [InlineData("net", "password1", "esp32ws", 65536, 5, "--ws-port")]
    [InlineData("net", "password1", "esp32ws", 8080, 0, "--max-clients")]
    [InlineData("net", "password1", "esp32ws", 8080, 9, "--max-clients")]
    [InlineData("net", "password1", "h23456789012345678901234567890123", 8080, 5, "--hostname")]
    public void Validate_BadField_IsNamed(string ssid, string pass, string host, int port, int max, string field)
    {
        var e = Assert.Throws<WsCoreException>(() => new DeviceSettings(ssid, pass, host, port, max).Validate());
        Assert.Equal(FailureKind.InvalidInput, e.Kind);
        Assert.Equal(field, Wsctl.Cli.InputFlags.Table[Assert.NotNull(e.Field)].Flag);
        Assert.DoesNotContain(pass, e.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("12345678")]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    public void Validate_GoodPasswords_Accepted(string pass) => new DeviceSettings("net", pass).Validate();

    [Fact]
    public void ToString_HidesPassword() =>
        Assert.DoesNotContain("hunter2hunter2", new DeviceSettings("net", "hunter2hunter2").ToString());
}
