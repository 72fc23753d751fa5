#!/usr/bin/env python3
"""Every source line of the repository is at most 120 characters (.editorconfig's max_line_length): the tracked
files (git ls-files), or every file when there is no git. Prints each long line and exits 1 if there is one."""
import os
import subprocess
import sys

MAX = 120
EXTENSIONS = (".cs", ".c", ".h", ".sh", ".py", ".csproj", ".props", ".targets")
SKIPPED = {"bin", "obj", "build", "node_modules", ".git"}

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
try:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True).stdout
    files = [f for f in listed.decode().split("\0") if f]
except (OSError, subprocess.CalledProcessError):
    files = [os.path.relpath(os.path.join(d, f), root) for d, dirs, names in os.walk(root)
             for f in names if not SKIPPED & set(os.path.relpath(d, root).split(os.sep))]
too_long = []
for name in sorted(files):
    path = os.path.join(root, name)
    if not name.endswith(EXTENSIONS) or not os.path.isfile(path):
        continue
    with open(path, encoding="utf-8", errors="replace") as source:
        for number, line in enumerate(source, 1):
            line = line.rstrip("\r\n")
            if len(line) > MAX:
                too_long.append(f"{name}:{number} ({len(line)} characters)")
for entry in too_long:
    print(entry)
sys.exit(1 if too_long else 0)
