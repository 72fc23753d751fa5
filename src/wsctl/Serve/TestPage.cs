using System.Text;

namespace Wsctl.Serve;

/// <summary>
/// The page <c>wsctl serve</c> answers a plain <c>GET /</c> with: it connects back to the same host and port, shows
/// the counter's value and when it came, lists every message, and sends what is typed. No external resources.
/// </summary>
public static class TestPage
{
    /// <summary>The page as UTF-8.</summary>
    public static readonly byte[] Utf8 = Encoding.UTF8.GetBytes(Html);

    /// <summary>The page's media type.</summary>
    public const string ContentType = "text/html; charset=utf-8";

    private const string Html = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>wsctl serve</title>
        <style>
          body { font-family: system-ui, sans-serif; margin: 2rem; max-width: 48rem; color: #222; }
          h1 { font-size: 1.3rem; }
          #status { font-weight: bold; }
          .open { color: #1a7f37; } .closed { color: #b42318; }
          #counter { font-size: 2.5rem; font-variant-numeric: tabular-nums; }
          #log { font-family: ui-monospace, monospace; font-size: .85rem; border: 1px solid #ccc; padding: .5rem;
                 height: 18rem; overflow-y: auto; list-style: none; margin: 1rem 0; }
          #log li { white-space: pre-wrap; word-break: break-all; }
          .out { color: #175cd3; }
          form { display: flex; gap: .5rem; } #text { flex: 1; padding: .3rem; }
        </style>
        </head>
        <body>
        <h1>wsctl serve: WebSocket test page</h1>
        <p>Socket: <span id="status" class="closed">connecting</span> <span id="url"></span></p>
        <p>Counter: <span id="counter">-</span> <small>received at <span id="counter-time">-</span></small></p>
        <form id="form">
          <input id="text" autocomplete="off" placeholder="a message to send to the server">
          <button id="send" type="submit">Send</button>
        </form>
        <ul id="log"></ul>
        <script>
        "use strict";
        const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/";
        const $ = (id) => document.getElementById(id);
        $("url").textContent = url;
        function log(text, cls) {
          const item = document.createElement("li");
          item.textContent = new Date().toLocaleTimeString() + "  " + text;
          if (cls) item.className = cls;
          $("log").appendChild(item);
          $("log").scrollTop = $("log").scrollHeight;
        }
        function setStatus(text, open) {
          $("status").textContent = text;
          $("status").className = open ? "open" : "closed";
        }
        const ws = new WebSocket(url);
        ws.binaryType = "arraybuffer";
        ws.onopen = () => setStatus("open", true);
        ws.onclose = (e) => setStatus("closed (" + e.code + (e.reason ? " " + e.reason : "") + ")", false);
        ws.onerror = () => log("socket error", "closed");
        ws.onmessage = (e) => {
          if (typeof e.data !== "string") { log("[binary " + e.data.byteLength + " bytes]"); return; }
          log(e.data);
          try {
            const msg = JSON.parse(e.data);
            if (msg && msg.type === "message" && msg.data && msg.data.sensor === "counter") {
              $("counter").textContent = String(msg.data.value);
              $("counter-time").textContent = new Date().toLocaleTimeString();
            }
          } catch (_) { /* not JSON: just a message */ }
        };
        $("form").onsubmit = (e) => {
          e.preventDefault();
          const text = $("text").value;
          if (ws.readyState !== WebSocket.OPEN || text === "") return;
          ws.send(text);
          log("> " + text, "out");
          $("text").value = "";
        };
        </script>
        </body>
        </html>
        """;
}
