using Wsctl.Cli;

namespace WsCore.Tests.Cli;

public class DurationTests
{
    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("5s", 5000)]
    [InlineData("1m", 60_000)]
    [InlineData("1.5s", 1500)]
    [InlineData("0", 0)]
    [InlineData("2h", 7_200_000)]
    public void TryParse_AcceptedForms_GiveMilliseconds(string text, int ms)
    {
        Assert.True(Duration.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromMilliseconds(ms), value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("ms")]
    [InlineData("5 parsecs")]
    [InlineData("-1s")]
    [InlineData("99999999h")]
    [InlineData("5")] // seconds or milliseconds? a unit says
    [InlineData("0.5")]
    public void TryParse_Garbage_IsRefused(string text) => Assert.False(Duration.TryParse(text, out _));

    [Fact]
    public async Task Option_ANumberWithoutUnit_RefusedWithTheUnitsToGive()
    {
        var result = await Support.WsctlProcess.RunAsync(["serve", "--counter-interval", "5"],
            timeout: TimeSpan.FromSeconds(60));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("give a unit: 5s, 5ms or 5m", result.Stderr, StringComparison.Ordinal);
    }
}
