#!/usr/bin/python3
"""Measures the server's heap with valgrind massif for the README's "RAM per client" (not a test gate).

For each scenario it starts `ws_server_host --port 0 --counter-interval-ms 0 --max-clients 4` under
`valgrind --tool=massif`, opens N clients one after another (so at most one 2 KiB handshake buffer exists at a
time), lets each send a frame header announcing 64 KiB plus K payload bytes, holds them, closes them, stops the
server and reports massif's peak heap (the held state is the peak) minus the peak of the same run with 0 clients.
Heap figures are the 64-bit host's; struct sizes for the 32-bit target come from riscv64-unknown-elf-gcc (README).

usage: measure_ram.py path/to/ws_server_host [extra server options...]
"""
import base64, os, re, signal, socket, struct, subprocess, sys, tempfile, time

EXE, EXTRA = sys.argv[1], sys.argv[2:]


def run(clients, sent):
    out = tempfile.mktemp(suffix=".massif")
    p = subprocess.Popen(["valgrind", "--tool=massif", "--massif-out-file=" + out, EXE, "--port", "0",
                          "--counter-interval-ms", "0", "--max-clients", "4"] + EXTRA,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    port = None
    while port is None:
        line = p.stderr.readline()
        m = re.match(r"listening on port (\d+)", line)
        port = int(m.group(1)) if m else None
    socks = []
    for _ in range(clients):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
                  + base64.b64encode(os.urandom(16)) + b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            head += s.recv(4096)
        k = os.urandom(4)
        s.sendall(bytes([0x82, 0xFF]) + struct.pack("!Q", 65536) + k
                  + bytes(b ^ k[i % 4] for i, b in enumerate(b"m" * sent)))
        socks.append(s)
    time.sleep(1.0)  # held: every client's partial message is in the server
    for s in socks:
        s.close()
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    p.wait(30)
    text = open(out).read()
    os.unlink(out)
    return max(int(v) + int(e) for v, e in re.findall(r"mem_heap_B=(\d+)\nmem_heap_extra_B=(\d+)", text))


base = run(0, 0)
print(f"baseline peak heap (server, no client): {base} B (incl. malloc overhead)")
for clients, sent in [(1, 0), (4, 0), (4, 1000), (3, 30000)]:
    peak = run(clients, sent)
    print(f"{clients} client(s), 64 KiB announced, {sent} B sent: +{peak - base} B  "
          f"(+{(peak - base) // clients} B each)")
