#!/usr/bin/env bash
# Builds the NativeAOT binary once (no IL/AOT warnings allowed) and smoke-tests it.
# Prints "native: N passed, N failed" as its last line.
set -uo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
out=$(mktemp -d); trap 'rm -rf "$out"; [[ -n ${serve_pid:-} ]] && kill "$serve_pid" 2>/dev/null' EXIT
passed=0; failed=0
check() {  # check NAME COMMAND...
  local name=$1; shift
  if "$@"; then echo "ok   $name"; passed=$((passed + 1)); else echo "FAIL $name"; failed=$((failed + 1)); fi
}
if dotnet publish src/wsctl -c Release -r linux-x64 -p:PublishAot=true -o "$out/bin" -nologo >"$out/publish.log" 2>&1; then
  check "NativeAOT publish has no IL/AOT warnings" bash -c "! grep -E 'warning (IL|AOT)[0-9]+' '$out/publish.log'"
  check "native wsctl --version names a commit" bash -c "'$out/bin/wsctl' --version | grep -qE 'commit [0-9a-f]{7,}'"
else
  tail -20 "$out/publish.log"
  check "NativeAOT publish succeeds" false
fi
echo "native: $passed passed, $failed failed"
((failed == 0))
