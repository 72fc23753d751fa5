#!/usr/bin/env bash
# Side-by-side benchmark: wsctl serve against ASP.NET Core Kestrel, node's ws, the firmware's host build and, when
# WSCTL_BENCH_UWS names its peer (built outside the repository, see bench/README.md), uWebSockets.
#   bench/run.sh           5 rounds, taken in turns (A B C A B C ...), writes bench/RESULTS.md
#   bench/run.sh --quick   1 round, shorter runs: a smoke of the whole pipeline in under 3 minutes
# Server pinned to CPU 0, load generator (wsctl bench; bench/loadgen/echo_load for the echo keys ending in -c) to
# CPU 1. Benchmarks are not tests: nothing here asserts.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
command -v taskset >/dev/null || { echo "bench: taskset missing (apt-get install util-linux)"; exit 1; }
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

echo "bench: building (Release)" >&2
dotnet build src/wsctl -c Release -nologo -v quiet >/dev/null
dotnet build bench/KestrelPeer -c Release -nologo -v quiet >/dev/null
dotnet publish src/wsctl -c Release -r linux-x64 -p:PublishAot=true -o build/bench/aot -nologo -v quiet >/dev/null
(cd bench/node && npm install --no-audit --no-fund --silent >/dev/null)
cmake -S src/firmware/host -B build/bench/firmware -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/bench/firmware -j2 --target ws_server_host >/dev/null
mkdir -p build/bench/loadgen
gcc -O2 -Wall -Wextra -Werror -o build/bench/loadgen/echo_load bench/loadgen/echo_load.c
gcc -O2 -Wall -Wextra -Werror -o build/bench/loadgen/bare_echo bench/loadgen/bare_echo.c

exec /usr/bin/python3 bench/run.py "$@"
