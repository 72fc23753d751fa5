#!/usr/bin/env bash
# The code as the style rules leave it: `dotnet format` (the .editorconfig's rules: whitespace, braces, import order)
# and every source line within 120 characters (scripts/check-line-width.py). Prints "format: N passed, N failed" as
# its last line; `dotnet format wsctl.sln` fixes what the first reports.
set -uo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
passed=0; failed=0
if dotnet format wsctl.sln --verify-no-changes -v quiet; then
  echo "ok   dotnet format --verify-no-changes"; passed=$((passed + 1))
else
  echo "FAIL dotnet format --verify-no-changes (run: dotnet format wsctl.sln)"; failed=$((failed + 1))
fi
if /usr/bin/python3 scripts/check-line-width.py; then
  echo "ok   every source line within 120 characters"; passed=$((passed + 1))
else
  echo "FAIL source lines longer than 120 characters (listed above)"; failed=$((failed + 1))
fi
echo "format: $passed passed, $failed failed"
((failed == 0))
