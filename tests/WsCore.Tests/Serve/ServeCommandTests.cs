using WsCore.Tests.Support;
using Wsctl;
using Wsctl.Cli;

namespace WsCore.Tests.Serve;

/// <summary>The serve verb's command line, parsed without running anything.</summary>
public class ServeCommandTests
{
    [Theory]
    [InlineData("serve")]
    [InlineData("serve --port 0 --echo --json --counter-interval 500ms")]
    [InlineData("serve --bind 127.0.0.1 --max-clients 10 --max-message 16777216 --no-counter --ping-interval 0")]
    [InlineData("serve --bind :: --relay --no-page")]
    [InlineData("serve --counter-interval 0")] // no counter, as counter_ms 0 on the device
    public void Parse_ValidArguments_HaveNoErrors(string args) =>
        Assert.Empty(WsctlCommand.Create().Parse(args).Errors);

    [Theory]
    [InlineData("serve --echo --relay")]
    [InlineData("serve --bind not-an-address")]
    [InlineData("serve --port 70000")]
    [InlineData("serve --max-clients 0")]
    [InlineData("serve --max-message 0")]
    [InlineData("serve --counter-interval 5parsecs")]
    [InlineData("serve --counter-interval 5")] // no unit
    public void Parse_InvalidArguments_AreErrors(string args) =>
        Assert.NotEmpty(WsctlCommand.Create().Parse(args).Errors);

    [Fact]
    public void Help_Serve_ShowsExamplesAndExitCodes()
    {
        var serve = WsctlCommand.Create().Subcommands.Single(c => c.Name == "serve");
        Assert.Contains("Examples:", serve.Description);
        Assert.Contains("Exit codes:", serve.Description);
    }

    [Fact]
    public async Task MdnsInterfaceUnusable_Exit1BeforeListening()
    {
        var result = await WsctlProcess.RunAsync(
            ["serve", "--port", "0", "--mdns-name", "x", "--interface", "no-such-if0"],
            timeout: TimeSpan.FromSeconds(60));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no network interface named 'no-such-if0'", result.Stderr);
        Assert.DoesNotContain("listening", result.Stderr);
    }
}
