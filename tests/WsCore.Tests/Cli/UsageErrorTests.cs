using WsCore.Tests.Support;
using Wsctl;

namespace WsCore.Tests.Cli;

/// <summary>
/// A command line that names no verb, a wrong one or a wrong option gets one line saying what is wrong and what
/// would be right, not one line per word (the words after a misspelt verb are its arguments) and not the parser's
/// "Required command was not provided".
/// </summary>
public class UsageErrorTests
{
    [Theory]
    [InlineData("",
        "give a verb: serve, send, broadcast, probe, flash, provision, ota, monitor, device, bench, completion")]
    [InlineData("device", "give a device verb: info, read, erase, verify, partitions, ports")]
    [InlineData("sned x y", "unknown verb 'sned'; did you mean send?")]
    [InlineData("device reed 0 1", "unknown verb 'reed'; did you mean read?")]
    [InlineData("send localhost --wiat 1", "unknown option '--wiat'; did you mean --wait?")]
    [InlineData("send a b c", "unknown argument 'c'")]
    public void OneLine_SayingWhatIsWrong(string line, string expected)
    {
        var parse = WsctlCommand.Create().Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal([expected], Invocation.UsageErrors(parse));
    }

    [Fact]
    public async Task NoVerb_Exit1_TheVerbsOnStderr()
    {
        var result = await WsctlProcess.RunAsync([], timeout: TimeSpan.FromSeconds(60));
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.Stdout);
        Assert.StartsWith("wsctl: give a verb: serve, send,", result.Stderr, StringComparison.Ordinal);
    }
}
