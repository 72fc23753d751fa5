#!/usr/bin/env bash
# Regenerates completions/ from the command tree (run after adding or changing a verb or an option).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
dotnet build src/wsctl -nologo -v quiet >/dev/null
wsctl=(dotnet src/wsctl/bin/Debug/net10.0/wsctl.dll)
"${wsctl[@]}" completion bash > completions/wsctl.bash
"${wsctl[@]}" completion zsh > completions/_wsctl
"${wsctl[@]}" completion fish > completions/wsctl.fish
"${wsctl[@]}" completion pwsh > completions/wsctl.ps1
echo "completions/ regenerated"
