using System.Text;
using WsCore.WebSockets.Protocol;

namespace WsCore.WebSockets.Client;

/// <summary>A message received by a <see cref="WebSocketClient"/>. Its payload is pooled: dispose it when done.</summary>
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
