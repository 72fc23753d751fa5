using Wsctl.Send;

namespace WsCore.Tests.Send;

/// <summary>The interactive prompt's commands, as wscat's --slash has them.</summary>
public sealed class SlashCommandTests
{
    [Theory]
    [InlineData("hello", SlashCommandKind.Message, "hello", 1000)]
    [InlineData("//etc", SlashCommandKind.Message, "/etc", 1000)]
    [InlineData("/ping", SlashCommandKind.Ping, "", 1000)]
    [InlineData("/ping label", SlashCommandKind.Ping, "label", 1000)]
    [InlineData("/close", SlashCommandKind.Close, "", 1000)]
    [InlineData("/close 4000", SlashCommandKind.Close, "", 4000)]
    [InlineData("/close 1001 going home now", SlashCommandKind.Close, "going home now", 1001)]
    public void Parse(string line, SlashCommandKind kind, string text, int code)
    {
        var command = SlashCommand.Parse(line);
        Assert.Equal(kind, command.Kind);
        Assert.Equal(text, command.Text);
        Assert.Equal(code, command.Code);
    }

    [Theory]
    [InlineData("/close 1005")]
    [InlineData("/close 999")]
    [InlineData("/close abc")]
    [InlineData("/close 70000")]
    [InlineData("/nope")]
    public void Parse_Mistakes_AreShownNotSent(string line)
    {
        var command = SlashCommand.Parse(line);
        Assert.Equal(SlashCommandKind.Show, command.Kind);
    }

    [Fact]
    public void Parse_CloseReasonOverAControlFrame_IsShown() =>
        Assert.Equal(SlashCommandKind.Show, SlashCommand.Parse("/close 1000 " + new string('r', 124)).Kind);
}
