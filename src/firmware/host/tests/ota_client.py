"""The client side of wsctl-ota.1 (docs/ota-protocol.md) and a harness that runs ws_server_host --ota-dir the way a
device runs: for the OTA end-to-end tests (drive_ota.py) and the benchmark (../bench_ota.py).

Written from the protocol document, not from the firmware's code: Debian's python3-websockets for the WebSocket
side, hmac/hashlib for the authentication, raw sockets where an HTTP refusal's status and headers matter.

The harness (Device) is the "power supply" of a device: it starts ws_server_host with the same arguments again
whenever the program restarts (exit status 3: esp_restart) or panics (SIGABRT: the "+panic-at-start" image), as the
chip would reset and boot, and keeps the same port, as the device keeps its address.
"""
import asyncio, base64, hashlib, hmac, json, os, signal, socket, struct, subprocess, time

import websockets

PROTOCOL = "wsctl-ota.1"
RESTART = 3  # ws_server_host's exit status for esp_restart()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def make_key(path):
    """A key file as `wsctl flash --ota-key` writes one: 32 random bytes as 64 hex digits, mode 0600."""
    key = os.urandom(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key.hex() + "\n")
    return key


def mac(key, nonce, what, data):
    return hmac.new(key, PROTOCOL.encode() + nonce + what + data, hashlib.sha256).hexdigest()


def begin_message(key, nonce, size, sha256, force=False):
    auth = mac(key, nonce, b"begin", struct.pack(">Q", size) + sha256 + bytes([1 if force else 0]))
    return json.dumps({"type": "begin", "size": size, "sha256": sha256.hex(), "force": force, "auth": auth})


def confirm_message(key, nonce, version, elf_sha256_hex):
    auth = mac(key, nonce, b"confirm", bytes.fromhex(elf_sha256_hex))
    return json.dumps({"type": "confirm", "version": version, "elf_sha256": elf_sha256_hex, "auth": auth})


# ---- otadata, read independently of the firmware (ESP-IDF's esp_ota_select_entry_t and bootloader rules) ----

def otadata_entries(path):
    try:
        data = open(path, "rb").read()
    except FileNotFoundError:
        data = b"\xff" * 8192
    out = []
    for i in range(2):
        seq, label, state, crc = struct.unpack_from("<I20sII", data, i * 4096)
        out.append((seq, state, crc))
    return out


def booting_slot(path):
    """The slot ESP-IDF's bootloader would start from this otadata (two slots, no factory app), before it looks at
    the images: an entry counts when its sequence is set, its crc is binascii.crc32(seq, 0xFFFFFFFF) and it is not
    INVALID (3) or ABORTED (4); PENDING_VERIFY (1) at boot becomes ABORTED; the highest sequence wins."""
    import binascii
    best = None
    for seq, state, crc in otadata_entries(path):
        if state == 1:
            state = 4
        ok = seq != 0xFFFFFFFF and state not in (3, 4) and crc == binascii.crc32(struct.pack("<I", seq), 0xFFFFFFFF)
        if ok and (best is None or seq > best):
            best = seq
    return 0 if best is None else (best - 1) % 2


# ---- the device ----

