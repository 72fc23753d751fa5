"""Cluster benchmark: wsctl bench --mode broadcast through three `serve --cluster` instances (the
clients spread over them with --also) against one serve with the same clients, and writes the "Cluster" section of
bench/RESULTS.md (between its markers; the rest of the file is run.py's).

Called by bench/cluster.sh after it built wsctl. The servers (all serve processes and redis-server) are pinned to
CPU 0 and wsctl bench to CPU 1, as in run.py, so both set-ups have the same CPU to spend. Server CPU is utime+stime
from /proc/PID/stat of every server process (and Redis, counted separately too) around the measured run. The two
set-ups run in turns (one, cluster, one, cluster, ...) and the medians are reported. Three measurements, each
answering one question:
  throughput  3,000 clients, the sender as fast as the servers take it: deliveries per second.
  cost        3,000 clients at the same paced rate in both set-ups (below either's saturation): server CPU per
              delivery. Compared at equal work, since at saturation the two move different amounts and a busier
              server coalesces more messages per send.
  hop         30 clients, paced: p50/p99 latency. With few clients per broadcast, the fan-out's own sends do not
              hide the time a message spends on its way through Redis to the other instances.
Options: --rounds N (3)  --seconds N (8)  --clients N (3000)  --cost-rate N (150 broadcasts/s)
  --hop-clients N (30)  --hop-rate N (100 broadcasts/s)  --dry (print, do not write)
"""
import contextlib, json, os, platform, socket, statistics, subprocess, sys, tempfile, time
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import ROOT, WSCTL, SERVER_CPU, LOADGEN_CPU, free_port, wait_port, proc_cpu_seconds  # noqa: E402


