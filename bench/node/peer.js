// node's `ws`: the same echo and relay behaviours as `wsctl serve --echo` / `--relay`.
// Usage: node peer.js --port P --mode echo|relay [--compress]
'use strict';
const { WebSocketServer } = require('ws');

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
};
const port = Number(arg('--port', '8080'));
const relay = arg('--mode', 'echo') === 'relay';

// perMessageDeflate off, as in wsctl serve and Kestrel by default: those benchmarks compare framing and I/O. With
// --compress on (as serve --compress): threshold 0 compresses every message as wsctl and Kestrel do (ws's default
// skips those under 1 KiB), zlib's defaults otherwise, as theirs.
const deflate = process.argv.includes('--compress') ? { threshold: 0 } : false;
const server = new WebSocketServer({ port, perMessageDeflate: deflate, maxPayload: 16 * 1024 * 1024 });
server.on('connection', (socket) => {
  socket.on('message', (data, isBinary) => {
    if (!relay) {
      socket.send(data, { binary: isBinary });
      return;
    }
    for (const client of server.clients) {
      if (client.readyState === 1) client.send(data, { binary: isBinary });
    }
  });
  socket.on('error', () => {});
});
server.on('listening', () => process.stderr.write(`node ws peer listening on ${port} (${relay ? 'relay' : 'echo'})\n`));
