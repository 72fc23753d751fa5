"""OTA benchmark: `wsctl ota` of a 1 MiB app image to the firmware's host build (ws_server_host --ota-dir) over
loopback, and writes the "OTA" section of bench/RESULTS.md (between its markers; the rest is run.py's).

Called by bench/ota.sh after it built wsctl and ws_server_host (Release). Each run boots a fresh device directory
(esp32ws 1.0.0 in ota_0, a key file) and runs `wsctl ota --json` (the dll) with a 1 MiB esp32ws 2.0.0. Neither is
pinned to a CPU, unlike run.py's servers: an upload is a hand-off between the two processes (a window of bytes, then
an acknowledgement), so on a shared machine a pinned process waits for its one CPU while the other sits free. The
bench is the device's power supply: when the program exits 3 (restart) it starts it again on the same port, so wsctl
sees the new app come back, confirms it and exits 0, as against a chip.

  upload rate   the image's bytes over the time from wsctl's `auth` line (the device accepted begin) to its
                `rebooting` line (every byte written, the slot read back and hashed, the boot slot set), as wsctl
                prints them: the protocol's throughput, both ends included.
  device CPU    utime+stime of the device's run that took the update (boot, upload, read-back hash, exit), from
                wait4's rusage, per MiB.
  wsctl CPU     wsctl's utime+stime between those two lines (/proc/PID/stat), per MiB.
  whole update  wall time of the wsctl process: start-up, hello, upload, the device's restart, the confirmation.
  CPU ceiling   the image's bytes over the device's CPU time for the run: the rate the device's code allows when it
                has a core to itself, the figure a loaded machine does not move (the upload rate is wall time).
Options: --runs N (7)  --size BYTES (1048576)  --dry (print, do not write)
"""
import json, os, platform, shutil, statistics, subprocess, sys, tempfile, threading, time
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import ROOT, WSCTL, free_port, proc_cpu_seconds, cpu_model  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "src", "firmware", "host", "tests"))
import ota_image  # noqa: E402


