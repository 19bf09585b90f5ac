#!/bin/sh
# demo.sh BUILD_DIR - the main job on the bundled dumps: walk the committed
# Wine-written minidumps with the committed images and PDBs (the fixture
# store as symbol path: frames named, cold chunks after their function), then
# re-resolve WinDbg-style text whose chunk frames carry string-literal names
# (run by `make demo`).
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
  echo "==> restack walk --sympath 'srv*$store' $d"
  "$bin/restack" walk --sympath "srv*$store" "$d"
  rc=$?
  # 3 = printed, but a stack ended before RIP 0 (see docs/tools.md)
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then exit "$rc"; fi
done
pdbs=tests/fixtures/pdb
chunks=$(find "$pdbs/store-publics" -type f -name 'restack_chunks.dll' | head -n 1)
if [ -n "$chunks" ] && [ -f "$pdbs/chunks_windbg.txt" ]; then
  echo "==> restack sym --sympath 'srv*$pdbs/store-publics' --image $chunks $pdbs/chunks_windbg.txt | head -n 14"
  "$bin/restack" sym --sympath "srv*$pdbs/store-publics" --image "$chunks" "$pdbs/chunks_windbg.txt" |
    head -n 14
fi
img=$(find "$store" -type f -name '*.exe' | head -n 1)
if [ -n "$img" ]; then
  echo "==> restack info $img (summary line)"
  "$bin/restack" info "$img" | tail -n 1
fi
exit 0
