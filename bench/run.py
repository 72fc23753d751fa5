"""Runs the side-by-side benchmark (called by bench/run.sh after it built everything) and writes bench/RESULTS.md.

Each scenario runs against every server in turns (A B C A B C ...) so that drift of the machine hits all alike.
The server is pinned to CPU 0 and the load generator (wsctl bench, or bench/loadgen's echo_load for the keys ending
in -c) to CPU 1. Server CPU time comes from /proc/PID/stat (utime + stime) around the measured run; memory from
/proc/PID/status (VmRSS). uWebSockets takes part when WSCTL_BENCH_UWS names its peer binary (see bench/README.md).
"""
import contextlib, json, os, platform, re, socket, statistics, subprocess, sys, threading, time
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUICK = "--quick" in sys.argv
ROUNDS = 1 if QUICK else 5
SECONDS = int(sys.argv[sys.argv.index("--seconds") + 1]) if "--seconds" in sys.argv else (3 if QUICK else 10)
# Each measured load run follows a warm-up of the same load on the same server, not measured: the JIT-compiled servers
# (wsctl, Kestrel, node) run their first seconds in unoptimised code, and the runtime's tiering waits longest on one
# CPU (.NET multiplies its tier-up delay by 10 on a single-CPU process, which pinning makes it): measured from the
# start, an 8 s run of wsctl was mostly unoptimised code. A server that runs for hours runs the optimised code.
# The warm-up is several load runs, not one: each run opens and closes its connections, and the runtime tiers the code
# that does so (called once per connection) up one step per run, tier 0, instrumented, optimised, each step after a
# second's delay on one CPU. Counted with DOTNET_JitDisasmSummary on wsctl serve under echo_load (64 connections):
# after one 10 s warm-up the measured run compiled about 600 methods (5% of the server's CPU in it, the JIT's thread).
# Each warm-up run is followed by a pause until the server has been idle for SETTLE_QUIET_S: the runtime compiles a
# tier-up batch only after a second (on one CPU) without new methods, which back-to-back runs never leave it, so the
# batches that the warm-up's connections queued landed in the measured run (paced at 25,000/s, 300 to 700 methods in
# half the runs, up to 10% of wsctl's CPU in it). With the pauses the batches come after the second and third warm-up
# runs, every time, and the measured run compiles about 25 methods. Servers that compile nothing just wait.
WARMUP = int(sys.argv[sys.argv.index("--warmup") + 1]) if "--warmup" in sys.argv else (2 if QUICK else 10)
WARMUP_RUNS = max(1, min(5, WARMUP // 2))
SETTLE_QUIET_S = 1.5
SETTLE_LIMIT_S = 10
IDLE_CLIENTS = 2000 if QUICK else 10000
# When the measuring started.
MADE = f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M}"
# --only KEY[,KEY], --servers NAME[,NAME] and --rounds N narrow a run while working on one figure; such a partial
# run prints its medians and leaves RESULTS.md (the full comparison) alone.
ONLY = sys.argv[sys.argv.index("--only") + 1].split(",") if "--only" in sys.argv else None
ONLY_SERVERS = sys.argv[sys.argv.index("--servers") + 1].split(",") if "--servers" in sys.argv else None
ROUNDS = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else ROUNDS
TICK = os.sysconf("SC_CLK_TCK")
WSCTL = ["dotnet", f"{ROOT}/src/wsctl/bin/Release/net10.0/wsctl.dll"]
WSCTL_NATIVE = f"{ROOT}/build/bench/aot/wsctl"
# The independent echo load generator (bench/loadgen/echo_load.c), built by run.sh.
ECHO_LOAD = f"{ROOT}/build/bench/loadgen/echo_load"
# The floor of the echo scenarios (bench/loadgen/bare_echo.c), built by run.sh: what an echo's system calls cost.
BARE_ECHO = f"{ROOT}/build/bench/loadgen/bare_echo"
# uWebSockets is not in the repository: WSCTL_BENCH_UWS names a peer built from upstream as bench/README.md says.
UWS = os.environ.get("WSCTL_BENCH_UWS", "")
SERVER_CPU, LOADGEN_CPU = "0", "1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, seconds=30):
    end = time.time() + seconds
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


# A server mode with "+compress" (echo+compress) turns permessage-deflate on in the server.
def base(mode):
    return mode.split("+")[0]


def compress(mode):
    return ["--compress"] if mode.endswith("+compress") else []


# Each server: (name, command for a mode and port, modes it supports). All do echo and relay the same way.
SERVERS = {
    "wsctl": lambda mode, port: WSCTL + ["serve", "--port", str(port), "--bind", "127.0.0.1", f"--{base(mode)}",
                                        "--no-counter", "--no-page", "--no-print", "--max-clients", "100000",
                                        "--ping-interval", "0", "-q"] + compress(mode),
    # serve as run by hand: every received message printed, here to /dev/null (the cost of the stdout path).
    "wsctl-print": lambda mode, port: WSCTL + ["serve", "--port", str(port), "--bind", "127.0.0.1",
                                              f"--{base(mode)}", "--no-counter", "--no-page", "--max-clients",
                                              "100000", "--ping-interval", "0", "-q"] + compress(mode),
    "kestrel": lambda mode, port: ["dotnet", f"{ROOT}/bench/KestrelPeer/bin/Release/net10.0/KestrelPeer.dll",
                                   "--port", str(port), "--mode", base(mode)] + compress(mode),
    "node-ws": lambda mode, port: ["node", f"{ROOT}/bench/node/peer.js", "--port", str(port), "--mode",
                                   base(mode)] + compress(mode),
    "uws": lambda mode, port: [UWS, "--port", str(port), "--mode", base(mode)],
    # Not a server to compare with but the floor under them all: one recv and one send per message, next to nothing
    # checked.
    "floor": lambda mode, port: [BARE_ECHO, "--port", str(port), "--mode", base(mode)],
    "firmware": lambda mode, port: [f"{ROOT}/build/bench/firmware/ws_server_host", "--port", str(port),
                                    "--max-clients", "16", "--counter-interval-ms", "0", "--max-message", "65536"]
                                   + (["--echo"] if mode == "echo" else []),
}



def uws_skip_reason():
    """Why the uWebSockets peer cannot take part, or None when WSCTL_BENCH_UWS names an executable."""
    if not UWS:
        return "WSCTL_BENCH_UWS not set (build the echo/relay peer from upstream uWebSockets, see bench/README.md)"
    if not (os.path.isfile(UWS) and os.access(UWS, os.X_OK)):
        return f"WSCTL_BENCH_UWS={UWS} is not an executable file (see bench/README.md)"
    return None


ECHO64_SERVERS = ["wsctl", "wsctl-print", "kestrel", "node-ws", "uws", "floor"]
# The offered rate of echo64-r: one that Kestrel, the slowest of its servers, keeps up with when paced (at 40,000 it
# answered 35,000 a second, 97% of its CPU; 2026-12-07).
FIXED_RATE = 25000
ECHO5_SERVERS = ["wsctl", "kestrel", "node-ws", "uws", "firmware", "floor"]
# The echo scenarios whose target is at most uWebSockets' server CPU per round trip, in the targets table's order:
# (key, (connections, load generator) as the table names them, the short name the why-missed section uses).
ECHO_UWS_TARGETS = [
    ("echo64", ("64 connections", "`wsctl bench`"), "64 connections, `wsctl bench`"),
    ("echo64-c", ("64 connections", "echo_load"), "64 connections, echo_load"),
    ("echo64-r", (f"64 connections at {FIXED_RATE:,} round trips/s", "echo_load"),
     f"64 connections at {FIXED_RATE:,}/s, echo_load"),
    ("echo5", ("5 connections", "`wsctl bench`"), "5 connections, `wsctl bench`"),
    ("echo5-c", ("5 connections", "echo_load"), "5 connections, echo_load"),
]
# (key, title, server mode, load arguments, servers, metric, load generator): the echo scenarios run twice, under
# wsctl bench and under echo_load (keys ending in -c), so that no figure rests on one generator alone. As fast as the
# fast servers answer, both ends of those runs are busy (each about 95% of its CPU, 2026-12-07), so the figure is as
# much the two loops' shared rate as the server's cost; echo64-r offers one fixed rate, below what any of its servers
# or the generator can do, so that each server is measured with neither end saturated.
SCENARIOS = [
    ("echo64", "echo, 64 connections, 32 B", "echo", ["--mode", "echo", "--clients", "64", "--size", "32"],
     ECHO64_SERVERS, "cpu_us_per_msg", "wsctl-bench"),
    ("echo64-c", "echo, 64 connections, 32 B, under echo_load", "echo",
     ["--mode", "echo", "--clients", "64", "--size", "32"], ECHO64_SERVERS, "cpu_us_per_msg", "echo_load"),
    ("echo64-r", f"echo, 64 connections, 32 B, {FIXED_RATE:,} round trips/s under echo_load", "echo",
     ["--mode", "echo", "--clients", "64", "--size", "32", "--rate", str(FIXED_RATE)],
     ["wsctl", "kestrel", "node-ws", "uws", "floor"], "cpu_us_per_msg", "echo_load"),
    ("echo5", "echo, 5 connections (the device's limit), 32 B", "echo",
     ["--mode", "echo", "--clients", "5", "--size", "32"], ECHO5_SERVERS, "cpu_us_per_msg", "wsctl-bench"),
    ("echo5-c", "echo, 5 connections (the device's limit), 32 B, under echo_load", "echo",
     ["--mode", "echo", "--clients", "5", "--size", "32"], ECHO5_SERVERS, "cpu_us_per_msg", "echo_load"),
    ("broadcast1000", "broadcast to 1,000 clients, 32 B", "relay",
     ["--mode", "broadcast", "--clients", "1000", "--size", "32"],
     ["wsctl", "kestrel", "node-ws", "uws"], "msgs_per_s", "wsctl-bench"),
    # What browsers ask for: permessage-deflate (RFC 7692) with context takeover, on JSON like the counter. (The
    # uWebSockets peer is built without compression, so it sits this one out.)
    ("deflate64", "echo with permessage-deflate, 64 connections, 256 B JSON like the counter", "echo+compress",
     ["--mode", "echo", "--clients", "64", "--size", "256", "--payload", "json", "--compress"],
     ["wsctl", "kestrel", "node-ws"], "cpu_us_per_msg", "wsctl-bench"),
    (f"idle{IDLE_CLIENTS}", f"{IDLE_CLIENTS:,} idle connections", "echo",
     ["--mode", "idle", "--clients", str(IDLE_CLIENTS)],
     ["wsctl", "kestrel", "node-ws", "uws"], "rss_kb_per_conn", "wsctl-bench"),
]
GENERATOR_TEXT = {"wsctl-bench": "`wsctl bench`", "echo_load": "`bench/loadgen/echo_load`"}


def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def proc_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


@contextlib.contextmanager
def started(server, mode):
    """The server pinned to its CPU, listening on a free port; yields (process, port) and stops it afterwards."""
    port = free_port()
    proc = subprocess.Popen(["taskset", "-c", SERVER_CPU] + SERVERS[server](mode, port),
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not wait_port(port):
            raise RuntimeError(f"{server} did not start")
        time.sleep(0.5)
        yield proc, port
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def loadgen(port, duration, bench_args, quiet=True, generator="wsctl-bench"):
    """The load generator's command line (wsctl bench, or echo_load for an echo), pinned to its CPU."""
    if generator == "echo_load":
        value = lambda name: bench_args[bench_args.index(name) + 1]
        return ["taskset", "-c", LOADGEN_CPU, ECHO_LOAD, f"ws://127.0.0.1:{port}/", "--seconds", str(duration),
                "--clients", value("--clients"), "--size", value("--size")] + (
                    ["--rate", value("--rate")] if "--rate" in bench_args else [])
    return ["taskset", "-c", LOADGEN_CPU] + WSCTL + ["bench", f"ws://127.0.0.1:{port}/", "--duration", f"{duration}s",
                                                     "--json"] + (["-q"] if quiet else []) + bench_args


def settle(pid):
    """Waits until the server has used under 1% of a CPU for SETTLE_QUIET_S (at most SETTLE_LIMIT_S): its runtime's
    deferred work (a JIT's tier-up batch) done before the next run. The seconds waited."""
    start = time.monotonic()
    samples = [(start, proc_cpu_seconds(pid))]
    while samples[-1][0] - start < SETTLE_LIMIT_S:
        time.sleep(0.1)
        samples.append((time.monotonic(), proc_cpu_seconds(pid)))
        earlier = [s for s in samples if s[0] <= samples[-1][0] - SETTLE_QUIET_S]
        if earlier and samples[-1][1] - earlier[-1][1] <= SETTLE_QUIET_S / 100:
            break
    return samples[-1][0] - start


def run_one(server, mode, bench_args, duration, generator):
    """Server CPU time around one load run (echo, broadcast)."""
    with started(server, mode) as (proc, port):
        settled = []
        for _ in range(WARMUP_RUNS if WARMUP else 0):
            subprocess.run(loadgen(port, WARMUP // WARMUP_RUNS, bench_args, generator=generator),
                           capture_output=True, timeout=WARMUP + 240)
            settled.append(round(settle(proc.pid), 1))
        cpu_before = proc_cpu_seconds(proc.pid)
        gen = subprocess.run(loadgen(port, duration, bench_args, generator=generator), capture_output=True,
                             text=True, timeout=duration + 240)
        cpu = proc_cpu_seconds(proc.pid) - cpu_before
        result = json.loads(gen.stdout.strip().splitlines()[-1])
        result["server_cpu_s"] = cpu
        result["settle_s"] = settled
        if result["received"]:
            result["cpu_us_per_msg"] = cpu * 1e6 / result["received"]
            wire = result.get("wire_bytes_sent", 0) + result.get("wire_bytes_received", 0)
            result["wire_bytes_per_msg"] = wire / result["received"]
        result["msgs_per_s"] = result["messages_per_second"]
        return result


def run_idle(server, bench_args, duration):
    """RSS while the idle connections are held: sampled from when all are connected (the load generator says
    "holding") until the hold ends, so neither the connect storm's nor the teardown's garbage counts as holding."""
    with started(server, "echo") as (proc, port):
        rss_before = proc_rss_kb(proc.pid)
        gen = subprocess.Popen(loadgen(port, duration, bench_args, quiet=False), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        holding = threading.Event()
        threading.Thread(target=lambda: [holding.set() for line in gen.stderr if "holding for" in line],
                         daemon=True).start()
        peak = rss_before
        hold_end = None
        while gen.poll() is None:
            now = time.time()
            if holding.is_set():
                hold_end = hold_end or now + duration - 0.3
                if now < hold_end:
                    peak = max(peak, proc_rss_kb(proc.pid))
            time.sleep(0.2)
        result = json.loads(gen.stdout.read().strip().splitlines()[-1])
        result["rss_before_kb"], result["rss_peak_kb"] = rss_before, peak
        result["rss_kb_per_conn"] = (peak - rss_before) / max(1, result["alive"])
        return result


def send_latency_ms(runs):
    """Median wall time of one `wsctl send` (native binary) to a local serve."""
    port = free_port()
    serve = subprocess.Popen(WSCTL + ["serve", "--port", str(port), "--bind", "127.0.0.1", "--no-counter",
                                      "--no-print", "-q"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            subprocess.run([WSCTL_NATIVE, "send", f"ws://127.0.0.1:{port}/", "x", "-q"], check=True)
            times.append((time.perf_counter() - t) * 1000)
        return times
    finally:
        serve.terminate()
        serve.wait(10)


def summary(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


# Every run's figures, saved before RESULTS.md is written from them: `run.py --report-only` writes RESULTS.md again
# from this file (after its text changed, or when writing it failed) without measuring anything.
RAW = f"{ROOT}/build/bench/results.json"


def main():
    global QUICK, ROUNDS, SECONDS, WARMUP, WARMUP_RUNS, SETTLE_QUIET_S, IDLE_CLIENTS, MADE, UWS
    if "--report-only" in sys.argv:
        with open(RAW) as f:
            raw = json.load(f)
        settings = raw["settings"]
        QUICK, ROUNDS, SECONDS, WARMUP = settings["quick"], settings["rounds"], settings["seconds"], settings["warmup"]
        IDLE_CLIENTS, MADE, UWS = settings["idle_clients"], settings["made"], settings["uws"]
        WARMUP_RUNS = settings.get("warmup_runs", 1)
        SETTLE_QUIET_S = settings.get("settle_quiet_s")  # none before the pauses were made
        write_report({k: tuple(v) for k, v in raw["results"].items()}, raw["send_ms"], raw["uws_skipped"],
                     raw["load_before"], raw["load_after"])
        return
    results = {}
    load_before = os.getloadavg()[0]
    uws_skipped = uws_skip_reason()
    if uws_skipped:
        print(f"skipped: uWebSockets peer: {uws_skipped}", file=sys.stderr, flush=True)
    floor_missing = not os.access(BARE_ECHO, os.X_OK)
    if floor_missing:
        print(f"skipped: the floor: {BARE_ECHO} not built (bench/run.sh builds it)", file=sys.stderr, flush=True)
    echo_load_missing = not os.access(ECHO_LOAD, os.X_OK)
    if echo_load_missing:
        print(f"skipped: echo_load scenarios: {ECHO_LOAD} not built (bench/run.sh builds it)", file=sys.stderr)
    for key, title, mode, args, servers, metric, generator in SCENARIOS:
        if ONLY and not any(key.startswith(o) for o in ONLY):
            continue
        if generator == "echo_load" and echo_load_missing:
            continue
        servers = [s for s in servers
                   if (not ONLY_SERVERS or s in ONLY_SERVERS) and not (s == "uws" and uws_skipped)
                   and not (s == "floor" and floor_missing)]
        samples = {s: [] for s in servers}
        for r in range(ROUNDS):
            for server in servers:
                duration = SECONDS
                print(f"bench: {key} round {r + 1}/{ROUNDS}: {server}", file=sys.stderr, flush=True)
                try:
                    res = (run_idle(server, args, duration) if "idle" in args
                           else run_one(server, mode, args, duration, generator))
                    if res.get("errors"):
                        print(f"bench:   {res['errors']} errors: {res.get('error_samples')}", file=sys.stderr)
                    samples[server].append(res)
                except Exception as e:  # a server that fails a scenario is reported, not fatal
                    print(f"bench:   {server} failed: {e}", file=sys.stderr)
        results[key] = (title, metric, samples)
    if ONLY or ONLY_SERVERS:
        for key, (title, metric, samples) in results.items():
            for server, runs in samples.items():
                values = [r[metric] for r in runs if metric in r]
                if values:
                    sm = summary(values)
                    to_uws = ratio(results, key, metric, server, "uws")
                    to_floor = ratio(results, key, metric, server, "floor") if server != "floor" else None
                    bound = generator_bound(runs, metric)
                    wire = [r["wire_bytes_per_msg"] for r in runs if "wire_bytes_per_msg" in r and r.get("compression")]
                    print(f"{key:14} {server:11} {metric} median {fmt(sm['median'])} "
                          f"[{fmt(sm['min'])}–{fmt(sm['max'])}]" + (f", {to_uws:.2f}× uws" if to_uws else "")
                          + (f", {to_floor:.2f}× floor" if to_floor else "")
                          + (f"; {statistics.median([r['msgs_per_s'] for r in runs]):,.0f} messages/s"
                             if metric == "cpu_us_per_msg" else "")
                          + f"; generator {generator_share(runs):.0%} busy" + (f", {bound}" if bound else "")
                          + (f"; wire bytes per round trip {statistics.median(wire):.1f}; "
                             f"{runs[0].get('compression')}" if wire else ""))
        return
    load_after = os.getloadavg()[0]
    send = send_latency_ms(10 if QUICK else 30)
    os.makedirs(os.path.dirname(RAW), exist_ok=True)
    with open(RAW, "w") as f:
        json.dump({"results": results, "send_ms": send, "uws_skipped": uws_skipped, "load_before": load_before,
                   "load_after": load_after,
                   "settings": {"quick": QUICK, "rounds": ROUNDS, "seconds": SECONDS, "warmup": WARMUP,
                                "warmup_runs": WARMUP_RUNS, "settle_quiet_s": SETTLE_QUIET_S,
                                "idle_clients": IDLE_CLIENTS, "made": MADE, "uws": UWS}}, f)
    write_report(results, send, uws_skipped, load_before, load_after)


METRIC_TEXT = {
    "cpu_us_per_msg": ("server CPU µs per round trip", False),
    "msgs_per_s": ("messages delivered per second", True),
    "rss_kb_per_conn": ("server RSS KB per connection", False),
}


def generator_share(runs):
    """The median share of its core(s) the load generator kept busy over these runs."""
    shares = [r["generator_cpu_share"] for r in runs if "generator_cpu_share" in r]
    return statistics.median(shares) if shares else 0.0


def generator_bound(runs, metric):
    """"generator-bound (k of n runs)" when the load generator said it was saturated (at 90% or more of what it may
    use) in any of these runs, else "". Only throughput and CPU figures can be bound by it, not memory."""
    if metric == "rss_kb_per_conn":
        return ""
    saturated = sum(1 for r in runs if r.get("generator_saturated"))
    return f"generator-bound ({saturated} of {len(runs)} runs)" if saturated else ""


def settle_text(results):
    """What the pauses after the warm-up runs were, for the report's settings line."""
    pauses = [p for _, _, samples in results.values() for runs in samples.values() for r in runs
              for p in r.get("settle_s", [])]
    if not SETTLE_QUIET_S or not pauses:
        return ""
    return (f", each followed by a pause until the server is idle for {SETTLE_QUIET_S} s (pauses of "
            f"{min(pauses)}–{max(pauses)} s, median {statistics.median(pauses)})")


def write_report(results, send, uws_skipped, load_before, load_after):
    lines = ["# Benchmark results", "",
             f"Made by `bench/run.sh{' --quick' if QUICK else ''}` on "
             f"{MADE} UTC.", "",
             "## Machine", "",
             f"- CPU: {cpu_model()}, {os.cpu_count()} logical CPUs; server pinned to CPU {SERVER_CPU}, "
             f"load generator to CPU {LOADGEN_CPU}",
             f"- Kernel: {platform.release()}; .NET {tool_version(['dotnet', '--version'])}; "
             f"node {tool_version(['node', '--version'])}",
             f"- uWebSockets: {f'skipped: {uws_skipped}' if uws_skipped else f'`{UWS}` (WSCTL_BENCH_UWS)'}",
             f"- Load generators: `wsctl bench`; `bench/loadgen/echo_load` (C, one thread) for the echo keys "
             f"ending in -c",
             f"- Rounds: {ROUNDS} per scenario, servers in turns; {SECONDS} s per run, each after {WARMUP} s of "
             f"the same load in {WARMUP_RUNS} runs{settle_text(results)} (not measured: JIT-compiled servers are "
             "measured running optimised code, their connections' opening and closing included, as a server that "
             "runs for hours does); medians with [min–max]",
             f"- Load average (1 min): {load_before:.2f} before the run, {load_after:.2f} after it "
             f"(other work on the machine shows here)", "",
             "Ratios are to Kestrel's and uWebSockets' medians from the same run. For CPU and memory lower is better; "
             "for throughput higher. In the echo tables, *floor* is `bench/loadgen/bare_echo`: not a server to "
             "compare with but what an echo's system calls cost here (one thread, one epoll set, one `recv` and one "
             "`send` per message; no UTF-8 check, no limits but its buffers); \"over the floor\" is each server's "
             "median over its median. "
             "A figure marked generator-bound comes from runs where the load generator said it was saturated (90% "
             "or more of the CPU it may use): there it measures the generator as much as the server.", ""]
    for key, (title, metric, samples) in results.items():
        text, higher_better = METRIC_TEXT[metric]
        with_uws = bool(samples.get("uws"))
        with_floor = bool(samples.get("floor"))
        lines += [f"## {title}: {text}", "",
                  "| server | median | spread | ratio to Kestrel |" + (" ratio to uWS |" if with_uws else "")
                  + (" over the floor |" if with_floor else "") + " also |",
                  "|---|---|---|---|" + ("---|" if with_uws else "") + ("---|" if with_floor else "") + "---|"]
        bound_servers = []
        for server, runs in samples.items():
            values = [s[metric] for s in runs if metric in s]
            if not values:
                lines.append(f"| {server} | failed | | |" + (" |" if with_uws else "") + (" |" if with_floor else "")
                             + " |")
                continue
            sm = summary(values)
            to_kestrel = ratio(results, key, metric, server, "kestrel")
            to_uws = ratio(results, key, metric, server, "uws")
            ratios = (f"{to_kestrel:.2f}×" if to_kestrel else "n/a") + " |"
            if with_uws:
                ratios += (f" {to_uws:.2f}×" if to_uws else " n/a") + " |"
            if with_floor:
                to_floor = ratio(results, key, metric, server, "floor")
                ratios += (f" {to_floor:.2f}×" if to_floor else " n/a") + " |"
            extra = ""
            if metric == "cpu_us_per_msg":
                extra = (f"{statistics.median([s['msgs_per_s'] for s in runs]):,.0f} round trips/s, "
                         f"p99 {statistics.median([s['latency_us']['p99'] for s in runs]):,.0f} µs, "
                         f"generator {generator_share(runs):.0%} busy")
                if key.startswith("deflate"):
                    extra += (f", {statistics.median([s['wire_bytes_per_msg'] for s in runs]):,.1f} bytes on the "
                              f"wire per round trip (both ways), {runs[0].get('compression') or 'not compressed'}")
            elif metric == "msgs_per_s":
                extra = (f"p99 latency {statistics.median([s['latency_us']['p99'] for s in runs]):,.0f} µs, "
                         f"generator {generator_share(runs):.0%} busy")
            elif metric == "rss_kb_per_conn":
                extra = f"{statistics.median([s['alive'] for s in runs]):,.0f} alive at the end"
            bound = generator_bound(runs, metric)
            if bound:
                extra += f"; **{bound}**"
                bound_servers.append(server)
            errors = sum(s.get("errors", 0) for s in runs)
            if errors:
                extra += f"; {errors} errors"
            lines.append(f"| {server} | {fmt(sm['median'])} | [{fmt(sm['min'])}–{fmt(sm['max'])}] | {ratios} "
                         f"{extra} |")
        if metric != "rss_kb_per_conn":
            lines.append("")
            lines.append(f"Load generator: {GENERATOR_TEXT[scenario_generator(key)]}. Generator-bound figures: "
                         + (", ".join(bound_servers) if bound_servers else "none") + ".")
            if key.startswith("deflate"):
                lines.append("Every server compresses with context takeover (wsctl: the system's zlib at level 6; "
                             "Kestrel's `DangerousEnableCompression`, node ws's `perMessageDeflate` with threshold 0), "
                             "and so does the generator. Uncompressed, the same messages take 524 bytes on the wire "
                             "per round trip. zlib memory per compressing connection: 300.8 KiB "
                             "(`AllocationTests.CompressingConnection_NativeMemoryMeasured`).")
        lines.append("")
    sm = summary(send)
    lines += ["## `wsctl send` of one message to a local serve (NativeAOT binary), wall time", "",
              f"median {sm['median']:.1f} ms [{sm['min']:.1f}–{sm['max']:.1f}] over {sm['n']} runs", ""]
    lines += targets(results, sm["median"])
    path = os.path.join(ROOT, "bench", "RESULTS.md")
    lines += kept_sections(path)
    with open(path, "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))
    print(f"bench: wrote {path}", file=sys.stderr)


def kept_sections(path):
    """The sections other benchmarks (bench/cluster.py, bench/ota.py, bench/flash.sh) wrote into RESULTS.md between
    their own `<!-- NAME begin -->` and `<!-- NAME end -->` markers: kept as they are, after this run's."""
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        return []
    kept = [m.group(0) for m in re.finditer(r"<!-- ([\w.-]+) begin -->.*?<!-- \1 end -->", text, re.S)]
    return [""] + [section + "\n" for section in kept] if kept else []


def scenario_generator(key):
    return next(s[6] for s in SCENARIOS if s[0] == key)


def values(results, key, server, metric):
    """A server's figures of a metric in a scenario, one per round (none when it was not measured)."""
    return [s[metric] for s in results[key][2].get(server, []) if metric in s] if key in results else []


def ratio(results, key, metric, server="wsctl", base="kestrel"):
    """A server's median over another's (Kestrel by default) for a scenario, or None."""
    ours, theirs = values(results, key, server, metric), values(results, key, base, metric)
    return statistics.median(ours) / statistics.median(theirs) if ours and theirs else None


def spread(results, key, server, metric="cpu_us_per_msg"):
    """A server's [min–max] of a metric in a scenario, as text."""
    figures = values(results, key, server, metric)
    return f"{min(figures):.2f}–{max(figures):.2f}" if figures else "none"


def overlaps(results, key, metric="cpu_us_per_msg"):
    """Whether wsctl's and uWebSockets' [min–max] of a metric in a scenario overlap."""
    ours, theirs = values(results, key, "wsctl", metric), values(results, key, "uws", metric)
    return bool(ours and theirs) and min(ours) <= max(theirs) and min(theirs) <= max(ours)


def absolute(results, key, metric, server="wsctl"):
    figures = values(results, key, server, metric)
    return statistics.median(figures) if figures else None


def targets(results, send_ms):
    """The performance targets, each met or missed by how much (ratios from this same run)."""
    idle_key = f"idle{IDLE_CLIENTS}"
    cpu = "cpu_us_per_msg"
    # (target, goal, value, met, format, the scenario and servers whose figures the value rests on)
    rows = [
        ("echo, 64 connections: server CPU per round trip", "≤ 0.60× Kestrel",
         ratio(results, "echo64", cpu), lambda v: v <= 0.60, "{:.2f}×", ("echo64", ["wsctl", "kestrel"])),
    ]
    for key, (who, generator), _ in ECHO_UWS_TARGETS:
        rows.append((f"echo, {who}: server CPU per round trip, under {generator}", "≤ 1.00× uWebSockets",
                     ratio(results, key, cpu, "wsctl", "uws"), lambda v: v <= 1.00, "{:.3f}×",
                     (key, ["wsctl", "uws"])))
    rows += [
        ("echo, 64 connections: serve printing every message (to /dev/null) over `--no-print`", "≤ 1.05×",
         ratio(results, "echo64", cpu, "wsctl-print", "wsctl"), lambda v: v <= 1.05, "{:.2f}×",
         ("echo64", ["wsctl-print", "wsctl"])),
        ("broadcast to 1,000 clients: deliveries per second", "≥ 1.5× Kestrel",
         ratio(results, "broadcast1000", "msgs_per_s"), lambda v: v >= 1.5, "{:.2f}×",
         ("broadcast1000", ["wsctl", "kestrel"])),
        (f"{IDLE_CLIENTS:,} idle connections: RSS per connection", "≤ 2 KB",
         absolute(results, idle_key, "rss_kb_per_conn"), lambda v: v <= 2.0, "{:.1f} KB", None),
        ("`wsctl send` of one message, native binary", "≤ 30 ms median", send_ms, lambda v: v <= 30, "{:.1f} ms",
         None),
    ]
    out = ["## Targets", "", "| target | goal | this run | |", "|---|---|---|---|"]
    for name, goal, value, ok, form, basis in rows:
        if value is None:
            out.append(f"| {name} | {goal} | not measured | |")
            continue
        bound = []
        if basis and basis[0] in results:
            key, servers = basis
            title, metric, samples = results[key]
            bound = [s for s in servers if generator_bound(samples.get(s, []), metric)]
        note = f" (generator-bound: {', '.join(bound)})" if bound else ""
        out.append(f"| {name} | {goal} | {form.format(value)} | {'met' if ok(value) else 'missed'}{note} |")
    out.append("| allocations per received message, steady state | 0 | < 4 bytes | met: asserted by "
               "`tests/WsCore.Tests/WebSockets/AllocationTests.cs` in `./test.sh` (the smallest object is 24 bytes) |")
    out.append("")
    out += [
        "## How wsctl gets there", "",
        "- **Echo and relay** answer on the receiving thread "
            "(`WebSocketServerOptions.MessageHandler`), and `serve` sets",
        "  `DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1` (unless the user set it), so "
            "a message is read, decoded and",
        "  answered on the epoll thread with one non-blocking `send`: no thread switch per message, nothing allocated",
        "  (frame objects recycled per thread, buffers pooled). On Linux plain connections wait on epoll instances of",
        "  their own (`SocketReadiness`, edge-triggered) and read and write their descriptors with `recv` and `send`",
        "  (`MSG_DONTWAIT`, `DescriptorIo`): per message one `recv` and one `send`, none of the runtime's",
        "  asynchronous socket machinery.",
        "- **Broadcast** encodes once into a shared, reference-counted buffer; each client's backlog is drained in",
        "  64 KiB batches, one `send` per batch.",
        "- **Idle connections** hold no receive buffer, no writer task, no queue, no timer or cancellation",
        "  registration (one housekeeping timer checks every deadline), no decoder until the client sends, and on",
        "  Linux no async state machine: readiness callbacks pump each connection (`ServerConnection.Pump`), whose",
        "  handshake starts once its request head is all there (peeked at on each event), and none of the runtime's",
        "  asynchronous socket state: about 0.7 KB of managed memory (`IdleMemoryTests`: 705 bytes; about 1,820",
        "  with `WSCTL_SERVER_EPOLL=0`). The handshake's SHA-1 is wsctl's own (`Sha1`): the runtime's loads",
        "  OpenSSL's libcrypto into the server, 4.5 MB resident that a plain server has no other use for.",
        "- **RSS per idle connection** is mostly what the connect storm allocated: the GC collects gen0 only after",
        "  its budget, 16 MB on this machine (`GCGen0MaxBudget`, sized from the 32 MB L3 cache), so the",
        "  handshake's garbage is resident too until then. wsctl allocates 1.7 KB per connection in a storm (0.7 KB",
        "  of it kept): 2.4 KB before the pump and the peeked head, when its idle RSS was 2.6 KB.",
        "- **Memory method**: RSS is sampled while the connections are held, from before the first connect; the",
        "  teardown is not counted (for any server).", "",
    ]
    missed = [(key, title, ratio(results, key, "cpu_us_per_msg", "wsctl", "uws"))
              for key, _, title in ECHO_UWS_TARGETS]
    missed = [(key, title, to_uws) for key, title, to_uws in missed if to_uws is not None and to_uws > 1.0]
    print_to_uws = ratio(results, "echo64-c", "cpu_us_per_msg", "wsctl-print", "uws")
    if missed:
        out += [
            "## Why the echo target against uWebSockets is missed", "",
            "- Missed: " + "; ".join(f"{title} {to_uws:.3f}× (wsctl {spread(results, key, 'wsctl')}, uWebSockets "
                                     f"{spread(results, key, 'uws')} µs)" for key, title, to_uws in missed) + ".",
            "  Unpaced, the generator is the limit (`wsctl bench` at 100% of its CPU; under echo_load both ends at",
            "  about 95%, uWebSockets' runs and wsctl's alike, 2026-12-07), so a server's CPU per round trip is its",
            "  busy share over a rate the generator sets, and a server with time to spare spends it going to sleep",
            "  and being woken, which the figure counts" + ("; the two servers' spreads overlap in every missed row."
                                          if all(overlaps(results, key) for key, _, _ in missed) else ".")
            + " Both",
            "  servers make the same system calls per message (`perf stat`, 2026-12-07: one `recvfrom`, one `sendto`",
            "  and 0.09-0.14 `epoll_wait` per round trip; two packets on the loopback). User space: about 0.5 µs",
            "  per round trip for wsctl, 0.35-0.45 µs for uWebSockets (the serving thread's user time, runs",
            "  alternating, 2026-12-07; 0.64 µs before a message in one read was decoded where it lies and its echo",
            "  encoded on the stack, 0.7-0.8 µs before the readiness pump), with no hot spot left: the P/Invoke",
            "  transitions of `recv` and `send`, the epoll loop's dispatch, the decoder, the connection's lock.",
        ] + floor_lines(results, [key for key, _, _ in missed]) + [
            "- At a fixed rate, where neither end is saturated (echo64-r), most of the gap measured before the",
            "  warm-up paused between its runs was the runtime compiling: 1.12× uWebSockets at 25,000 round trips a",
            "  second (18.34-18.87 against 16.28-16.81 µs, partial runs, 2026-12-07), and in half of such runs",
            "  the JIT's thread compiled 300-700 methods in the measured run, up to 1.5 µs per round trip (the",
            "  tier-up batches the warm-up's connections queued, which the runtime starts only after a second",
            "  without new methods). With the pauses: 1.04× (17.06-17.11 against 16.15-16.60, 2 rounds; the",
            "  serving thread alone within 2% of uWebSockets' in alternating runs). Paced, each wake-up of the",
            "  server carries one or a few messages, and the kernel's part of a wake-up is most of the figure for",
            "  both servers (their user time is under 1 µs of the 16-17).",
            "- Between full runs of the same code the rows trade places: on 2026-12-07 at 02:00 (five warm-up runs",
            "  back to back) 64 connections measured 0.97× uWebSockets under `wsctl bench` and 1.04× under",
            "  echo_load, 5 connections 0.97× and 1.05×; at 05:55 (the same server, the warm-up runs paused) 1.16×,",
            "  1.08×, 0.99× and 0.97×, and echo64-r 1.02×, each missed row's spreads overlapping uWebSockets'.",
            "- io_uring does not lower the floor: an echo server written to try it (C, as small as `bare_echo`, not",
            "  in the repository) with io_uring instead of epoll (a `recv` always armed per connection, each echo a",
            "  `send` submission, one `io_uring_enter` per batch of completions; with and without `DEFER_TASKRUN`)",
            "  took 4-5% more CPU per round trip than the same program with epoll, paced at 25,000 a second",
            "  (15.75-16.04 against 15.03-15.36 µs, two runs each in turns, 2026-12-07): the system calls it saves",
            "  cost less than arming a receive that is not ready yet.",
            "- Dynamic PGO stays on: without it (`DOTNET_TieredPGO=0`) the runtime compiles less, but the serving",
            "  thread spends about 0.1 µs more per round trip (0.64 against 0.54 µs user time), and a server that",
            "  runs for hours is better off with it.",
            "- The kernel's part is not stable on this machine (a 2-vCPU VM): runs of one server in one setup land",
            "  near 5.4 or near 7.2 µs per round trip (uWebSockets 5.45 or 7.2, wsctl 6.2 or 7.9), the mode changing",
            "  between runs and never within one, so medians of a few rounds may compare two servers in different",
            "  modes; differences under about 15% are within that noise. The mode follows the load run, not the",
            "  server's process: four 6 s runs of echo_load one after the other against one uWebSockets process",
            "  gave 6.18, 6.96, 5.55 and 5.50 µs (2026-12-06)."
            + (f" In this run `wsctl-print`, the same server doing more work (printing every message), measured"
               f" {print_to_uws:.2f}× uWebSockets under echo_load." if print_to_uws is not None else ""), "",
        ]
    printing = ratio(results, "echo64", "cpu_us_per_msg", "wsctl-print", "wsctl")
    if printing is not None and printing > 1.05:
        printing_c = ratio(results, "echo64-c", "cpu_us_per_msg", "wsctl-print", "wsctl")
        out += [
            "## Why the printing target is missed", "",
            f"- {printing:.2f}× `--no-print` under `wsctl bench` in this run"
                + (f", {printing_c:.2f}× under echo_load." if printing_c is not None else "."),
            "  The ratio moves by more than the 5% target between runs of one build on this machine: four single",
            "  runs taken alternately on 2026-12-06 gave 1.18× and 1.01× for the build before the readiness pump,",
            "  1.08× and 1.01× for the pump's (the stdout path is the same in both).", "",
        ]
    idle = absolute(results, idle_key, "rss_kb_per_conn")
    if idle is not None and idle > 2.0:
        out += [
            "## Why the idle-memory target is missed", "",
            f"- {idle:.1f} KB against 2 KB"
                + (" (a quick run: fewer connections carry the one-time costs)." if QUICK else "."),
            "  About 0.7 KB per connection is live managed memory (`IdleMemoryTests`, a heap dump of serve): the",
            "  connection 240 bytes, the socket 112 and its handle 64, the remote end point 72, the server's tables.",
            "  Nearly all the rest is what the connect storm allocated and the GC has not collected (see above: its",
            "  gen0 budget, 16 MB here, is taken from the CPU's cache size); `DOTNET_GCgen0size` lowers it, but the",
            "  runtime reads that setting only from the environment (not from `runtimeconfig.json`: tried). Code paged",
            "  in for the connections adds about 0.2 KB.",
            "- What would lower it further: no .NET `Socket` per connection (accept4 on the listening descriptor and a",
            "  wait for writability of our own: the socket, its handle and the accept's garbage); uWebSockets holds",
            "  0.25 KB because its connection is a struct inside its own epoll loop and C++ has no collector.",
            "",
        ]
    return out


def floor_lines(results, keys):
    """Where wsctl and uWebSockets stand over the floor (bare_echo) in the given echo scenarios of this run."""
    cpu = "cpu_us_per_msg"
    rows = [(key, absolute(results, key, cpu, "floor"), ratio(results, key, cpu, "wsctl", "floor"),
             ratio(results, key, cpu, "uws", "floor")) for key in keys]
    rows = [row for row in rows if None not in row]
    if not rows:
        return []
    return ["- The floor, measured in the same rounds (`bare_echo`: one `recv` and one `send` per message, next to",
            "  nothing checked): " + "; ".join(
                f"{key} {floor:.2f} µs, wsctl {ours:.2f}× it, uWebSockets {theirs:.2f}×"
                for key, floor, ours, theirs in rows) + ".",
            "  What a server's own code costs is what lies over it; a ratio under 1 is the machine's noise (below).",
            ]


def fmt(v):
    return f"{v:,.0f}" if v >= 100 else f"{v:.2f}"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def tool_version(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=20).stdout.strip()
    except OSError:
        return "not installed"


if __name__ == "__main__":
    main()
