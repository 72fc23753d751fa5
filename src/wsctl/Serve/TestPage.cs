using System.Globalization;
using System.Text;

namespace Wsctl.Serve;

/// <summary>
/// The page <c>wsctl serve</c> answers a plain <c>GET /</c> with: it connects back to the same host and port, shows
/// the counter's value and when it came, lists every message, and sends what is typed. When the socket closes or
/// cannot open it says why (the close code and reason, or "server full (503)" from <see cref="StatusPath"/>) and
/// reconnects with backoff. No external resources.
/// </summary>
public static class TestPage
{
    /// <summary>The page as UTF-8.</summary>
    public static readonly byte[] Utf8 = Encoding.UTF8.GetBytes(Html);

    /// <summary>The page's media type.</summary>
    public const string ContentType = "text/html; charset=utf-8";

    /// <summary>
    /// Where the page asks how full the server is: a browser's WebSocket API hides the HTTP status of a refused
    /// handshake (a 503 looks like any lost connection, close 1006), so the page asks serve itself.
    /// </summary>
    public const string StatusPath = "/status";

    /// <summary>The media type of <see cref="Status"/>.</summary>
    public const string StatusContentType = "application/json";

    /// <summary>The answer to <see cref="StatusPath"/>: <c>{"clients":N,"maxClients":M}</c> as UTF-8.</summary>
    public static byte[] Status(int clients, int maxClients) =>
        Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"{{\"clients\":{clients},\"maxClients\":{maxClients}}}"));

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
          <button id="send" type="submit" disabled>Send</button>
        </form>
        <ul id="log"></ul>
        <script>
        "use strict";
        const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/";
        const $ = (id) => document.getElementById(id);
        $("url").textContent = url;
        // RFC 6455 §7.2.3 asks clients to back off before reconnecting: 1 s, doubling up to 30 s, and back to 1 s
        // once a socket opens, so a restarted or freed-up server is found again without hammering it meanwhile.
        const FIRST_DELAY_MS = 1000, MAX_DELAY_MS = 30000;
        let delay = FIRST_DELAY_MS;
        let ws = null;
        let lastProblem = "";
        // What a close code means when the close frame carried no reason (1005 and 1006 never carry one).
        const CLOSE_MEANINGS = {
          1000: "normal closure", 1001: "going away", 1002: "protocol error", 1003: "unsupported data",
          1005: "no status code", 1006: "no close frame: connection lost", 1007: "invalid payload data",
          1008: "policy violation", 1009: "message too big", 1011: "internal server error", 1012: "service restart",
          1013: "try again later",
        };
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
          $("send").disabled = !open;
        }
        // A handshake the server refused (e.g. 503 when --max-clients are connected) reaches the page only as close
        // 1006: browsers hide the HTTP status of a failed WebSocket handshake from scripts. So for a socket that never
        // opened, ask serve how full it is (GET /status, same origin). No answer at all means serve is not running.
        async function whyNotOpened(closed) {
          let response;
          try {
            response = await fetch("/status", { cache: "no-store", signal: AbortSignal.timeout(5000) });
          } catch (_) {
            return "server unreachable";
          }
          try {
            const status = await response.json();
            if (status.clients >= status.maxClients) return "server full (503)";
          } catch (_) { /* not a serve that answers /status: say only what the socket said */ }
          return "could not connect: " + closed;
        }
        // Shows why, logs it unless it is the same as last time (a server down for minutes is one line, not dozens),
        // and counts down to the next attempt.
        function retry(why) {
          if (why !== lastProblem) log(why, "closed");
          lastProblem = why;
          const at = Date.now() + delay;
          delay = Math.min(delay * 2, MAX_DELAY_MS);
          const tick = () => {
            const left = at - Date.now();
            if (left <= 0) { connect(); return; }
            setStatus(why + ", retrying in " + Math.ceil(left / 1000) + "s\u2026", false);
            setTimeout(tick, left % 1000 || 1000);
          };
          tick();
        }
        function connect() {
          setStatus("connecting\u2026", false);
          let opened = false;
          ws = new WebSocket(url);
          ws.binaryType = "arraybuffer";
          ws.onopen = () => {
            opened = true;
            delay = FIRST_DELAY_MS;
            lastProblem = "";
            setStatus("open", true);
            log("open", "open");
          };
          // Every failure ends in a close event (the error event before it carries nothing more), so closes alone
          // drive the reconnecting.
          ws.onclose = async (e) => {
            const closed = "closed " + e.code + " (" + (e.reason || CLOSE_MEANINGS[e.code] || "application code") + ")";
            retry(opened ? closed : await whyNotOpened(closed));
          };
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
        }
        $("form").onsubmit = (e) => {
          e.preventDefault();
          const text = $("text").value;
          if (!ws || ws.readyState !== WebSocket.OPEN || text === "") return;
          ws.send(text);
          log("> " + text, "out");
          $("text").value = "";
        };
        connect();
        </script>
        </body>
        </html>
        """;
}
