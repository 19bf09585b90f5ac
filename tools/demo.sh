#!/bin/sh
# demo.sh BUILD_DIR - `make demo`: the seed's story on the bundled dumps (demo/,
# docs/demo.md). Three "machines" bugchecked 0x44 (MULTIPLE_IRP_COMPLETE_REQUESTS) in
# Hamdrv.sys, each written as a bitmap MEMORY.DMP and a triage minidump; demo/symbols
# holds their images and PDBs (none for Hamdrv.sys and bdfndisf6.sys).
#
#   1. walks every MEMORY.DMP with the demo's symbol store;
#   2. walks every triage minidump and checks it gives the same frames;
#   3. shows the kernel's cold-chunk frame as restack names it beside the name a
#      nearest-public symbolizer gives it (WinDbg with a publics-only PDB): the public at
#      or below the address, from llvm-pdbutil-19's listing of the kernel's PDB;
#   4. (shorter) the same chunk naming on a Wine-written user minidump, and restack-sym
#      re-resolving WinDbg text whose chunk frames carry string-literal names;
#   5. the consistency report (restack diff) and 6. the verdict (restack blame), when
#      the build has them.
# Exit status 1 when a walk fails outright (2 and above from restack-walk); 3 (a
# stack that ends early: the user-mode frame behind a system call is in no kernel
# module) is the expected outcome on two of the machines.
set -u
build=${1:-build}
bin="$build/bin"
demo=demo
sym="srv*$demo/symbols"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/restack-demo.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
machines=$(ls -d "$demo"/machine*/ 2>/dev/null | sed 's,/$,,')
if [ -z "$machines" ]; then
  echo "demo: no machines under $demo/ (tests/fixtures/demo/regenerate.sh writes them)" >&2
  exit 1
fi
memory=$(for m in $machines; do echo "$m/MEMORY.DMP"; done)

say() { printf '\n== %s\n' "$*"; }
# walk ARGS...: restack walk; 0 and 3 (printed, a stack ended early) are fine.
walk() {
  "$bin/restack" walk "$@"
  rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then echo "demo: restack walk $* failed ($rc)" >&2; exit 1; fi
}
# minidump MACHINE_DIR: its triage dump.
minidump() { ls "$1"/Mini*.dmp | head -n 1; }

say "LogMeIn Hamachi, 2014: bugcheck 0x44 on three machines ($demo/README.md)"
for m in $machines; do
  "$bin/restack" info "$m/MEMORY.DMP" |
    awk -v m="${m#$demo/}" '/^OS build:/ { b = $3 } /^System time:/ { t = $3 " " $4 }
      /^Bugcheck:/ { c = $2 " " $3 } /^Modules/ { n = $2; gsub(/[^0-9]/, "", n) }
      $3 == "bdfndisf6.sys" { f = " (bdfndisf6.sys among them)" }
      END { printf "%s  build %s  %s UTC  %s  %s modules%s\n", m, b, t, c, n, f }'
done

say "1. restack walk --sympath '$sym' $demo/machine*/MEMORY.DMP"
walk --sympath "$sym" $memory 2>/dev/null
echo "(stderr left out: Hamdrv.sys and bdfndisf6.sys have no PDB; stacks that end at the"
echo " user-mode return address behind the system call say so, as WinDbg's did)"

say "2. The triage minidumps give the same frames"
for m in $machines; do
  mini=$(minidump "$m")
  walk --sympath "$sym" "$m/MEMORY.DMP" 2>/dev/null | grep '^[0-9a-f][0-9a-f] ' > "$tmp/a.txt"
  walk --sympath "$sym" "$mini" 2>/dev/null | grep '^[0-9a-f][0-9a-f] ' > "$tmp/b.txt"
  if cmp -s "$tmp/a.txt" "$tmp/b.txt"; then
    echo "${mini#$demo/}: the same $(wc -l < "$tmp/b.txt") frames as MEMORY.DMP"
  else
    echo "${mini#$demo/}: differs from MEMORY.DMP:"; diff "$tmp/a.txt" "$tmp/b.txt"
  fi
done

# windbg_name PDB RVA: the name a symbolizer that takes the nearest public at or below
# an address gives it -- what WinDbg shows with a publics-only PDB. A string literal's
# public ??_C@_<n><length>@<hash>@...@ is shown as WinDbg does, " ?? ::<hash>::`string'".
# Publics and section addresses are llvm-pdbutil-19's; addresses are RVAs.
windbg_name() {
  sections=$(llvm-pdbutil-19 dump --section-headers "$1" |
    awk '/SECTION HEADER #/ { n = substr($3, 2) } / virtual address$/ { printf "%s:%s ", n, $1 }')
  llvm-pdbutil-19 dump --publics "$1" | awk -v sections="$sections" -v target="$2" '
    function hex(h,   i, v) {
      v = 0; h = tolower(h)
      for (i = 1; i <= length(h); i++) v = v * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
      return v
    }
    BEGIN { n = split(sections, s, " "); for (i = 1; i <= n; i++) { split(s[i], p, ":"); va[p[1] + 0] = hex(p[2]) } best = -1 }
    /S_PUB32/ { name = $0; sub(/^[^`]*`/, "", name); sub(/`[^`]*$/, "", name) }
    /addr = / { split($NF, a, ":"); rva = va[a[1] + 0] + a[2]
                if (rva <= target && rva > best) { best = rva; found = name } }
    END {
      if (best < 0) { print "?"; exit }
      shown = found
      if (substr(found, 1, 5) == "??_C@") {
        rest = substr(found, 8)
        if (rest ~ /^[0-9]/) rest = substr(rest, 2); else rest = substr(rest, index(rest, "@") + 1)
        shown = " ?? ::" substr(rest, 1, index(rest, "@") - 1) "::`string\047"
      }
      printf "nt!%s+0x%x\t%s at RVA 0x%x\n", shown, target - best, found, best
    }'
}

