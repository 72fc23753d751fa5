#!/usr/bin/python3
"""The heap a 64 KiB echo costs the server, measured with valgrind massif (a gate of run-tests.sh).

Starts `ws_server_host --port 0 --echo --counter-interval-ms 0` under `valgrind --tool=massif --time-unit=B
--peak-inaccuracy=0`. With time counted in bytes allocated and freed, massif keeps a snapshot of every allocation
and free until it first has to merge snapshots (at --max-snapshots, 1000); the run stays far below that, and the
script checks it (fewer than 500 snapshots: massif merges down to half of the maximum, never below). One client
opens, has a 1-byte message echoed (the server's first message allocates the stdio buffer it prints through, which
is not an echo's cost), then two binary messages of SIZE bytes (default 65536, the firmware's largest), each echo
read back whole; between them a 1-byte marker, and the second big message leaves only once the server has printed
the marker: its application task prints and frees each message before it takes the next, so by then the first is
freed. It closes, and the server is stopped with SIGINT.

The figure: massif's peak heap (bytes in use plus malloc's overhead) minus the heap the server held between the two
big echoes (the lowest snapshot between the first and the last one within SIZE/2 of the peak). Exits 1 when it
exceeds MAX_RATIO x SIZE.

usage: measure_echo_heap.py path/to/ws_server_host [--size BYTES] [--max-ratio R]
"""
import argparse, base64, os, queue, re, signal, socket, struct, subprocess, sys, tempfile, threading

args = argparse.ArgumentParser()
args.add_argument("exe")
args.add_argument("--size", type=int, default=65536)
args.add_argument("--max-ratio", type=float, default=1.25)
opt = args.parse_args()


def frame(opcode, payload):
    key = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = bytes([0x80 | opcode, 0x80 | n])
    elif n < 65536:
        head = bytes([0x80 | opcode, 0x80 | 126]) + struct.pack("!H", n)
    else:
        head = bytes([0x80 | opcode, 0x80 | 127]) + struct.pack("!Q", n)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def read_frame(s, buf):
    """One server frame from s (buf: bytes already read); returns (opcode, payload, rest)."""
    while True:
        if len(buf) >= 2:
            n, at = buf[1] & 0x7F, 2
            if n == 126 and len(buf) >= 4:
                n, at = struct.unpack("!H", buf[2:4])[0], 4
            elif n == 127 and len(buf) >= 10:
                n, at = struct.unpack("!Q", buf[2:10])[0], 10
            if n < 126 or at > 2:
                if len(buf) >= at + n:
                    return buf[0] & 0x0F, buf[at:at + n], buf[at + n:]
        chunk = s.recv(1 << 16)
        if not chunk:
            raise EOFError("the server closed the connection")
        buf += chunk


out = tempfile.mktemp(suffix=".massif")
server = subprocess.Popen(["valgrind", "--tool=massif", "--time-unit=B", "--max-snapshots=1000",
                           "--peak-inaccuracy=0.0", "--massif-out-file=" + out, opt.exe, "--port", "0", "--echo",
                           "--counter-interval-ms", "0", "--max-message", str(max(opt.size, 65536))],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
printed = queue.Queue()  # the lines the server prints, one per message (read at once: a long one fills the pipe)
threading.Thread(target=lambda: [printed.put(line.rstrip("\n")) for line in server.stdout], daemon=True).start()
port = None
while port is None:
    line = server.stderr.readline()
    if not line:
        sys.exit("measure_echo_heap: the server did not start")
    m = re.match(r"listening on port (\d+)", line)
    port = int(m.group(1)) if m else None

s = socket.create_connection(("127.0.0.1", port), timeout=60)
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
          + base64.b64encode(os.urandom(16)) + b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
head = b""
while b"\r\n\r\n" not in head:
    head += s.recv(4096)
rest = head.partition(b"\r\n\r\n")[2]
message = os.urandom(opt.size)
for payload in (b"w", message, b"m", message):
    s.sendall(frame(2, payload))
    op, echoed, rest = read_frame(s, rest)
    if (op, echoed) != (2, payload):
        sys.exit(f"measure_echo_heap: the echo of {len(payload)} bytes came back as opcode {op}, {len(echoed)} bytes")
    while payload == b"m" and printed.get(timeout=60) != "binary 1:6d":
        pass  # the marker printed: every message before it is freed
s.sendall(frame(8, struct.pack("!H", 1000)))
op, _, rest = read_frame(s, rest)
s.close()
server.send_signal(signal.SIGINT)
server.wait(60)

text = open(out).read()
os.unlink(out)
heap = [int(used) + int(extra) for used, extra in re.findall(r"mem_heap_B=(\d+)\nmem_heap_extra_B=(\d+)", text)]
if len(heap) >= 500:
    sys.exit(f"measure_echo_heap: {len(heap)} snapshots: massif may have merged some; the figure would not be exact")
peak = max(heap)
high = [i for i, h in enumerate(heap) if h > peak - opt.size // 2]
between = min(heap[high[0]:high[-1] + 1])
if between > peak - opt.size // 2:
    sys.exit("measure_echo_heap: no fall between the two echoes in massif's snapshots")
cost = peak - between
ratio = cost / opt.size
ok = ratio <= opt.max_ratio
print(f"measure_echo_heap: echo of {opt.size} B: peak heap {peak} B, {cost} B above the {between} B held "
      f"between two echoes = {ratio:.3f} x the message (limit {opt.max_ratio} x: {'within' if ok else 'OVER'}; "
      f"{len(heap)} snapshots)")
sys.exit(0 if ok else 1)
