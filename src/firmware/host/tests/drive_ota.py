#!/usr/bin/python3
"""End-to-end tests of the OTA endpoint (docs/ota-protocol.md) against ws_server_host --ota-dir: every refusal, the
upload, the confirmation, the rollbacks, and after each which slot boots, read from otadata.bin independently of the
firmware (ota_client.booting_slot) and from the hello of the next boot.

Each scenario gets a fresh directory whose ota_0.bin holds v1 (1.0.0, project esp32ws, for the ESP32-C3): the flash
as `wsctl flash` leaves it, with otadata erased. Prints one "ok"/"FAIL" line per check and ends with
"ota-e2e: N passed, M failed" (exit 1 if any failed).

usage: drive_ota.py WS_SERVER_HOST WORKDIR [--wrapper "valgrind --error-exitcode=99 ..."] [--only NAME]
"""
import argparse, asyncio, hashlib, json, os, shlex, shutil, signal, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ota_client as oc  # noqa: E402
import ota_image  # noqa: E402

passed, failed = 0, 0
V1 = ota_image.build("1.0.0", size=200_000, seed=1)
V2 = ota_image.build("2.0.0", size=300_000, seed=2)
SLOT_SIZE = 0x1F0000


def expect(what, ok, detail=""):
    global passed, failed
    print(("ok   " if ok else "FAIL ") + what + ("" if ok or not detail else f" ({detail})"), flush=True)
    if ok:
        passed += 1
    else:
        failed += 1
    return ok


class Scenario:
    def __init__(self, args, name, **device_kw):
        self.name = name
        work = os.path.join(args.workdir, name)
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        with open(os.path.join(work, "ota_0.bin"), "wb") as f:
            f.write(V1)
        self.dev = oc.Device(args.exe, work, wrapper=args.wrapper, label=name, **device_kw)

    def __enter__(self):
        self.dev.boot()
        return self.dev

    def __exit__(self, *exc):
        if exc[0] is not None:
            expect(f"{self.name}: ran to the end", False, f"{exc[0].__name__}: {exc[1]}\n{self.dev.log()}")
        rc = self.dev.stop()
        if self.dev.wrapper:
            expect(f"{self.name}: the last run ends cleanly under the wrapper (exit {rc})", rc == 0, self.dev.log())
        self.dev.kill()
        return True  # reported above; the next scenario runs


def run(coro):
    return asyncio.run(coro)


def unchanged(dev, before):
    """The update slot and otadata as they were (nothing erased or written)."""
    return snapshot(dev) == before


def snapshot(dev):
    out = []
    for p in (dev.slot_file(1), dev.otadata()):
        try:
            out.append(hashlib.sha256(open(p, "rb").read()).hexdigest())
        except FileNotFoundError:
            out.append(None)
    return out


def check_boots(dev, name, slot, version, state="valid"):
    expect(f"{name}: otadata makes the bootloader choose ota_{slot}", oc.booting_slot(dev.otadata()) == slot,
           f"entries {oc.otadata_entries(dev.otadata())}")
    hello = run(oc.hello_of(dev.url))
    expect(f"{name}: the device runs {version} from ota_{slot} ({state})",
           (hello["version"], hello["running_slot"], hello["state"]) == (version, f"ota_{slot}", state),
           json.dumps(hello))
    return hello


# ---- the scenarios ----

def no_key(args):
    with Scenario(args, "no-key", key=False) as dev:
        status, headers, body = oc.http_handshake(dev.port)
        expect("no key: /ota answers 403 'ota disabled: no key provisioned'",
               status == 403 and "ota disabled: no key provisioned" in body, f"{status} {body!r}")
        status, _, _ = oc.http_handshake(dev.port, path="/", protocols=())
        expect("no key: the app's / still answers 101", status == 101, str(status))


