#!/usr/bin/env bash
# Builds the NativeAOT binary once (no IL/AOT warnings or methods ILC says will always throw) and smoke-tests it.
# Prints "native: N passed, N failed" as its last line.
set -uo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
out=$(mktemp -d)
trap 'kill ${serve_pid:-} ${first_pid:-} ${second_pid:-} ${redis_pid:-} 2>/dev/null; rm -rf "$out"' EXIT
passed=0; failed=0
check() {  # check NAME COMMAND...
  local name=$1; shift
  if "$@"; then echo "ok   $name"; passed=$((passed + 1)); else echo "FAIL $name"; failed=$((failed + 1)); fi
}
if dotnet publish src/wsctl -c Release -r linux-x64 -p:PublishAot=true -o "$out/bin" -nologo \
    >"$out/publish.log" 2>&1; then
  check "NativeAOT publish has no IL/AOT warnings" bash -c "! grep -E 'warning (IL|AOT)[0-9]+' '$out/publish.log'"
  # ILC's "will always throw" lines are not warnings, but each names a method that cannot work in the binary.
  check "NativeAOT publish has no 'will always throw' methods" bash -c "! grep 'will always throw' '$out/publish.log'"
  check "native wsctl --version names a commit" bash -c "'$out/bin/wsctl' --version | grep -qE 'commit [0-9a-f]{7,}'"
  # serve + send round trip, both native: serve echoes, send waits for the echo.
  "$out/bin/wsctl" serve --port 0 --bind 127.0.0.1 --echo --no-counter </dev/null >"$out/serve.out" 2>"$out/serve.err" &
  serve_pid=$!
  port=""
  for _ in $(seq 100); do
    port=$(sed -nE 's/.*ws:\/\/127\.0\.0\.1:([0-9]+)\/.*/\1/p' "$out/serve.err" | head -1)
    [[ -n $port ]] && break
    sleep 0.1
  done
  check "native serve starts and reports its port" test -n "$port"
  check "native send gets its echo from native serve" \
    bash -c "[[ \$('$out/bin/wsctl' send ws://127.0.0.1:$port/ hello-native --wait 1 --timeout 10s) == hello-native ]]"
  # SIGTERM: a background job of a non-interactive shell starts with SIGINT ignored, as POSIX shells do.
  kill -TERM "$serve_pid"
  for _ in $(seq 100); do kill -0 "$serve_pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$serve_pid" 2>/dev/null; then kill -KILL "$serve_pid"; rc=timeout; else wait "$serve_pid"; rc=$?; fi
  serve_pid=""
  check "native serve exits 0 on SIGTERM" test "$rc" = 0
  # serve --cluster in the native binary (StackExchange.Redis under NativeAOT): two instances on a private Redis.
  if command -v redis-server >/dev/null; then
    redis_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$out" >/dev/null &
    redis_pid=$!
    for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    cluster=(--port 0 --bind 127.0.0.1 --no-counter --cluster "redis://127.0.0.1:$redis_port" --cluster-name native)
    # The first instance on a Redis this fresh waits for client ids to settle (3 s and a lease from Redis's start).
    timeout 30 "$out/bin/wsctl" serve "${cluster[@]}" </dev/null >/dev/null 2>"$out/first.err" &
    first_pid=$!
    for _ in $(seq 200); do grep -q "joined cluster" "$out/first.err" && break; sleep 0.1; done
    timeout 20 "$out/bin/wsctl" serve "${cluster[@]}" </dev/null >/dev/null 2>"$out/second.err" &
    second_pid=$!
    for _ in $(seq 100); do grep -qs "joined cluster" "$out/second.err" && break; sleep 0.1; done
    check "native serve --cluster: a second instance joins the first through Redis" \
      grep -q "joined cluster native on redis://127.0.0.1:$redis_port/0 as .* (1 other instance(s))" "$out/second.err"
    kill -TERM "$first_pid" "$second_pid" "$redis_pid" 2>/dev/null
    wait "$first_pid" "$second_pid" "$redis_pid" 2>/dev/null
  else
    echo "skipped: native serve --cluster: redis-server is not installed (scripts/prereqs.sh installs it)"
  fi
else
  tail -20 "$out/publish.log"
  check "NativeAOT publish succeeds" false
fi
echo "native: $passed passed, $failed failed"
((failed == 0))
