#!/usr/bin/env bash
# format_check.sh — every C++ and CUDA source the repository tracks is laid out as
# .clang-format says; names the files that are not (fix: clang-format -i FILE).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "format_check: clang-format is not installed (launch/install-deps.sh installs it)" >&2; exit 1; }
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.cc' '*.h' '*.cu' '*.cuh')
else
  mapfile -t files < <(find src include kernels tests benchmarks tools -name '*.cc' -o -name '*.h' -o -name '*.cu' -o -name '*.cuh' 2>/dev/null)
fi
[ ${#files[@]} -gt 0 ] || { echo "format_check: no sources found" >&2; exit 1; }
bad=()
for f in "${files[@]}"; do
  clang-format --style=file --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
  echo "format_check: ${#bad[@]} of ${#files[@]} files differ from .clang-format: ${bad[*]}" >&2
  exit 1
fi
echo "format_check: ${#files[@]} files laid out as .clang-format says"