def handshakes(args):
    with Scenario(args, "handshakes") as dev:
        status, headers, body = oc.http_handshake(dev.port, protocols=())
        expect("/ota without the subprotocol: 400 'ota needs subprotocol wsctl-ota.1'",
               status == 400 and "ota needs subprotocol wsctl-ota.1" in body, f"{status} {body!r}")
        status, headers, _ = oc.http_handshake(dev.port, protocols=("chat", "wsctl-ota.1"))
        expect("/ota with the subprotocol among others: 101, Sec-WebSocket-Protocol: wsctl-ota.1",
               status == 101 and headers.get("sec-websocket-protocol") == "wsctl-ota.1", f"{status} {headers}")
        hello = run(oc.hello_of(dev.url))
        expect("hello: protocol, a 64-hex nonce, chip, project, version, running slot, state, slot size, last update",
               hello.get("type") == "hello" and hello.get("protocol") == "wsctl-ota.1" and
               len(hello.get("nonce", "")) == 64 and hello.get("chip") == "esp32c3" and
               hello.get("project") == "esp32ws" and hello.get("version") == "1.0.0" and
               hello.get("elf_sha256") == ota_image.info(V1)[3] and hello.get("running_slot") == "ota_0" and
               hello.get("state") == "valid" and hello.get("slot_size") == SLOT_SIZE and
               hello.get("last_update") == {"result": "none"}, json.dumps(hello))
        second = run(oc.hello_of(dev.url))
        expect("hello: a new nonce on every connection", second["nonce"] != hello["nonce"])

        async def busy():
            async with oc.connect(dev.url) as ws:
                await ws.recv()
                return oc.http_handshake(dev.port)[0]
        expect("a second /ota while one is open: 409", run(busy()) == 409)

        async def binary_first():
            async with oc.connect(dev.url) as ws:
                await ws.recv()
                await ws.send(b"\xe9" * 10)
                try:
                    await asyncio.wait_for(ws.recv(), 10)
                except Exception:
                    pass
            return ws.close_code
        expect("image bytes before a begin: close 1002", run(binary_first()) == 1002)

        async def garbage():
            async with oc.connect(dev.url) as ws:
                await ws.recv()
                await ws.send('{"type":"begin","size":{"nested":1}}')
                try:
                    await asyncio.wait_for(ws.recv(), 10)
                except Exception:
                    pass
            return ws.close_code
        expect("a begin that is not a flat JSON object: close 1002", run(garbage()) == 1002)
        check_boots(dev, "handshakes", 0, "1.0.0")


def auth(args):
    with Scenario(args, "auth") as dev:
        before = snapshot(dev)
        wrong = os.urandom(32)
        res = run(oc.upload(dev.url, wrong, V2))
        expect("wrong key: error auth_failed, close 1008",
               res.last().get("code") == "auth_failed" and res.close_code == 1008, f"{res.messages} {res.close_code}")
        status, headers, _ = oc.http_handshake(dev.port)
        expect("after a failed authentication: 429 with Retry-After 1",
               status == 429 and headers.get("retry-after") == "1", f"{status} {headers}")
        time.sleep(1.1)
        res = run(oc.upload(dev.url, wrong, V2))
        status, headers, _ = oc.http_handshake(dev.port)
        expect("a second failure doubles the back-off: Retry-After 2",
               res.last().get("code") == "auth_failed" and status == 429 and headers.get("retry-after") == "2",
               f"{res.messages} {status} {headers}")
        time.sleep(2.1)

        # Replay: a begin valid for one connection's nonce, sent again on a new connection.
        async def replay():
            async with oc.connect(dev.url) as ws:
                hello = json.loads(await ws.recv())
                begin = oc.begin_message(dev.key, bytes.fromhex(hello["nonce"]), len(V2), hashlib.sha256(V2).digest())
                await ws.send(begin)
                ready = json.loads(await ws.recv())
            _, answers, code = await oc.session(dev.url, dev.key, lambda h: begin)
            return ready, answers, code
        ready, answers, code = run(replay())
        expect("a begin is accepted on its own connection (ready)", ready.get("type") == "ready", json.dumps(ready))
        expect("the same begin replayed on a new connection (another nonce): auth_failed",
               answers and answers[-1].get("code") == "auth_failed" and code == 1008, f"{answers} {code}")
        time.sleep(1.1)

        async def reuse():
            async with oc.connect(dev.url) as ws:
                hello = json.loads(await ws.recv())
                nonce = bytes.fromhex(hello["nonce"])
                await ws.send(oc.confirm_message(dev.key, nonce, "9.9.9", "00" * 32))
                first = json.loads(await ws.recv())
            return first
        first = run(reuse())
        expect("a confirm for another app: mismatch (authenticated, then refused)",
               first.get("code") == "mismatch", json.dumps(first))
        expect("auth: nothing was written to the update slot or otadata", unchanged(dev, before))
        check_boots(dev, "auth", 0, "1.0.0")


