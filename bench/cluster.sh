#!/usr/bin/env bash
# Cluster benchmark: broadcast through three `serve --cluster` instances against one serve, same clients,
# written into bench/RESULTS.md's "Cluster" section. Needs redis-server (scripts/prereqs.sh installs it); starts its
# own on a free port. Options: --rounds N, --seconds N, --clients N, --cost-rate N, --hop-clients N, --hop-rate N,
# --dry (print only). Benchmarks are not tests.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
command -v taskset >/dev/null || { echo "bench: taskset missing (apt-get install util-linux)"; exit 1; }
command -v redis-server >/dev/null || { echo "bench: redis-server missing (scripts/prereqs.sh)"; exit 1; }
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "bench: building (Release)" >&2
dotnet build src/wsctl -c Release -nologo -v quiet >/dev/null
exec /usr/bin/python3 bench/cluster.py "$@"
