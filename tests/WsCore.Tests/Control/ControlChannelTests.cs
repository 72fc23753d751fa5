using System.Net.Sockets;
using System.Text;
using WsCore.Control;

namespace WsCore.Tests.Control;

public sealed class ControlChannelTests : IDisposable
{
    private readonly string _runtimeDir = Directory.CreateTempSubdirectory("wsctl-ctl-test").FullName;

    public void Dispose() => Directory.Delete(_runtimeDir, recursive: true);

    /// <summary>Records what the server was asked, and answers like a server with clients 1 and 2.</summary>
    private sealed class RecordingHandler : IControlHandler
    {
        public List<(int Client, string Text, bool Binary)> Sent { get; } = [];

        public ValueTask<int> BroadcastAsync(ReadOnlyMemory<byte> payload, bool binary, CancellationToken cancel)
        {
            lock (Sent)
                Sent.Add((-1, Encoding.UTF8.GetString(payload.Span), binary));
            return ValueTask.FromResult(2);
        }

        public ValueTask<bool> SendAsync(
            int clientId, ReadOnlyMemory<byte> payload, bool binary, CancellationToken cancel)
        {
            if (clientId is not (1 or 2))
                return ValueTask.FromResult(false);
            lock (Sent)
                Sent.Add((clientId, Encoding.UTF8.GetString(payload.Span), binary));
            return ValueTask.FromResult(true);
        }

        public IReadOnlyList<ControlClientInfo> ListClients() =>
        [
            new(1, "127.0.0.1:40001", DateTimeOffset.UnixEpoch, 3, 4),
            new(2, "[::1]:40002", DateTimeOffset.UnixEpoch, 0, 1),
        ];
    }

    /// <summary>
    /// A handler whose broadcast waits until the test lets it go, and whose send fails the way a server's bug would.
    /// </summary>
    private sealed class SlowAndFaultyHandler : IControlHandler
    {
        public TaskCompletionSource BroadcastStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource LetBroadcastFinish { get; } =
            new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool BroadcastFinished { get; private set; }

        public async ValueTask<int> BroadcastAsync(ReadOnlyMemory<byte> payload, bool binary, CancellationToken cancel)
        {
            BroadcastStarted.SetResult();
            await LetBroadcastFinish.Task;
            BroadcastFinished = true;
            return 1;
        }

        public ValueTask<bool> SendAsync(
            int clientId, ReadOnlyMemory<byte> payload, bool binary, CancellationToken cancel) =>
            throw new InvalidOperationException("the client table is gone");

        public IReadOnlyList<ControlClientInfo> ListClients() => [];
    }

    private static readonly CancellationToken Timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token;

    [Fact]
    public async Task Dispose_WhileAHandlerCallIsUnderWay_WaitsForIt_AndItIsStillAnswered()
    {
        var handler = new SlowAndFaultyHandler();
        var path = ControlSocketPath.For(9006, _runtimeDir);
        var server = await ControlServer.StartAsync(path, handler);
        await using var client = await ControlClient.ConnectAsync(9006, Timeout, path);
        var request = client.RequestAsync(
            new ControlRequest(ControlOperation.Broadcast, 0, "slow"u8.ToArray(), false), Timeout);
        await handler.BroadcastStarted.Task.WaitAsync(Timeout);

        var disposing = server.DisposeAsync().AsTask();
        // Dispose must still be waiting for the handler; give it a moment to (wrongly) finish first.
        Assert.NotSame(disposing, await Task.WhenAny(disposing, Task.Delay(300, Timeout)));
        handler.LetBroadcastFinish.SetResult();
        await disposing.WaitAsync(Timeout);

        Assert.True(handler.BroadcastFinished);
        Assert.False(File.Exists(path));
        // What the handler did is still answered.
        Assert.Equal(1, (await request.WaitAsync(Timeout)).Delivered);
    }

    [Fact]
    public async Task HandlerFault_IsAnsweredAsAnErrorLine_AndTheConnectionKeepsServing()
    {
        var path = ControlSocketPath.For(9007, _runtimeDir);
        await using var server = await ControlServer.StartAsync(path, new SlowAndFaultyHandler());
        await using var client = await ControlClient.ConnectAsync(9007, Timeout, path);

        var failed = await client.RequestAsync(
            new ControlRequest(ControlOperation.Send, 3, "x"u8.ToArray(), false), Timeout);
        var list = await client.RequestAsync(new ControlRequest(ControlOperation.List, 0, default, false), Timeout);

        Assert.False(failed.Ok);
        Assert.Equal("send failed: the client table is gone", failed.Error);
        Assert.True(list.Ok);
    }