def arg(name, default):
    return type(default)(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


ROUNDS, SECONDS, CLIENTS = arg("--rounds", 3), arg("--seconds", 8), arg("--clients", 3000)
COST_RATE, HOP_CLIENTS, HOP_RATE = arg("--cost-rate", 150), arg("--hop-clients", 30), arg("--hop-rate", 100)
SIZE = 32
WARM_UP = 6  # seconds
BEGIN, END = "<!-- cluster.py begin -->", "<!-- cluster.py end -->"
READING = (
    "**Reading these figures.** The throughput run's sender keeps 32 broadcasts in flight, paced by its own copies "
    "coming back; in the cluster those come from the sender's own instance, so the instances fed through Redis are "
    "not waited for and queue up when the servers' core is saturated: the saturated p99 of the cluster is that "
    "backlog, not the cost of the hop, and at saturation a busier server also coalesces more messages per send. "
    "That is why the cost is compared at the same paced rate in both set-ups, and the hop with few clients per "
    "broadcast: with 3,000 clients, one broadcast is 3,000 sends on one core, and its last client gets it "
    "milliseconds after the first in either set-up. The hop is read within one run, the Redis-fed instances' clients "
    "against the sender's own instance's, because two runs' p99 differ by a millisecond or more on this virtual "
    "machine even with the same set-up (see the [min–max] of the one-serve rows); with three servers and Redis "
    "taking turns on one core, the tail is mostly waiting for that core. In the hop run, CPU per delivery is mostly "
    "each process's cost per broadcast (waking threads for a message to ten clients), which the cluster pays three "
    "times. Every delivery arrived (lost 0 unless shown), and in the cost run Redis itself used well under 0.1 µs of "
    "CPU per delivery: one PUBLISH per broadcast, whatever the number of clients.")
SCALING = (
    "**Scaling.** Here the three instances and Redis share one core, so the cluster can only cost more per delivery "
    "than one process (a publish, a decode and a fan-out per instance for every broadcast), never deliver more. With "
    "a core per instance the fan-out to the clients, nearly all of the CPU, is divided among the instances, while "
    "what they share is one Redis PUBLISH per broadcast and one copy to each instance (Redis's one thread fans out to "
    "N subscribers, not to the clients): deliveries per second grow about linearly with instances until that thread "
    "saturates at broadcasts × instances pub/sub messages per second, and the same holds with the instances on "
    "several machines behind the load balancer.")


def serve(port, extra, log):
    """A serve on CPU 0; its warnings (-q keeps only those) go to `log`, to be counted."""
    return subprocess.Popen(["taskset", "-c", SERVER_CPU] + WSCTL + [
        "serve", "--port", str(port), "--bind", "127.0.0.1", "--relay", "--no-counter", "--no-page", "--no-print",
        "--max-clients", "100000", "--ping-interval", "0", "-q"] + extra,
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(log, "w"))


def stop(procs):
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


@contextlib.contextmanager
def setup(kind):
    """Yields (server processes, redis process or None, ports)."""
    procs, redis, workdir = [], None, tempfile.mkdtemp(prefix="wsctl-bench-redis-")
    try:
        if kind == "one":
            ports = [free_port()]
            procs.append(serve(ports[0], [], os.path.join(workdir, "serve-0.log")))
        else:
            redis_port = free_port()
            redis = subprocess.Popen(
                ["taskset", "-c", SERVER_CPU, "redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
                 "--save", "", "--appendonly", "no", "--dir", workdir],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if not wait_port(redis_port):
                raise RuntimeError("redis-server did not start")
            ports = [free_port() for _ in range(3)]
            for i, port in enumerate(ports):
                cluster = ["--cluster", f"redis://127.0.0.1:{redis_port}", "--cluster-name", "bench"]
                procs.append(serve(port, cluster, os.path.join(workdir, f"serve-{i}.log")))
        for port in ports:
            if not wait_port(port):
                raise RuntimeError(f"serve on {port} did not start")
        time.sleep(1.0)
        yield procs, redis, ports, workdir
    finally:
        stop(procs + ([redis] if redis else []))


def bench_command(ports, clients, rate, seconds):
    cmd = ["taskset", "-c", LOADGEN_CPU] + WSCTL + [
        "bench", f"ws://127.0.0.1:{ports[0]}/", "--mode", "broadcast", "--clients", str(clients),
        "--size", str(SIZE), "--duration", f"{seconds}s", "--json"] + (["--rate", str(rate)] if rate else [])
    for port in ports[1:]:
        cmd += ["--also", f"ws://127.0.0.1:{port}/"]
    return cmd


def run(kind, clients, rate=None):
    """One measured run. A warm-up run comes first, so that the JIT's tiering of three processes instead of one
    (about ten seconds of background compiling at a light load) is not measured; CPU is then taken from when every
    client is connected (the bench's "running" line) to the end, so the connect storm does not count either."""
    with setup(kind) as (procs, redis, ports, workdir):
        subprocess.run(bench_command(ports, clients, rate, WARM_UP), stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=240)
        gen = subprocess.Popen(bench_command(ports, clients, rate, SECONDS), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        before, redis_before = None, 0.0
        for line in gen.stderr:
            if before is None and "running for" in line:
                before = [proc_cpu_seconds(p.pid) for p in procs]
                redis_before = proc_cpu_seconds(redis.pid) if redis else 0.0
        out = gen.stdout.read()
        gen.wait(SECONDS + 240)
        serve_cpu = sum(proc_cpu_seconds(p.pid) - b for p, b in zip(procs, before))
        redis_cpu = proc_cpu_seconds(redis.pid) - redis_before if redis else 0.0
        result = json.loads(out.strip().splitlines()[-1])
        received = result["received"]
        return {
            "deliveries_per_s": result["messages_per_second"],
            "p99_us": result["latency_us"]["p99"],
            "p50_us": result["latency_us"]["p50"],
            "cpu_us_per_delivery": (serve_cpu + redis_cpu) * 1e6 / received if received else float("nan"),
            "redis_cpu_us_per_delivery": redis_cpu * 1e6 / received if received else 0.0,
            # The clients of each server, the sender's first (several servers only): the others' deliveries went
            # through Redis, in the same run as the sender's own instance's.
            "by_server": result.get("latency_us_by_server", []),
            "connected": result["connected"], "lost": result["lost"], "errors": result["errors"],
            # What the servers warned about (a client dropped as too slow, Redis lost): none in a clean run.
            "server_warnings": [line.strip() for name in sorted(os.listdir(workdir)) if name.endswith(".log")
                                for line in open(os.path.join(workdir, name)) if "WRN" in line or "ERR" in line][:5],
        }


def med(rows, key):
    return statistics.median(r[key] for r in rows)


def spread(rows, key, fmt):
    values = [r[key] for r in rows]
    return f"[{fmt.format(min(values))}–{fmt.format(max(values))}]"


def load_average():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


# The three measurements: (name, clients, paced rate or None for as fast as the servers take it).
RUNS = (("throughput", CLIENTS, None), ("cost", CLIENTS, COST_RATE), ("hop", HOP_CLIENTS, HOP_RATE))


def main():
    load_before = load_average()
    results = {(kind, name): [] for kind in ("one", "cluster") for name, _, _ in RUNS}
    for round_ in range(ROUNDS):
        for name, clients, rate in RUNS:
            for kind in ("one", "cluster"):
                r = run(kind, clients, rate)
                results[kind, name].append(r)
                print(f"round {round_ + 1} {name} {kind}: {json.dumps(r)}", file=sys.stderr)
    load_after = load_average()

    def ratio(key, name):
        return med(results["cluster", name], key) / med(results["one", name], key)

    cpu_ratio = ratio("cpu_us_per_delivery", "cost")

    def hop_added(key):
        """What the trip through Redis adds, in the same run: the clients of the slower of the instances fed
        through Redis against the clients of the sender's own instance (median over the rounds)."""
        return statistics.median(max(s[key] for s in r["by_server"][1:]) - r["by_server"][0][key]
                                 for r in results["cluster", "hop"]) / 1000

    p99_added, p50_added = hop_added("p99"), hop_added("p50")
    p99_across = (med(results["cluster", "hop"], "p99_us") - med(results["one", "hop"], "p99_us")) / 1000
    cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True,
                         text=True).stdout.strip()
    lines = [
        BEGIN,
        "## Cluster: broadcast through three `serve --cluster` instances",
        "",
        f"Made by `bench/cluster.sh` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC: {cpu}, "
        f"{os.cpu_count()} logical CPUs, kernel {platform.release()}; {ROUNDS} rounds in turns, {SECONDS} s each "
        f"after a {WARM_UP} s warm-up, medians with [min–max]. Load average (1 min) {load_before:.1f} before and "
        f"{load_after:.1f} after (the second counts the bench's own processes).",
        f"`wsctl bench --mode broadcast --size {SIZE}` with one sender on the first instance; the cluster's clients "
        "are spread over its three instances with `--also`, so two thirds of every broadcast travel through Redis. "
        "Every serve process and redis-server share CPU 0; the load generator has CPU 1. Server CPU is all serve "
        "processes plus Redis, from when every client is connected to the end of the run.",
        "",
        "| measurement | set-up | deliveries/s | server CPU µs per delivery | of it Redis | p50 | p99 | lost |",
        "|---|---|---|---|---|---|---|---|",
    ]
    what = {
        "throughput": f"throughput: {CLIENTS:,} clients, as fast as the servers take it",
        "cost": f"cost: {CLIENTS:,} clients, {COST_RATE} broadcasts/s ({COST_RATE * CLIENTS:,} deliveries/s)",
        "hop": f"hop: {HOP_CLIENTS} clients, {HOP_RATE} broadcasts/s",
    }
    for name, _, _ in RUNS:
        for kind, label in (("one", "one serve"), ("cluster", "3 × serve --cluster")):
            rows = results[kind, name]
            lines.append(
                f"| {what[name] if kind == 'one' else ''} | {label} "
                f"| {med(rows, 'deliveries_per_s'):,.0f} {spread(rows, 'deliveries_per_s', '{:,.0f}')} "
                f"| {med(rows, 'cpu_us_per_delivery'):.2f} {spread(rows, 'cpu_us_per_delivery', '{:.2f}')} "
                f"| {med(rows, 'redis_cpu_us_per_delivery'):.3f} "
                f"| {med(rows, 'p50_us') / 1000:,.2f} ms "
                f"| {med(rows, 'p99_us') / 1000:,.2f} ms {spread(rows, 'p99_us', '{:,.0f}')} µs "
                f"| {sum(r['lost'] for r in rows)} |")
    lines += [
        "",
        f"- CPU per delivery at the same rate, cluster over one instance: **{cpu_ratio:.2f}×** (target ≤ 1.3×: "
        f"{'met' if cpu_ratio <= 1.3 else 'not met'}).",
        f"- Latency the hop through Redis adds, in the same run (clients of the instances fed through Redis against "
        f"those of the sender's own instance): **{p99_added:+.2f} ms at p99** ({p50_added:+.2f} ms at p50; target "
        f"< 2 ms on loopback: {'met' if p99_added < 2 else 'not met'}). Across runs (all of the cluster's clients "
        f"against one serve's, each run with its own noise): {p99_across:+.2f} ms at p99.",
        f"- Throughput, cluster over one instance: {ratio('deliveries_per_s', 'throughput'):.2f}× (all of it on one "
        "shared core; see Scaling).",
        "",
        READING,
        "",
        SCALING,
        END,
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if "--dry" in sys.argv:
        return
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


if __name__ == "__main__":
    main()