say "3. The nt cold-chunk frame, named two ways"
echo "restack follows the chunk's .pdata entry, chained to IofCompleteRequest's. A"
echo "nearest-public symbolizer (WinDbg with the kernel's public PDB) names it after the"
echo "string literal before it (llvm-pdbutil-19 dump --publics), at an offset that changes"
echo "with every build."
if command -v llvm-pdbutil-19 >/dev/null; then
  for m in $machines; do
    walk --sympath "$sym" "$m/MEMORY.DMP" 2>/dev/null > "$tmp/walk.txt"
    # The chunk frame's RIP: the RetAddr of the frame above it.
    set -- $(awk '/\(Chunk @/ { print rip; $1 = $2 = $3 = ""; sub(/^ +/, ""); print; exit } { rip = $3 }' "$tmp/walk.txt" | tr '\n' ' ')
    rip=$1; shift; named="$*"
    info=$("$bin/restack" info "$m/MEMORY.DMP")
    base=$(echo "$info" | awk '$3 == "ntoskrnl.exe" { print $1; exit }')
    key=$(echo "$info" | awk '$3 == "ntoskrnl.exe" { print $5; exit }')
    pdbkey=$("$bin/restack" info "$demo/symbols/ntoskrnl.exe/$key/ntoskrnl.exe" | awk '/^PDB key:/ { print $3 }')
    pdb="$demo/symbols/ntkrnlmp.pdb/$pdbkey/ntkrnlmp.pdb"
    # RVA from the low 32 bits (the image does not cross a 4 GiB boundary).
    lo() { echo "$1" | tr -d '`' | sed 's/.*\(........\)$/\1/'; }
    rva=$(( 0x$(lo "$rip") - 0x$(lo "$base") ))
    naive=$(windbg_name "$pdb" "$rva")
    printf '%s  %s\n' "${m#$demo/}" "$rip"
    printf '  restack:          %s\n' "$named"
    printf '  nearest public:   %s\n' "$(echo "$naive" | cut -f1)"
    printf '                    (%s in ntkrnlmp.pdb %s)\n' "$(echo "$naive" | cut -f2)" "$pdbkey"
  done
else
  echo "(llvm-pdbutil-19 not installed -- Debian's llvm-19: the nearest-public names are skipped)"
fi

say "4. The same chunk naming elsewhere: a Wine-written user minidump, and WinDbg text re-resolved"
store=tests/fixtures/store
if [ -f tests/fixtures/wine/cold_chunk.dmp ]; then
  echo "==> restack walk --sympath 'srv*$store' tests/fixtures/wine/cold_chunk.dmp | head -n 7"
  walk --sympath "srv*$store" tests/fixtures/wine/cold_chunk.dmp 2>/dev/null | head -n 7
fi
pdbs=tests/fixtures/pdb
chunks=$(find "$pdbs/store-publics" -type f -name 'restack_chunks.dll' 2>/dev/null | head -n 1)
if [ -n "$chunks" ] && [ -f "$pdbs/chunks_windbg.txt" ]; then
  echo "==> restack sym --sympath 'srv*$pdbs/store-publics' --image $chunks $pdbs/chunks_windbg.txt | head -n 6"
  "$bin/restack" sym --sympath "srv*$pdbs/store-publics" --image "$chunks" "$pdbs/chunks_windbg.txt" |
    head -n 6
fi

# ---------------------------------------------------------------- restack diff / blame
# Issue 6, items 1-2: the place for restack-diff's and restack-blame's commands (their
# author may refine them). A build without the tools skips the two steps.
say "5. Consistency across the machines (restack diff)"
if [ -x "$bin/restack-diff" ]; then
  echo "==> restack walk --json --sympath '$sym' $demo/machine*/MEMORY.DMP | restack diff -"
  walk --json --sympath "$sym" $memory 2>/dev/null | "$bin/restack" diff -
else
  echo "(restack-diff is not built ($bin/restack-diff): the consistency report is skipped)"
fi
say "6. The verdict (restack blame)"
if [ -x "$bin/restack-blame" ]; then
  echo "==> restack blame --sympath '$sym' $demo/machine*/MEMORY.DMP"
  "$bin/restack" blame --sympath "$sym" $memory 2>/dev/null
else
  echo "(restack-blame is not built ($bin/restack-blame): the verdict is skipped)"
fi
# ---------------------------------------------------------------- end of the wiring

exit 0
