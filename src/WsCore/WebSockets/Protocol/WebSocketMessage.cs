using System.Text;

namespace WsCore.WebSockets.Protocol;

/// <summary>
/// A whole received message, text or binary, its payload in a pooled buffer: what
/// <see cref="Client.WebSocketClient.ReceiveAsync"/> returns and what a server's <see cref="Server.MessageReceived"/>
/// event carries. Dispose it when done (not disposing is safe, only slower: the buffer is then not reused).
/// </summary>
public sealed class WebSocketMessage : IDisposable
{
    private RentedMessage _message;

    internal WebSocketMessage(MessageType type, RentedMessage message)
    {
        Type = type;
        _message = message;
    }

    /// <summary>Text or binary.</summary>
    public MessageType Type { get; }

    /// <summary>The message's bytes (UTF-8 for text, already validated). Invalid after <see cref="Dispose"/>.</summary>
    public ReadOnlyMemory<byte> Payload => _message.Memory;

    /// <summary>The payload decoded as UTF-8.</summary>
    public string GetText() => Encoding.UTF8.GetString(Payload.Span);

    /// <summary>Returns the payload's buffer to the pool.</summary>
    public void Dispose()
    {
        var message = _message;
        _message = default;
        message.Return();
    }
}