def refusals(args):
    with Scenario(args, "refusals") as dev:
        before = snapshot(dev)
        cases = [
            ("wrong chip (an ESP32 image)", ota_image.build("2.0.0", chip="esp32", size=100_000), {}, "wrong_chip"),
            ("too big (size above the slot)", V2, {"size": SLOT_SIZE + 1}, "too_big"),
            ("wrong project", ota_image.build("2.0.0", project="other", size=100_000), {}, "wrong_project"),
            ("not an image", b"\x00" * 5000, {}, "not_an_image"),
        ]
        for what, image, kw, code in cases:
            res = run(oc.upload(dev.url, dev.key, image, **kw))
            expect(f"{what}: error {code}, close 1008, nothing written",
                   res.last().get("code") == code and res.close_code == 1008 and unchanged(dev, before),
                   f"{res.messages} {res.close_code}")
        other = ota_image.build("2.0.0", project="other", size=100_000)
        res = run(oc.upload(dev.url, dev.key, other, force=True, cut_after=65536))
        with open(dev.slot_file(1), "rb") as f:
            head = f.read(288)
        expect("wrong project with force: accepted and written (then cut: aborted)",
               "error" not in res.types() and head == other[:288], f"{res.messages}")
        res = run(oc.upload(dev.url, dev.key, V2, size=len(V2) - 100))
        expect("more bytes than the begin's size: error too_much", res.last().get("code") == "too_much",
               f"{res.messages}")
        res = run(oc.upload(dev.url, dev.key, V2, frame=20000))
        expect("a binary message over 16 KiB: close 1009", res.close_code == 1009, f"{res.close_code}")
        check_boots(dev, "refusals", 0, "1.0.0")


