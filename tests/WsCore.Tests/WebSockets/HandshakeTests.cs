using System.Text;
using WsCore.WebSockets.Protocol;

namespace WsCore.Tests.WebSockets;

/// <summary>The opening handshake (RFC 6455 §4), server and client sides.</summary>
public class HandshakeTests
{
    private static HttpRequestHead Parse(string text)
    {
        Assert.Equal(
            HttpParseStatus.Complete,
            HttpRequestHead.TryParse(Encoding.ASCII.GetBytes(text), 8192, out var head, out _));
        return head!;
    }

    private const string Valid = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n" +
                                 "Connection: Upgrade\r\n" +
                                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

    [Fact]
    public void ComputeAccept_Rfc13SampleKey_GivesSampleAccept() =>
        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", ServerHandshake.ComputeAccept("dGhlIHNhbXBsZSBub25jZQ=="));

    [Fact]
    public void Evaluate_ValidRequest_UpgradesWithSampleAccept()
    {
        var decision = ServerHandshake.Evaluate(Parse(Valid));
        Assert.Equal(HandshakeOutcome.Upgrade, decision.Outcome);
        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", decision.Accept);
        var response = Encoding.ASCII.GetString(ServerHandshake.BuildUpgradeResponse(decision.Accept!, null));
        Assert.StartsWith("HTTP/1.1 101 Switching Protocols\r\n", response);
        Assert.Contains("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n", response);
        Assert.EndsWith("\r\n\r\n", response);
    }

    [Fact]
    public void Evaluate_LowerCaseNamesAndConnectionTokenList_Upgrades()
    {
        var request = Parse("GET / HTTP/1.1\r\nhost: x\r\nupgrade: WebSocket\r\nconnection: keep-alive, Upgrade\r\n" +
                            "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n");
        Assert.Equal(HandshakeOutcome.Upgrade, ServerHandshake.Evaluate(request).Outcome);
    }

    [Theory]
    [InlineData("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "", 400)]                       // no key
    [InlineData("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "Sec-WebSocket-Key: c2hvcnQ=\r\n", 400)] // 5 bytes
    [InlineData(
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "Sec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!!==\r\n", 400)]
    [InlineData("Host: server.example.com\r\n", "", 400)]                                          // no Host
    [InlineData("Connection: Upgrade\r\n", "Connection: keep-alive\r\n", 400)]
    [InlineData("Sec-WebSocket-Version: 13\r\n", "Sec-WebSocket-Version: 8\r\n", 426)]
    [InlineData("Sec-WebSocket-Version: 13\r\n", "", 426)]
    [InlineData("GET /chat", "POST /chat", 400)]
    public void Evaluate_BrokenRequest_IsRejectedWithStatus(string replace, string with, int status)
    {
        var decision = ServerHandshake.Evaluate(Parse(Valid.Replace(replace, with)));
        Assert.Equal(HandshakeOutcome.Reject, decision.Outcome);
        Assert.Equal(status, decision.StatusCode);
    }

    [Fact]
    public void BuildErrorResponse_426_NamesVersion13()
    {
        var text = Encoding.ASCII.GetString(ServerHandshake.BuildErrorResponse(426, "wrong version"));
        Assert.StartsWith("HTTP/1.1 426 Upgrade Required\r\n", text);
        Assert.Contains("\r\nSec-WebSocket-Version: 13\r\n", text);
    }

    [Fact]
    public void Evaluate_PlainGet_IsPageRequest() =>
        Assert.Equal(
            HandshakeOutcome.PageRequest, ServerHandshake.Evaluate(Parse("GET / HTTP/1.1\r\nHost: x\r\n\r\n")).Outcome);

    [Fact]
    public void Evaluate_Subprotocols_PicksServersFirstChoiceThatClientOffers()
    {
        var request = Parse(Valid.Replace(
            "\r\n\r\n", "\r\nSec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Protocol: json\r\n\r\n"));
        Assert.Equal("json", ServerHandshake.Evaluate(request, ["json", "chat"]).Subprotocol);
        Assert.Equal("chat", ServerHandshake.Evaluate(request, ["mqtt", "chat"]).Subprotocol);
        Assert.Null(ServerHandshake.Evaluate(request, ["mqtt"]).Subprotocol);
    }

    [Fact]
    public void TryParse_HeadInPieces_NeedsMoreUntilBlankLine()
    {
        var bytes = Encoding.ASCII.GetBytes(Valid + "\x81");
        for (var have = 0; have < Valid.Length; have++)
            Assert.Equal(
                HttpParseStatus.NeedMoreData, HttpRequestHead.TryParse(bytes.AsSpan(0, have), 8192, out _, out _));
        Assert.Equal(HttpParseStatus.Complete, HttpRequestHead.TryParse(bytes, 8192, out _, out var headLength));
        Assert.Equal(Valid.Length, headLength);
    }

    [Fact]
    public void TryParse_OverTheLimit_IsTooLarge()
    {
        var bytes = Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nX-Filler: " + new string('a', 9000));
        Assert.Equal(HttpParseStatus.TooLarge, HttpRequestHead.TryParse(bytes, 8192, out _, out _));
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost : x\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n")]
    [InlineData("GET /\r\nHost: x\r\n\r\n")]
    [InlineData("HELLO\r\n\r\n")]
    public void TryParse_MalformedHead_IsMalformed(string text) =>
        Assert.Equal(
            HttpParseStatus.Malformed, HttpRequestHead.TryParse(Encoding.ASCII.GetBytes(text), 8192, out _, out _));

    [Fact]
    public void ClientValidate_GoodAnswer_Passes()
    {
        var key = ClientHandshake.CreateKey();
        Assert.Equal(24, key.Length);
        var answer = Encoding.ASCII.GetBytes("HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\n" +
                                             "connection: upgrade\r\n" +
                                             $"sec-websocket-accept: {ServerHandshake.ComputeAccept(key)}\r\n\r\n");
        Assert.Equal(HttpParseStatus.Complete, HttpResponseHead.TryParse(answer, 8192, out var response, out _));
        Assert.Null(ClientHandshake.Validate(response!, key, null, out _));
    }

    [Fact]
    public void ClientValidate_WrongAccept_Fails()
    {
        var answer = Encoding.ASCII.GetBytes("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n" +
                                             "Connection: Upgrade\r\n" +
                                             "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
        HttpResponseHead.TryParse(answer, 8192, out var response, out _);
        Assert.Contains(
            "Sec-WebSocket-Accept", ClientHandshake.Validate(response!, ClientHandshake.CreateKey(), null, out _));
    }

    [Fact]
    public void ClientValidate_503_ReturnsStatus()
    {
        var answer = Encoding.ASCII.GetBytes("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\n\r\n");
        HttpResponseHead.TryParse(answer, 8192, out var response, out _);
        Assert.Equal(
            "503 Service Unavailable", ClientHandshake.Validate(response!, ClientHandshake.CreateKey(), null, out _));
    }

    [Fact]
    public void BuildRequest_Uri_HasHostPortPathAndKey()
    {
        var text = Encoding.ASCII.GetString(ClientHandshake.BuildRequest(
            new Uri("ws://device.local:8080/ws?x=1"), "dGhlIHNhbXBsZSBub25jZQ==", ["chat"]));
        Assert.StartsWith("GET /ws?x=1 HTTP/1.1\r\nHost: device.local:8080\r\n", text);
        Assert.Contains("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", text);
        Assert.Contains("Sec-WebSocket-Protocol: chat\r\n", text);
        Assert.Equal(HandshakeOutcome.Upgrade, ServerHandshake.Evaluate(Parse(text)).Outcome);
    }
}