class Device:
    """ws_server_host --ota-dir DIR on a fixed port, restarted like a chip: see the module's docstring."""

    def __init__(self, exe, workdir, key=True, confirm="30s", chip=None, wrapper=(), label="device"):
        self.exe, self.dir, self.wrapper = exe, workdir, list(wrapper)
        os.makedirs(workdir, exist_ok=True)
        self.key_path = os.path.join(workdir, "key.hex")
        self.key = make_key(self.key_path) if key else None
        self.confirm, self.chip, self.label = confirm, chip, label
        self.port = free_port()
        self.proc = None
        self.runs = 0
        self.exits = []  # exit statuses of the runs that ended (3 restart, -6 panic, 0 stopped)
        self.log_path = None

    @property
    def url(self):
        return f"ws://127.0.0.1:{self.port}/ota"

    def args(self):
        a = self.wrapper + [self.exe, "--port", str(self.port), "--counter-interval-ms", "0", "--ota-dir", self.dir,
                            "--ota-confirm-timeout", self.confirm]
        if self.key is not None:
            a += ["--ota-key", self.key_path]
        if self.chip:
            a += ["--chip", self.chip]
        return a

    def _launch(self, timeout):
        self.runs += 1
        self.log_path = os.path.join(self.dir, f"run-{self.runs}.log")
        log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.args(), stdout=subprocess.DEVNULL, stderr=log)
        log.close()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if "listening on port" in self.log():
                return None
            rc = self.proc.poll()
            if rc is not None:
                self.exits.append(rc)
                return rc
            time.sleep(0.02)
        raise TimeoutError(f"{self.label}: no 'listening on port' in {timeout}s:\n{self.log()}")

    def boot(self, timeout=60, max_resets=5):
        """Powers on (or resets) until the program listens; returns the exit statuses of runs that ended first."""
        ended = []
        for _ in range(max_resets):
            rc = self._launch(timeout)
            if rc is None:
                return ended
            ended.append(rc)
            if rc not in (RESTART, -signal.SIGABRT):
                raise RuntimeError(f"{self.label}: exited {rc} before listening:\n{self.log()}")
        raise RuntimeError(f"{self.label}: reset {max_resets} times in a row")

    def wait_exit(self, timeout=30):
        rc = self.proc.wait(timeout)
        self.exits.append(rc)
        return rc

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=30):
        if not self.alive():
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGINT)
        return self.wait_exit(timeout)

    def kill(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()

    def log(self):
        try:
            return open(self.log_path, errors="replace").read()
        except (TypeError, FileNotFoundError):
            return ""

    def slot_file(self, slot):
        return os.path.join(self.dir, f"ota_{slot}.bin")

    def otadata(self):
        return os.path.join(self.dir, "otadata.bin")


def http_handshake(port, path="/ota", protocols=("wsctl-ota.1",), timeout=10):
    """A raw upgrade request: (status, headers dict (lowercase names), body)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    key = base64.b64encode(os.urandom(16)).decode()
    req = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n")
    if protocols:
        req += "Sec-WebSocket-Protocol: " + ", ".join(protocols) + "\r\n"
    s.sendall((req + "\r\n").encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode(errors="replace").split("\r\n")
    status = int(lines[0].split()[1]) if lines and len(lines[0].split()) > 1 else 0
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    body = rest
    if status != 101:
        want = int(headers.get("content-length", "0"))
        while len(body) < want:
            chunk = s.recv(4096)
            if not chunk:
                break
            body += chunk
    s.close()
    return status, headers, body.decode(errors="replace")


def connect(url, **kw):
    return websockets.connect(url, subprotocols=[PROTOCOL], max_size=None, ping_interval=None, open_timeout=20,
                              close_timeout=10, **kw)


class Upload:
    """What one upload saw: messages in order, the close code, the time from begin to the last answer."""

    def __init__(self):
        self.hello, self.messages, self.close_code, self.seconds, self.sent = None, [], None, 0.0, 0

    def last(self):
        return self.messages[-1] if self.messages else {}

    def types(self):
        return [m.get("type") for m in self.messages]


async def upload(url, key, image, *, size=None, sha256=None, force=False, frame=16384, cut_after=None,
                 timeout=60):
    """Runs one update. cut_after: send that many image bytes (a multiple of the device's acknowledgement step),
    wait until the device acknowledged them (progress), then abort the TCP connection: the device has them, whatever
    its speed (an abort's RST would discard what it had not read yet)."""
    res = Upload()
    async with connect(url) as ws:
        res.hello = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        nonce = bytes.fromhex(res.hello["nonce"])
        size = len(image) if size is None else size
        digest = hashlib.sha256(image).digest() if sha256 is None else sha256
        t0 = time.perf_counter()
        await ws.send(begin_message(key, nonce, size, digest, force))
        state = {"acked": 0, "event": asyncio.Event(), "window": None, "ready": asyncio.Event()}

        async def reader():
            try:
                async for m in ws:
                    obj = json.loads(m)
                    res.messages.append(obj)
                    if obj.get("type") == "ready":
                        state["window"] = obj["window"]
                        state["ready"].set()
                    if obj.get("type") == "progress":
                        state["acked"] = obj["written"]
                    state["event"].set()
            except websockets.ConnectionClosed:
                pass
            finally:
                state["ready"].set()
                state["event"].set()

        task = asyncio.create_task(reader())
        await asyncio.wait_for(state["ready"].wait(), timeout)
        if state["window"] is not None:
            window = state["window"]
            try:
                end = len(image) if cut_after is None else min(cut_after, len(image))
                while res.sent < end and not task.done():
                    n = min(frame, end - res.sent)
                    while res.sent + n - state["acked"] > window and not task.done():
                        state["event"].clear()
                        await asyncio.wait_for(state["event"].wait(), timeout)
                    if task.done():
                        break
                    await ws.send(image[res.sent:res.sent + n])
                    res.sent += n
                if cut_after is not None:
                    while state["acked"] < res.sent and not task.done():
                        state["event"].clear()
                        await asyncio.wait_for(state["event"].wait(), timeout)
                    ws.transport.abort()  # the cable pulled: no close frame, no FIN in order
            except websockets.ConnectionClosed:
                pass
        try:
            await asyncio.wait_for(task, timeout)
        except asyncio.TimeoutError:
            task.cancel()
        res.seconds = time.perf_counter() - t0
    res.close_code = ws.close_code
    return res


async def session(url, key, first=None, timeout=30):
    """Opens /ota, reads the hello and, when first(hello) gives a message, sends it and collects the answers until
    the device closes. Returns (hello, answers, close code)."""
    answers = []
    async with connect(url) as ws:
        hello = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        msg = first(hello) if first else None
        if msg is not None:
            await ws.send(msg)
            try:
                while True:
                    answers.append(json.loads(await asyncio.wait_for(ws.recv(), timeout)))
            except websockets.ConnectionClosed:
                pass
    return hello, answers, ws.close_code


async def hello_of(url, timeout=30):
    hello, _, _ = await session(url, None, None, timeout)
    return hello


async def confirm(url, key, version=None, elf=None, timeout=30):
    """Confirms the running app (the hello's version and elf unless given). Returns (hello, answers, close)."""
    return await session(url, key, lambda h: confirm_message(key, bytes.fromhex(h["nonce"]), version or h["version"],
                                                             elf or h["elf_sha256"]), timeout)