def cut_and_corrupt(args):
    with Scenario(args, "cut") as dev:
        otadata = snapshot(dev)[1]
        res = run(oc.upload(dev.url, dev.key, V2, cut_after=131072))
        deadline = time.time() + 20
        while "aborted" not in dev.log() and time.time() < deadline:
            time.sleep(0.05)
        expect("a connection cut mid-upload: the device logs the abort", "aborted" in dev.log(), dev.log())
        expect("a connection cut mid-upload: the device keeps running, otadata unchanged",
               dev.alive() and snapshot(dev)[1] == otadata and res.sent < len(V2), dev.log())
        bad = bytearray(V2)
        bad[len(bad) // 2] ^= 0x01
        res = run(oc.upload(dev.url, dev.key, bytes(bad), sha256=hashlib.sha256(V2).digest()))
        expect("a byte changed on the way: all written, then error sha256_mismatch",
               res.last().get("code") == "sha256_mismatch" and "progress" in res.types(), f"{res.messages}")
        expect("sha256_mismatch: otadata unchanged", snapshot(dev)[1] == otadata)
        broken = bytearray(V2)
        broken[-40] ^= 0x01  # inside the last segment: the checksum no longer matches
        res = run(oc.upload(dev.url, dev.key, bytes(broken)))
        expect("an image that does not verify (checksum): error invalid_image", res.last().get("code") ==
               "invalid_image", f"{res.messages}")
        dev.stop()
        dev.boot()
        check_boots(dev, "cut", 0, "1.0.0")


def panic(args):
    with Scenario(args, "panic") as dev:
        v2 = ota_image.build("2.0.0+panic-at-start", size=150_000, seed=3)
        res = run(oc.upload(dev.url, dev.key, v2))
        expect("panic: the upload ends with progress then rebooting to ota_1, close 1001",
               res.types()[-2:] == ["progress", "rebooting"] and res.last().get("slot") == "ota_1" and
               res.close_code == 1001, f"{res.messages} {res.close_code}")
        expect("panic: the device restarts (exit status 3)", dev.wait_exit() == oc.RESTART)
        expect("panic: otadata now boots ota_1", oc.booting_slot(dev.otadata()) == 1)
        ended = dev.boot()
        expect("panic: the new app aborts at start (SIGABRT), the next boot listens",
               ended == [-signal.SIGABRT], f"{ended}")
        hello = check_boots(dev, "panic", 0, "1.0.0")
        expect("panic: last_update says rolled_back, reason panic, with the version",
               hello["last_update"] == {"result": "rolled_back", "version": "2.0.0+panic-at-start", "reason": "panic"},
               json.dumps(hello["last_update"]))
        dev.stop()
        dev.boot()
        hello = run(oc.hello_of(dev.url))
        expect("panic: last_update is remembered across a further reboot",
               hello["last_update"].get("reason") == "panic", json.dumps(hello["last_update"]))


def not_confirmed(args):
    with Scenario(args, "not-confirmed", confirm="3s") as dev:
        res = run(oc.upload(dev.url, dev.key, V2))
        expect("not confirmed: rebooting", res.last().get("type") == "rebooting", f"{res.messages}")
        expect("not confirmed: restart", dev.wait_exit() == oc.RESTART)
        dev.boot()
        hello = run(oc.hello_of(dev.url))
        expect("not confirmed: v2 boots from ota_1 pending_verify, last_update pending",
               (hello["version"], hello["running_slot"], hello["state"]) == ("2.0.0", "ota_1", "pending_verify") and
               hello["last_update"] == {"result": "pending", "version": "2.0.0"}, json.dumps(hello))
        res = run(oc.upload(dev.url, dev.key, V1))
        expect("not confirmed: a begin while pending_verify is refused (pending_verify)",
               res.last().get("code") == "pending_verify", f"{res.messages}")
        t0 = time.time()
        rc = dev.wait_exit(timeout=60)
        expect(f"not confirmed: the deadline passes and the app restarts ({time.time() - t0:.1f}s)", rc == oc.RESTART)
        dev.boot()
        hello = check_boots(dev, "not confirmed", 0, "1.0.0")
        expect("not confirmed: last_update rolled_back, reason not_confirmed",
               hello["last_update"] == {"result": "rolled_back", "version": "2.0.0", "reason": "not_confirmed"},
               json.dumps(hello["last_update"]))


def confirmed(args):
    with Scenario(args, "confirmed", confirm="4s") as dev:
        res = run(oc.upload(dev.url, dev.key, V2))
        expect("confirmed: rebooting", res.last().get("type") == "rebooting", f"{res.messages}")
        expect("confirmed: restart", dev.wait_exit() == oc.RESTART)
        dev.boot()
        hello, answers, code = run(oc.confirm(dev.url, dev.key, elf="00" * 32))
        expect("confirmed: a confirm with another ELF hash: mismatch",
               answers and answers[-1].get("code") == "mismatch", f"{answers}")
        bad = os.urandom(32)
        hello, answers, code = run(oc.confirm(dev.url, bad))
        expect("confirmed: a confirm with the wrong key: auth_failed", answers and answers[-1].get("code") ==
               "auth_failed", f"{answers}")
        time.sleep(1.1)  # the back-off
        hello, answers, code = run(oc.confirm(dev.url, dev.key))
        expect("confirmed: the pending app is confirmed ({'type':'confirmed'}), close 1000",
               hello["state"] == "pending_verify" and answers == [{"type": "confirmed", "version": "2.0.0"}] and
               code == 1000, f"{hello} {answers} {code}")
        time.sleep(5)  # past the 4 s deadline
        expect("confirmed: no rollback after the deadline", dev.alive(), dev.log())
        hello = check_boots(dev, "confirmed", 1, "2.0.0")
        expect("confirmed: last_update confirmed", hello["last_update"] == {"result": "confirmed", "version": "2.0.0"},
               json.dumps(hello["last_update"]))
        _, answers, _ = run(oc.confirm(dev.url, dev.key))
        expect("confirmed: a repeated confirm of the valid app answers confirmed",
               answers == [{"type": "confirmed", "version": "2.0.0"}], f"{answers}")
        dev.stop()
        dev.boot()
        check_boots(dev, "confirmed, after a reboot", 1, "2.0.0")


SCENARIOS = [no_key, handshakes, auth, refusals, cut_and_corrupt, panic, not_confirmed, confirmed]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("exe")
    ap.add_argument("workdir")
    ap.add_argument("--wrapper", default="", help="a command the server runs under (valgrind ...)")
    ap.add_argument("--only", action="append", default=[])
    args = ap.parse_args()
    args.exe = os.path.abspath(args.exe)
    args.wrapper = shlex.split(args.wrapper)
    for s in SCENARIOS:
        if not args.only or s.__name__ in args.only:
            print(f"-- {s.__name__}", flush=True)
            s(args)
    print(f"ota-e2e: {passed} passed, {failed} failed", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
