#!/usr/bin/env bash
# Installs the Debian packages the tests need (idempotent). As root it runs apt-get; otherwise it prints the exact
# line to run and fails. Each package is listed with what needs it.
set -euo pipefail
declare -A need_by=(
  [chromium]="the test page in a real browser"
  [python3-websockets]="an independent WebSocket peer"
  [socat]="a pseudo-terminal bridge to the ROM-loader simulator"
  [avahi-daemon]="an independent mDNS peer"
  [avahi-utils]="avahi-resolve / avahi-browse"
  [dbus]="a private bus for avahi's clients"
  [iproute2]="network namespaces for mDNS tests"
  [zsh]="a syntax check of the zsh completion"
  [fish]="a syntax check of the fish completion"
  [cmake]="the firmware host build"
  [libgtest-dev]="the firmware unit tests"
  [clang-14]="the firmware fuzz target"
  [libclang-rt-14-dev]="libFuzzer and sanitizer runtimes"
  [valgrind]="the firmware memory check"
  [gcc-riscv64-unknown-elf]="the 32-bit RISC-V compile gate, and the ELF (with addr2line) the monitor tests \
decode against"
  [libnewlib-dev]="newlib headers for the RISC-V gate"
  [g++]="the firmware unit tests (GoogleTest is C++)"
  [redis-server]="the backplane of serve --cluster (the tests start their own on a free port, never the service)"
  [haproxy]="the load balancer in front of three clustered serve instances"
)
missing=()
for pkg in "${!need_by[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
((${#missing[@]} == 0)) && exit 0
IFS=$'\n' missing=($(sort <<<"${missing[*]}")); unset IFS
line="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  echo "prereqs: missing Debian packages. Run as root:" >&2
  echo "  sudo sh -c '$line'" >&2
  exit 1
fi
echo "prereqs: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  tail -20 "$log" >&2
  echo "prereqs: apt-get failed; the line was: $line" >&2
  exit 1
fi
rm -f "$log"