def arg(name, default):
    return type(default)(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


RUNS, SIZE = arg("--runs", 7), arg("--size", 1024 * 1024)
HOST = os.path.join(ROOT, "build", "bench", "firmware", "ws_server_host")
BEGIN, END = "<!-- ota.py begin -->", "<!-- ota.py end -->"
MIB = 1024 * 1024


class Device:
    """ws_server_host --ota-dir on one port, started again after each restart (exit 3) until stopped."""

    def __init__(self, workdir, key_path):
        self.args = [HOST, "--port", str(free_port()), "--counter-interval-ms", "0",
                     "--ota-dir", workdir, "--ota-key", key_path]
        self.first_run_cpu = None  # the run that took the update
        self.stopping = False
        self.listening = threading.Event()
        self.thread = threading.Thread(target=self._supply, daemon=True)
        self.thread.start()

    @property
    def port(self):
        return int(self.args[self.args.index("--port") + 1])

    def _supply(self):
        while not self.stopping:
            proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            self.proc = proc
            for line in proc.stderr:
                if "listening on port" in line:
                    self.listening.set()
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            if self.first_run_cpu is None:
                self.first_run_cpu = usage.ru_utime + usage.ru_stime
            if proc.returncode != 3:
                return

    def stop(self):
        self.stopping = True
        try:
            self.proc.terminate()
        except ProcessLookupError:
            pass
        self.thread.join(10)


def one_run(work, app_path, key_path):
    """One update of a fresh device; returns its figures."""
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    with open(os.path.join(work, "ota_0.bin"), "wb") as f:
        f.write(ota_image.build("1.0.0", size=200_000, seed=1))
    device = Device(work, key_path)
    try:
        if not device.listening.wait(30):
            raise RuntimeError("the device did not start")
        started = time.perf_counter()
        wsctl = subprocess.Popen(WSCTL + [
            "ota", f"127.0.0.1:{device.port}", "--firmware", app_path, "--ota-key", key_path, "--json",
            "--confirm-timeout", "60s"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        marks = {}
        for line in wsctl.stdout:
            kind = json.loads(line).get("type")
            if kind in ("auth", "rebooting") and kind not in marks:
                marks[kind] = (time.perf_counter(), proc_cpu_seconds(wsctl.pid))
        wsctl.wait(120)
        whole = time.perf_counter() - started
        if wsctl.returncode != 0 or len(marks) != 2:
            raise RuntimeError(f"wsctl ota exited {wsctl.returncode}: {wsctl.stderr.read()}")
    finally:
        device.stop()
    seconds = marks["rebooting"][0] - marks["auth"][0]
    return {"ceiling_mb_s": SIZE / device.first_run_cpu / 1e6, "mb_s": SIZE / seconds / 1e6, "ms": seconds * 1000,
            "whole_s": whole,
            "device_cpu_ms_per_mib": device.first_run_cpu * 1000 / (SIZE / MIB),
            "wsctl_cpu_ms_per_mib": (marks["rebooting"][1] - marks["auth"][1]) * 1000 / (SIZE / MIB)}


def summary(values):
    return f"{statistics.median(values):.1f} [{min(values):.1f}–{max(values):.1f}]"


def main():
    load_before = os.getloadavg()[0]
    tmp = tempfile.mkdtemp(prefix="bench-ota-")
    try:
        key_path = os.path.join(tmp, "ota.key")
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, (os.urandom(32).hex() + "\n").encode())
        os.close(fd)
        app_path = os.path.join(tmp, "app.bin")
        with open(app_path, "wb") as f:
            f.write(ota_image.build("2.0.0", size=SIZE, seed=2))
        runs = []
        for i in range(RUNS):
            r = one_run(os.path.join(tmp, "device"), app_path, key_path)
            print(f"bench-ota: run {i + 1}/{RUNS}: {r['mb_s']:.1f} MB/s ({r['ms']:.1f} ms), device "
                  f"{r['device_cpu_ms_per_mib']:.1f} ms CPU/MiB, wsctl {r['wsctl_cpu_ms_per_mib']:.1f} ms CPU/MiB, "
                  f"whole update {r['whole_s']:.2f} s", file=sys.stderr, flush=True)
            runs.append(r)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load_after = os.getloadavg()[0]
    column = {k: [r[k] for r in runs] for k in runs[0]}
    rate = statistics.median(column["mb_s"])
    lines = [
        BEGIN,
        f"## OTA: `wsctl ota` of a {SIZE / MIB:g} MiB image to the firmware's host build over loopback",
        "",
        f"Made by `bench/ota.sh` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC: {cpu_model()}, "
        f"{os.cpu_count()} logical CPUs, kernel {platform.release()}; ws_server_host --ota-dir (Release) and wsctl "
        f"(dll), not pinned; {RUNS} runs, each a fresh device, medians with [min–max]. Load average (1 min) "
        f"{load_before:.1f} before and {load_after:.1f} after. The upload is timed from wsctl's `auth` line to its "
        "`rebooting` line: every byte sent in 16 KiB messages inside the device's window, written, read back and "
        "hashed, and the boot slot set.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| upload rate | {summary(column['mb_s'])} MB/s |",
        f"| upload time | {summary(column['ms'])} ms |",
        f"| device CPU (the whole run that took the update) | {summary(column['device_cpu_ms_per_mib'])} ms per MiB |",
        f"| wsctl CPU during the upload | {summary(column['wsctl_cpu_ms_per_mib'])} ms per MiB |",
        f"| whole update (start, upload, restart, confirm) | {summary(column['whole_s'])} s |",
        f"| CPU ceiling (bytes over the device's CPU time) | {summary(column['ceiling_mb_s'])} MB/s |",
        "",
        f"Target (issue 25): at least 20 MB/s on the host build: **{'met' if rate >= 20 else 'NOT met'}** "
        f"({rate:.1f} MB/s median upload rate; best {max(column['mb_s']):.1f}).",
        END,
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if "--dry" in sys.argv:
        return 0
    path = os.path.join(ROOT, "bench", "RESULTS.md")
    with open(path) as f:
        current = f.read()
    if BEGIN in current:
        head, rest = current.split(BEGIN, 1)
        current = head + text + rest.split(END, 1)[1].lstrip("\n")
    else:
        current = current.rstrip("\n") + "\n\n" + text
    with open(path, "w") as f:
        f.write(current)
    print(f"bench-ota: wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
