using WsCore.Mdns;
using WsCore.Probe;
using WsCore.Targets;
using WsCore.WebSockets.Client;
using Wsctl;
using Wsctl.Cli;
using Wsctl.Probe;

namespace WsCore.Tests.Probe;

/// <summary>The probe verb's command line and its report rendering, without any network.</summary>
public class ProbeCommandTests
{
    [Theory]
    [InlineData("probe esp32ws.local")]
    [InlineData("probe ws://192.168.1.40:8080/ --count 10 --wait-message 0 --json")]
    [InlineData("probe 10.0.0.7 --port 81 --path /ws --timeout 500ms --interface eth0")]
    [InlineData("probe --discover --timeout 3s --json")]
    [InlineData("serve --mdns-name benchhost --interface eth0")]
    [InlineData("broadcast hello --discover --json")]
    public void Parse_ValidArguments_HaveNoErrors(string args) =>
        Assert.Empty(WsctlCommand.Create().Parse(args).Errors);

    [Theory]
    [InlineData("probe")]
    [InlineData("probe esp32ws.local --discover")]
    [InlineData("probe esp32ws.local --count -1")]
    [InlineData("probe esp32ws.local --timeout 0")]
    [InlineData("probe esp32ws.local --wait-message soon")]
    [InlineData("serve --interface eth0")]
    public void Parse_InvalidArguments_AreErrors(string args) =>
        Assert.NotEmpty(WsctlCommand.Create().Parse(args).Errors);

    [Fact]
    public void Help_Probe_ShowsExamplesAndExitCodes()
    {
        var probe = WsctlCommand.Create().Subcommands.Single(c => c.Name == "probe");
        Assert.Contains("Examples:", probe.Description);
        Assert.Contains("wsctl probe esp32ws.local", probe.Description);
        Assert.Contains("Exit codes:", probe.Description);
        Assert.Contains("  5  handshake rejected", probe.Description);
    }

    [Fact]
    public void ExitCodeOf_FailedStages_IsTheFirstFailuresKind_AndBusyIs5()
    {
        var resolveFailed = new ProbeReport(WebSocketTarget.Parse("gone.local"));
        resolveFailed.Add(new ProbeStageResult(
            ProbeStage.Resolve, false, TimeSpan.FromSeconds(3), "not found", FailureKind.NameNotResolved));
        Assert.Equal(ExitCode.NameNotResolved, ProbeOutput.ExitCodeOf(resolveFailed));
        Assert.StartsWith("resolve   FAILED", ProbeOutput.Text(resolveFailed));
        Assert.Contains("verdict: failed (resolve failed; exit 3)", ProbeOutput.Text(resolveFailed));

        var busy = new ProbeReport(WebSocketTarget.Parse("10.0.0.7")) { DeviceBusy = true };
        busy.Add(new ProbeStageResult(
            ProbeStage.Handshake,
            false,
            TimeSpan.FromMilliseconds(2),
            "503 Service Unavailable",
            FailureKind.HandshakeRejected));
        Assert.Equal(ProbeVerdict.Busy, busy.Verdict);
        Assert.Equal(ExitCode.HandshakeRejected, ProbeOutput.ExitCodeOf(busy));
    }

    [Fact]
    public void Json_OneReport_IsOneLineOneObjectWithVerdictAndExit()
    {
        var report = new ProbeReport(WebSocketTarget.Parse("ws://esp32ws.local:8080/"));
        report.Add(new ProbeStageResult(
            ProbeStage.Resolve, false, TimeSpan.FromSeconds(5), "not found", FailureKind.NameNotResolved));

        using var buffer = new MemoryStream();
        ProbeOutput.Json(new JsonLines(buffer), report);
        var text = System.Text.Encoding.UTF8.GetString(buffer.ToArray());

        Assert.EndsWith("\n", text);
        Assert.Single(text.TrimEnd('\n').Split('\n'));
        using var json = System.Text.Json.JsonDocument.Parse(text);
        Assert.Equal("result", json.RootElement.GetProperty("type").GetString());
        Assert.Equal("failed", json.RootElement.GetProperty("verdict").GetString());
        Assert.Equal(3, json.RootElement.GetProperty("exit_code").GetInt32());
        Assert.Equal("ws://esp32ws.local:8080/", json.RootElement.GetProperty("url").GetString());
        Assert.Equal("not found", json.RootElement.GetProperty("error").GetString());
    }
}
