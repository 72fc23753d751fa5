using System.Text;
using WsCore;
using WsCore.Control;
using WsCore.WebSockets.Protocol;
using Wsctl.Cli;

namespace Wsctl.Send;

/// <summary><c>wsctl send --client ID</c>: through serve's control socket, to one of its clients.</summary>
public static class ServeClientSend
{
    public static async Task<ExitCode> RunAsync(int port, int clientId, Outgoing messages, bool jsonOutput,
        Stream stdout, CancellationToken cancel)
    {
        await using var control = await ControlClient.ConnectAsync(port, cancel);
        var sent = 0;
        await foreach (var message in messages.ReadAsync(cancel))
        {
            var answer = await control.RequestAsync(
                new ControlRequest(ControlOperation.Send, clientId, message, messages.Type == MessageType.Binary),
                cancel);
            // No such client is the caller's mistake (a wrong id), so a usage error like any other bad argument.
            if (!answer.Ok)
                throw new WsCoreException(FailureKind.InvalidInput, answer.Error ?? "the server refused the message",
                    $"wsctl broadcast --list --port {port} shows the connected clients");
            sent++;
        }
        if (jsonOutput)
            new JsonLines(stdout).WriteResult(ExitCode.Ok, more: w =>
            {
                w.WriteNumber("client", clientId);
                w.WriteNumber("sent", sent);
            });
        else
            stdout.Write(Encoding.UTF8.GetBytes($"sent {sent} message(s) to client {clientId}\n"));
        return ExitCode.Ok;
    }
}
