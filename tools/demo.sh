#!/bin/sh
# demo.sh BUILD_DIR - the main job on the bundled dumps: walk the committed
# Wine-written minidumps with the committed images (run by `make demo`).
set -u
build=${1:-build}
bin="$build/bin"
store=tests/fixtures/store
dumps=""
for name in exception cold_chunk stack_switch; do
  [ -f "tests/fixtures/wine/$name.dmp" ] && dumps="$dumps tests/fixtures/wine/$name.dmp"
done
if [ -z "$dumps" ]; then
  dumps=$(ls tests/fixtures/wine/*.dmp 2>/dev/null | head -n 3)
fi
if [ -z "$dumps" ]; then
  echo "demo: no dumps under tests/fixtures/wine" >&2
  exit 1
fi
for d in $dumps; do
  echo "==> restack walk --images $store $d"
  "$bin/restack" walk --images "$store" "$d"
  rc=$?
  # 3 = printed, but a stack ended before RIP 0 (see docs/tools.md)
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then exit "$rc"; fi
done
img=$(find "$store" -type f -name '*.exe' | head -n 1)
if [ -n "$img" ]; then
  echo "==> restack info $img (summary line)"
  "$bin/restack" info "$img" | tail -n 1
fi
exit 0
