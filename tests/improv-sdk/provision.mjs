// Drives an Improv serial device with the npm improv-wifi-serial-sdk, ESP Web Tools' own client, through a serial
// device path (the firmware host build's pty) standing in for the browser's Web Serial port.
//
//   node provision.mjs --port PATH [--ssid NAME] [--scan] [--timeout-ms MS]
//
// The password comes from the environment variable IMPROV_PASS (never the command line). Prints one JSON object on
// stdout: {"info":{...},"state":N,"url":...,"networks":[...]} or {"error":"UNABLE_TO_CONNECT",...}; exit 0 when the
// SDK reported no error, 1 otherwise.
import { register } from "node:module";
import { openSync, constants } from "node:fs";
import tty from "node:tty";
import { parseArgs } from "node:util";

register("./sdk-loader.mjs", import.meta.url);
// The browser's CustomEvent, which the SDK dispatches; global in Node 19 and later, added here for Node 18.
globalThis.CustomEvent ??= class CustomEvent extends Event {
  constructor(type, options) {
    super(type, options);
    this.detail = options?.detail ?? null;
  }
};
const { ImprovSerial } = await import("improv-wifi-serial-sdk/dist/serial.js");

const { values } = parseArgs({
  options: {
    port: { type: "string" },
    ssid: { type: "string" },
    scan: { type: "boolean", default: false },
    "timeout-ms": { type: "string", default: "10000" },
  },
});

// A Web Serial SerialPort as far as the SDK uses one: a byte ReadableStream and a WritableStream, over the pty
// (which the host build put in raw mode, as a UART is) through libuv's non-blocking tty handles.
function openPort(path) {
  const fd = openSync(path, constants.O_RDWR | constants.O_NOCTTY);
  const input = new tty.ReadStream(fd);
  const output = new tty.WriteStream(fd);
  const readable = new ReadableStream({
    start(controller) {
      input.on("data", (chunk) => controller.enqueue(new Uint8Array(chunk)));
      input.on("end", () => controller.close());
      input.on("error", (err) => controller.error(err));
    },
    cancel() {
      input.destroy();
    },
  });
  const writable = new WritableStream({
    write(chunk) {
      return new Promise((resolve, reject) => output.write(chunk, (err) => (err ? reject(err) : resolve())));
    },
  });
  return { readable, writable };
}

const quiet = { log() {}, debug() {}, error: (...a) => console.error(...a) };
const result = {};
let code = 0;
try {
  const port = openPort(values.port);
  const improv = new ImprovSerial(port, quiet);
  const timeout = Number(values["timeout-ms"]);
  result.info = await improv.initialize(timeout);
  result.state = improv.state;
  if (values.scan) {
    result.networks = await improv.scan(timeout);
  }
  if (values.ssid !== undefined) {
    await improv.provision(values.ssid, process.env.IMPROV_PASS ?? "", timeout);
    result.state = improv.state;
  }
  result.url = improv.nextUrl ?? null;
} catch (err) {
  result.error = String(err?.message ?? err);
  code = 1;
}
process.stdout.write(JSON.stringify(result) + "\n", () => process.exit(code));
