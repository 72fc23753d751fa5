#!/usr/bin/env bash
# The C# code as `dotnet format` (the .editorconfig's rules: whitespace, braces, import order) would leave it.
# Prints "format: N passed, N failed" as its last line; `dotnet format wsctl.sln` fixes what it reports.
set -uo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
if dotnet format wsctl.sln --verify-no-changes -v quiet; then
  echo "ok   dotnet format --verify-no-changes"
  echo "format: 1 passed, 0 failed"
else
  echo "FAIL dotnet format --verify-no-changes (run: dotnet format wsctl.sln)"
  echo "format: 0 passed, 1 failed"
  exit 1
fi