    [Fact]
    public void SocketPath_UnderXdgRuntimeDir_IsWsctlServePortSock_AndANamespacesOwnNamesIt()
    {
        Assert.Equal(Path.Combine("/run/user/1000", "wsctl", "serve-8080.sock"),
            ControlSocketPath.For(8080, "/run/user/1000"));
        Assert.Equal(Path.Combine("/run/user/1000", "wsctl", "serve-8080.net4026531840.sock"),
            ControlSocketPath.ForNamespace(8080, "4026531840", "/run/user/1000"));
    }

    [Fact]
    public async Task PeerNetworkNamespace_OfAServerInThisProcess_IsThisProcesssNamespace()
    {
        var own = ControlSocketPath.OwnNetworkNamespace();
        Assert.NotNull(own);
        await using var server = await ControlServer.StartAsync(9011, new RecordingHandler(), null, _runtimeDir);
        // A serve in this namespace takes the plain name, and a client here proves the server is its own.
        Assert.Equal(ControlSocketPath.For(9011, _runtimeDir), server.SocketPath);
        using var probe = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix,
            System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        await probe.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(server.SocketPath));
        Assert.Equal(own, ControlSocketPath.PeerNetworkNamespace(probe));
    }

    [Fact]
    public async Task Start_OverAFileWithData_RefusedAndTheFileKept()
    {
        var path = ControlSocketPath.For(9008, _runtimeDir);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, "notes", Timeout);

        var error = await Assert.ThrowsAsync<WsCoreException>(() => ControlServer.StartAsync(
            path, new RecordingHandler()));

        Assert.Contains("in the way of the control socket", error.Message);
        Assert.Equal("notes", await File.ReadAllTextAsync(path, Timeout));
    }

    [Fact]
    public async Task Start_OverADirectory_Refused()
    {
        var path = ControlSocketPath.For(9009, _runtimeDir);
        Directory.CreateDirectory(path);

        var error = await Assert.ThrowsAsync<WsCoreException>(() => ControlServer.StartAsync(
            path, new RecordingHandler()));

        Assert.Contains("in the way of the control socket", error.Message);
        Assert.True(Directory.Exists(path));
    }

    [Fact]
    public async Task Start_OverALinkToAStaleSocket_RefusedAndNeitherRemoved()
    {
        // A link is never followed: what it points to may be anywhere.
        var stale = Path.Combine(_runtimeDir, "elsewhere.sock");
        MakeStaleSocket(stale);
        var path = ControlSocketPath.For(9010, _runtimeDir);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.CreateSymbolicLink(path, stale);

        await Assert.ThrowsAsync<WsCoreException>(() => ControlServer.StartAsync(path, new RecordingHandler()));

        Assert.NotNull(new FileInfo(path).LinkTarget);
        Assert.True(File.Exists(stale));
    }

    // A server that died without cleaning up: python binds the socket and exits without unlinking it (.NET's own
    // Socket would remove the file on dispose).
    private static void MakeStaleSocket(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var crashed = System.Diagnostics.Process.Start("/usr/bin/python3",
            ["-c", "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])", path])!;
        Assert.True(crashed.WaitForExit(10_000));
        Assert.True(File.Exists(path));
    }

    [Fact]
    public async Task Start_CreatesSocket0600InDirectory0700_AndDisposeRemovesIt()
    {
        var path = ControlSocketPath.For(8080, _runtimeDir);
        await using (var server = await ControlServer.StartAsync(path, new RecordingHandler()))
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute,
                File.GetUnixFileMode(Path.GetDirectoryName(path)!));
        }
        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task Requests_BroadcastSendList_AreAnsweredInOrderOnOneConnection()
    {
        var handler = new RecordingHandler();
        var path = ControlSocketPath.For(9001, _runtimeDir);
        await using var server = await ControlServer.StartAsync(path, handler);
        await using var client = await ControlClient.ConnectAsync(9001, Timeout, path);

        var broadcast = await client.RequestAsync(
            new ControlRequest(ControlOperation.Broadcast, 0, "to all"u8.ToArray(), false), Timeout);
        Assert.True(broadcast.Ok);
        Assert.Equal(2, broadcast.Delivered);

        var send = await client.RequestAsync(
            new ControlRequest(ControlOperation.Send, 2, new byte[] { 0, 1, 0xFF }, true), Timeout);
        Assert.True(send.Ok);

        var missing = await client.RequestAsync(
            new ControlRequest(ControlOperation.Send, 7, "x"u8.ToArray(), false), Timeout);
        Assert.False(missing.Ok);
        Assert.Contains("no client 7", missing.Error);

        var list = await client.RequestAsync(new ControlRequest(ControlOperation.List, 0, default, false), Timeout);
        Assert.Equal([1, 2], list.Clients!.Select(c => c.Id));
        Assert.Equal("[::1]:40002", list.Clients![1].Remote);

        Assert.Equal((-1, "to all", false), handler.Sent[0]);
        Assert.Equal(2, handler.Sent[1].Client);
        Assert.True(handler.Sent[1].Binary);
    }

    [Fact]
    public async Task MalformedRequestLine_GetsAnError_AndTheConnectionKeepsServing()
    {
        var path = ControlSocketPath.For(9002, _runtimeDir);
        await using var server = await ControlServer.StartAsync(path, new RecordingHandler());
        using var raw = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await raw.ConnectAsync(new UnixDomainSocketEndPoint(path), Timeout);
        await raw.SendAsync(
            "{not json\n{\"op\":\"explode\"}\n{\"op\":\"list\"}\n"u8.ToArray(), SocketFlags.None, Timeout);
        var lines = new List<string>();
        var buffer = new byte[4096];
        var text = "";
        while (lines.Count < 3)
        {
            var n = await raw.ReceiveAsync(buffer, SocketFlags.None, Timeout);
            Assert.NotEqual(0, n);
            text += Encoding.UTF8.GetString(buffer, 0, n);
            lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        }
        var answers = lines.Select(l => ControlProtocol.DecodeResponse(Encoding.UTF8.GetBytes(l))).ToList();
        Assert.Contains("malformed request", answers[0].Error);
        Assert.Contains("unknown operation 'explode'", answers[1].Error);
        Assert.True(answers[2].Ok);
    }

    [Fact]
    public async Task Start_OverAStaleSocketFile_ReplacesIt()
    {
        var path = ControlSocketPath.For(9003, _runtimeDir);
        MakeStaleSocket(path);

        await using var server = await ControlServer.StartAsync(path, new RecordingHandler());
        await using var client = await ControlClient.ConnectAsync(9003, Timeout, path);
        Assert.True((await client.RequestAsync(
            new ControlRequest(ControlOperation.List, 0, default, false), Timeout)).Ok);
    }

    [Fact]
    public async Task Start_WhileAnotherServerOwnsThePath_IsRefusedWithAClearMessage()
    {
        var path = ControlSocketPath.For(9004, _runtimeDir);
        await using var first = await ControlServer.StartAsync(path, new RecordingHandler());
        var error = await Assert.ThrowsAsync<WsCoreException>(() => ControlServer.StartAsync(
            path, new RecordingHandler()));
        Assert.Contains("another server", error.Message);
        Assert.Equal(InputField.ListenPort, error.Field);
        Assert.True(File.Exists(path), "the live server's socket must survive the refused start");
    }

    [Fact]
    public async Task Connect_WithNoServer_FailsAsConnectionFailedWithAHint()
    {
        var error = await Assert.ThrowsAsync<WsCoreException>(
            () => ControlClient.ConnectAsync(9005, Timeout, ControlSocketPath.For(9005, _runtimeDir)));
        Assert.Equal(FailureKind.ConnectionFailed, error.Kind);
        Assert.Equal(InputField.ServePort, error.Field);
        // The command line names the verb that starts a server, on the port the verb was given.
        var parse = Wsctl.WsctlCommand.Create().Parse(["send", "--client", "1", "hi", "--port", "9005"]);
        var (message, hint) = Wsctl.Cli.InputFlags.Describe(error, parse);
        Assert.StartsWith("--port: no server is running on port 9005", message);
        Assert.Contains("wsctl serve --port 9005", hint);
    }
}
