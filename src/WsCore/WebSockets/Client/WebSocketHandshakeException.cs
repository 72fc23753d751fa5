using WsCore.WebSockets.Protocol;

namespace WsCore.WebSockets.Client;

/// <summary>
/// The server answered the opening handshake (RFC 6455 §4.1) with something other than a valid 101: a
/// <see cref="FailureKind.HandshakeRejected"/> that keeps the response, so callers can tell a full device (503) from
/// other refusals and show its headers.
/// </summary>
public sealed class WebSocketHandshakeException : WsCoreException
{
    /// <summary>
    /// Creates the exception for <paramref name="response"/>; <paramref name="message"/> starts with its status.
    /// </summary>
    public WebSocketHandshakeException(string message, HttpResponseHead response, string? hint = null)
        : base(FailureKind.HandshakeRejected, message, hint)
    {
        Response = response;
    }

    /// <summary>The server's response head (status line and headers).</summary>
    public HttpResponseHead Response { get; }

    /// <summary>The response's status code (e.g. 503 when the server is full).</summary>
    public int StatusCode => Response.StatusCode;
}
