#!/usr/bin/env python3
"""symbolize_vs_llvm_symbolizer.py - libsym's symbolization against llvm-symbolizer-19.

Not a test: prints figures (docs/benchmarks.md, "Symbolization vs
llvm-symbolizer-19"); exits non-zero only when something cannot run.

Inputs (image + PDB):
  amdppm          ../shared/real/symbols: Microsoft's amdppm.sys, publics-only PDB (if present)
  restack_chunks  tests/fixtures/pdb/store-full: the chunk fixture, full PDB (tiny)
  large           generated here (gen_large_module.py: 30,000 C functions in 100
                  units, clang-19 -O1 -gcodeview, lld-link-19 /DEBUG), cached in
                  WORK_DIR; skipped, saying so, without clang-19 and lld-link-19.

For each input: 100,000 RVAs drawn uniformly (fixed seed) over the executable
sections; restack: tests/bench/symbolize_bench on those RVAs (load = image +
.pdata + PDB open + index build; lookups/s of ModuleSymbols::Symbolize, which
gives the function and its source line); the peer: one
`llvm-symbolizer-19 --relative-address --obj=IMAGE` process reading the 100,000
addresses on stdin (the PDB beside the image under its RSDS name), wall clock,
best of 3, in two modes: --no-inlines (function + line: what Symbolize gives)
and --inlines (its default: inlined frames too). Its per-lookup rate is
100,000 / (time for 100,000 - time for 1 address).

Agreement: restack's function names against llvm-symbolizer's (--no-inlines)
for every address; disagreements are classified with the procedure extents
llvm-pdbutil-19 lists (S_GPROC32/S_LPROC32: addr, code size), the image's
.pdata and the PDB's publics (aliases).

End to end: when BUILD_DIR/bin/restack-sym (or build/bin/restack-sym) exists,
one more row per input times it on the same addresses as module+0xRVA lines
(one process, best of N) and checks that it names them as Symbolize does.

Usage: symbolize_vs_llvm_symbolizer.py [--build-dir build] [--work-dir DIR]
         [--functions 30000] [--units 100] [--addresses 100000] [--repeats 3] [--no-large]
"""
import argparse
import bisect
import collections
import concurrent.futures
import hashlib
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SEED = 20140612
PEER = "llvm-symbolizer-19"


def log(*a):
    print(*a, flush=True)


# ------------------------------------------------------------------ PE images

def pe_info(path):
    """Sections (name, va, memory size, executable), .pdata [begin, end) ranges and the RSDS PDB path."""
    d = open(path, "rb").read()
    (lfanew,) = struct.unpack_from("<I", d, 0x3C)
    if d[lfanew:lfanew + 4] != b"PE\0\0":
        raise ValueError(f"{path}: not a PE image")
    coff = lfanew + 4
    nsec, = struct.unpack_from("<H", d, coff + 2)
    opt_size, = struct.unpack_from("<H", d, coff + 16)
    opt = coff + 20
    if struct.unpack_from("<H", d, opt)[0] != 0x20B:
        raise ValueError(f"{path}: not PE32+")
    ndirs, = struct.unpack_from("<I", d, opt + 108)
    sections = []
    for i in range(nsec):
        o = opt + opt_size + 40 * i
        name = d[o:o + 8].rstrip(b"\0").decode("latin-1")
        vsize, va, rsize, roff = struct.unpack_from("<IIII", d, o + 8)
        ch, = struct.unpack_from("<I", d, o + 36)
        sections.append({"name": name, "va": va, "size": vsize or rsize, "raw": roff, "rsize": rsize,
                         "exec": bool(ch & 0x20000020)})

    def file_offset(rva):
        for s in sections:
            if s["va"] <= rva < s["va"] + max(s["size"], s["rsize"]):
                return s["raw"] + rva - s["va"]
        return None

    pdata = []
    if ndirs > 3:
        pva, psize = struct.unpack_from("<II", d, opt + 112 + 8 * 3)
        off = file_offset(pva) if pva else None
        for k in range(psize // 12 if off is not None else 0):
            begin, end, _ = struct.unpack_from("<III", d, off + 12 * k)
            if begin < end:
                pdata.append((begin, end))
    pdata.sort()
    pdb = None
    if ndirs > 6:
        dva, dsize = struct.unpack_from("<II", d, opt + 112 + 8 * 6)
        off = file_offset(dva) if dva else None
        for k in range(dsize // 28 if off is not None else 0):
            typ, size, _, ptr = struct.unpack_from("<IIII", d, off + 28 * k + 12)
            if typ == 2 and d[ptr:ptr + 4] == b"RSDS":
                pdb = d[ptr + 24:ptr + size].split(b"\0")[0].decode("latin-1")
    return sections, pdata, pdb


def draw_rvas(sections, n, seed):
    ranges = [(s["va"], s["size"]) for s in sections if s["exec"] and s["size"]]
    total = sum(size for _, size in ranges)
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        at = rnd.randrange(total)
        for va, size in ranges:
            if at < size:
                out.append(va + at)
                break
            at -= size
    return out


# ------------------------------------------------------------------ the large input

def build_large(work, functions, units):
    """Generates and builds large.dll + large.pdb (cached); returns (image, pdb) or None."""
    missing = [t for t in ("clang-19", "lld-link-19") if shutil.which(t) is None]
    if missing:
        log(f"large input: skipped ({', '.join(missing)} missing; Debian: apt-get install clang-19 lld-19)")
        return None
    gen = os.path.join(HERE, "gen_large_module.py")
    key = hashlib.sha256(open(gen, "rb").read() + f"{functions}/{units}/{SEED}".encode()).hexdigest()[:12]
    out = os.path.join(work, f"large-{key}")
    image, pdb = os.path.join(out, "large.dll"), os.path.join(out, "large.pdb")
    if os.path.exists(image) and os.path.exists(pdb):
        log(f"large input: cached in {out}")
        return image, pdb
    shutil.rmtree(out, ignore_errors=True)
    src = os.path.join(out, "src")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, gen, src, "--functions", str(functions), "--units", str(units),
                    "--seed", str(SEED)], check=True, stdout=subprocess.DEVNULL)
    cflags = ["--target=x86_64-pc-windows-msvc", "-g", "-gcodeview", "-fasynchronous-unwind-tables", "-O1",
              "-fno-builtin", "-fno-stack-protector", "-c"]
    sources = sorted(f for f in os.listdir(src) if f.endswith(".c"))
    log(f"large input: compiling {len(sources)} units ({functions} functions) with clang-19 -O1 -gcodeview ...")

    def cc(f):
        subprocess.run(["clang-19", *cflags, f, "-o", f[:-2] + ".obj"], cwd=src, check=True)

    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as ex:
        list(ex.map(cc, sources))
    subprocess.run(["lld-link-19", "/dll", "/noentry", "/nodefaultlib", "/debug", "/opt:noref", "/opt:noicf",
                    "/out:" + image, "/pdb:" + pdb, *[os.path.join(src, f[:-2] + ".obj") for f in sources]],
                   check=True, stdout=subprocess.DEVNULL)
    log(f"large input: built in {time.perf_counter() - t0:.0f} s: {out}")
    return image, pdb


# ------------------------------------------------------------------ running things

def timed(cmd, stdin_path, stdout_path, cwd=None):
    """(wall s, cpu s) of one process: stdin from a file, stdout to a file."""
    with open(stdin_path, "rb") as fin, open(stdout_path, "wb") as fout:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdin=fin, stdout=fout, stderr=subprocess.PIPE, cwd=cwd)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        err = p.stderr.read().decode(errors="replace")
        p.stderr.close()
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}: {err.strip()[:500]}")
    return wall, ru.ru_utime + ru.ru_stime


def best_of(n, cmd, stdin_path, stdout_path, cwd=None):
    runs = [timed(cmd, stdin_path, stdout_path, cwd) for _ in range(n)]
    return min(r[0] for r in runs), min(r[1] for r in runs)


def peer_names(path):
    """Function name per address from --no-inlines LLVM-style output: three lines an
    address (name, location, blank); '??' when none (an empty name too)."""
    lines = open(path, encoding="utf-8", errors="replace").read().split("\n")
    return [n if n else "??" for n in lines[0:len(lines) - 1:3]]


def procedure_extents(pdb, sections):
    """[(rva, end, name)] of S_GPROC32/S_LPROC32 as llvm-pdbutil-19 lists them, or None."""
    if shutil.which("llvm-pdbutil-19") is None:
        return None
    text = subprocess.run(["llvm-pdbutil-19", "dump", "--symbols", pdb], capture_output=True, text=True).stdout
    out = []
    rx = re.compile(r"S_[GL]PROC32(?:_ID)? \[size = \d+\] `([^`]*)`\n\s*parent = \d+, end = \d+, "
                    r"addr = (\d+):(\d+), code size = (\d+)")
    for m in rx.finditer(text):
        sec, off, size = int(m.group(2)), int(m.group(3)), int(m.group(4))
        if 1 <= sec <= len(sections):
            rva = sections[sec - 1]["va"] + off
            out.append((rva, rva + size, m.group(1)))
    out.sort()
    return out


def publics_by_name(pdb, sections):
    """{name: {rva}} of the S_PUB32 records llvm-pdbutil-19 lists, or {}."""
    if shutil.which("llvm-pdbutil-19") is None:
        return {}
    text = subprocess.run(["llvm-pdbutil-19", "dump", "--publics", pdb], capture_output=True, text=True).stdout
    out = collections.defaultdict(set)
    for m in re.finditer(r"S_PUB32 \[size = \d+\] `([^`]*)`\n\s*flags = [^\n]*addr = (\d+):(\d+)", text):
        sec = int(m.group(2))
        if 1 <= sec <= len(sections):
            out[m.group(1)].add(sections[sec - 1]["va"] + int(m.group(3)))
    return out


def covering(ranges, starts, rva):
    i = bisect.bisect_right(starts, rva) - 1
    return ranges[i] if i >= 0 and rva < ranges[i][1] else None


# ------------------------------------------------------------------ main

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    ap.add_argument("--work-dir", default=os.path.join(os.environ.get("TMPDIR", "/tmp"), "restack-bench-symbolize"))
    ap.add_argument("--functions", type=int, default=30000)
    ap.add_argument("--units", type=int, default=100)
    ap.add_argument("--addresses", type=int, default=100000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-large", action="store_true")
    args = ap.parse_args()

    bench = os.path.join(args.build_dir, "tests", "bench", "symbolize_bench")
    if not os.access(bench, os.X_OK):
        sys.exit(f"symbolize_vs_llvm_symbolizer: {bench} missing (build with -DRESTACK_BENCH=ON)")
    restack_sym = None
    for d in (args.build_dir, os.path.join(ROOT, "build")):
        if os.access(os.path.join(d, "bin", "restack-sym"), os.X_OK):
            restack_sym = os.path.abspath(os.path.join(d, "bin", "restack-sym"))
            break
    have_peer = shutil.which(PEER) is not None
    if not have_peer:
        log(f"{PEER} missing (Debian: apt-get install llvm-19): restack figures only")
    work = os.path.abspath(args.work_dir)
    os.makedirs(work, exist_ok=True)

    inputs = []
    real = os.path.join(ROOT, "..", "shared", "real", "symbols")
    amd = (os.path.join(real, "amdppm.sys", "c9c030003b000", "amdppm.sys"),
           os.path.join(real, "amdppm.pdb", "1C19FDDB27BB3399D9B45973EFEAFCF31", "amdppm.pdb"))
    if all(os.path.exists(p) for p in amd):
        inputs.append(("amdppm", *amd))
    else:
        log("amdppm: skipped (../shared/real/symbols absent)")
    fx = os.path.join(ROOT, "tests", "fixtures", "pdb", "store-full")
    inputs.append(("restack_chunks", os.path.join(fx, "restack_chunks.dll", "8E7D24127000", "restack_chunks.dll"),
                   os.path.join(fx, "restack_chunks.pdb", "05E38BAE925816984C4C44205044422E1", "restack_chunks.pdb")))
    if not args.no_large:
        large = build_large(work, args.functions, args.units)
        if large:
            inputs.append(("large", *large))

    # Addresses, and a directory per input where the peer finds the PDB beside the image.
    meta = {}
    for name, image, pdb in inputs:
        sections, pdata, rsds = pe_info(image)
        rvas = draw_rvas(sections, args.addresses, SEED)
        rva_file = os.path.join(work, f"{name}.rvas")
        with open(rva_file, "w") as f:
            f.write("".join(f"0x{r:x}\n" for r in rvas))
        with open(os.path.join(work, f"{name}.modrva"), "w") as f:
            f.write("".join(f"{name}+0x{r:x}\n" for r in rvas))
        with open(os.path.join(work, f"{name}.modrva1"), "w") as f:
            f.write(f"{name}+0x{rvas[0]:x}\n")
        one_file = os.path.join(work, f"{name}.one")
        with open(one_file, "w") as f:
            f.write(f"0x{rvas[0]:x}\n")
        peer_dir = os.path.join(work, f"peer-{name}")
        shutil.rmtree(peer_dir, ignore_errors=True)
        os.makedirs(peer_dir)
        os.symlink(os.path.abspath(image), os.path.join(peer_dir, os.path.basename(image)))
        pdb_name = re.split(r"[\\/]", rsds)[-1] if rsds else os.path.basename(pdb)
        os.symlink(os.path.abspath(pdb), os.path.join(peer_dir, pdb_name))
        meta[name] = {"image": image, "pdb": pdb, "sections": sections, "pdata": pdata, "rvas": rvas,
                      "rva_file": rva_file, "one_file": one_file, "peer_dir": peer_dir,
                      "peer_obj": os.path.basename(image)}

    # restack: one benchmark process, every input, names dumped for the agreement check.
    log(f"restack: {bench} ...")
    cmd = [bench, "--benchmark_format=json", "--benchmark_out=" + os.path.join(work, "restack.json"),
           "--benchmark_out_format=json"]
    for name, image, pdb in inputs:
        cmd += [f"--input={name},{os.path.abspath(image)},{os.path.abspath(pdb)},{meta[name]['rva_file']}",
                f"--dump={name},{os.path.join(work, name + '.restack.txt')}"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    results = {b["name"].replace("/real_time", ""): b
               for b in json.load(open(os.path.join(work, "restack.json")))["benchmarks"]}
    ms = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}

    def r_ms(bench_name, field):
        b = results[bench_name]
        return b[field] * ms[b["time_unit"]]

    for name in meta:
        m = meta[name]
        m["symbols"] = int(results[f"load/total/{name}"]["symbols"])
        m["load_ms"] = r_ms(f"load/total/{name}", "real_time")
        m["load_cpu_ms"] = r_ms(f"load/total/{name}", "cpu_time")
        m["pdb_open_ms"] = r_ms(f"load/pdb_open/{name}", "real_time")
        m["index_ms"] = r_ms(f"load/index_build/{name}", "real_time")
        n = len(m["rvas"])
        for what in ("symbolize", "lookup", "line_at", "pdata_resolve"):
            m[what + "_wall"] = n / (r_ms(f"{what}/{name}", "real_time") / 1e3)
            m[what + "_cpu"] = n / (r_ms(f"{what}/{name}", "cpu_time") / 1e3)

    # The peer, once per mode, best of N.
    modes = [("no-inlines", ["--no-inlines"]), ("inlines", ["--inlines"])]
    if have_peer:
        for name in meta:
            m = meta[name]
            base = [PEER, "--relative-address", "--obj=" + m["peer_obj"]]
            for mode, flags in modes:
                log(f"{PEER} {' '.join(flags)}: {name}, {len(m['rvas'])} addresses, best of {args.repeats} ...")
                out = os.path.join(work, f"{name}.peer-{mode}.txt")
                wall, cpu = best_of(args.repeats, base + flags, m["rva_file"], out, cwd=m["peer_dir"])
                wall1, cpu1 = best_of(args.repeats, base + flags, m["one_file"], out + ".one", cwd=m["peer_dir"])
                m[mode] = {"wall": wall, "cpu": cpu, "wall1": wall1, "cpu1": cpu1, "out": out}

    # restack-sym end to end: the same addresses as module+0xRVA lines, one process.
    if restack_sym:
        for name in meta:
            m = meta[name]
            # The image is named by its file name; the PDB sits beside it (the peer's directory).
            cmd = [restack_sym, "--sympath", m["peer_dir"], "--image", m["peer_obj"], "-"]
            log(f"restack-sym: {name}, {len(m['rvas'])} module+0xRVA lines, best of {args.repeats} ...")
            out = os.path.join(work, f"{name}.restack-sym.txt")
            wall, cpu = best_of(args.repeats, cmd, os.path.join(work, f"{name}.modrva"), out, cwd=m["peer_dir"])
            wall1, cpu1 = best_of(args.repeats, cmd, os.path.join(work, f"{name}.modrva1"), out + ".one",
                                  cwd=m["peer_dir"])
            m["restack-sym"] = {"wall": wall, "cpu": cpu, "wall1": wall1, "cpu1": cpu1, "out": out}
    else:
        log("restack-sym: not built; no end-to-end row")

    # ---------------------------------------------------------- the table
    def rate(x):
        return f"{x / 1e6:.2f} M/s" if x >= 1e6 else f"{x / 1e3:.1f} k/s"

    log("")
    log(f"Symbolization of {args.addresses:,} random RVAs in executable sections "
        f"(restack: ModuleSymbols::Symbolize = function + source line; wall clock, CPU in brackets)")
    head = ["input", "#symbols", "restack load ms", "restack lookups/s", f"{PEER} mode",
            "llvm total s (100k)", "llvm load s (1 addr)", "llvm lookups/s", "ratio lookups/s", "ratio total"]
    rows = [head]
    for name in meta:
        m = meta[name]
        for mode, _ in (modes if have_peer else [("-", None)]):
            p = m.get(mode)
            row = [name, f"{m['symbols']:,}", f"{m['load_ms']:.2f} [{m['load_cpu_ms']:.2f}]",
                   f"{rate(m['symbolize_wall'])} [{rate(m['symbolize_cpu'])}]", mode]
            if p:
                n = len(m["rvas"])
                peer_rate = n / max(p["wall"] - p["wall1"], 1e-9)
                peer_rate_cpu = n / max(p["cpu"] - p["cpu1"], 1e-9)
                restack_total = m["load_ms"] / 1e3 + n / m["symbolize_wall"]
                row += [f"{p['wall']:.3f} [{p['cpu']:.3f}]", f"{p['wall1']:.3f}",
                        f"{rate(peer_rate)} [{rate(peer_rate_cpu)}]",
                        f"{m['symbolize_wall'] / peer_rate:.0f}x [{m['symbolize_cpu'] / peer_rate_cpu:.0f}x]",
                        f"{p['wall'] / restack_total:.0f}x"]
            else:
                row += ["n/a"] * 5
            rows.append(row)
        e = m.get("restack-sym")
        if e:
            n = len(m["rvas"])
            e_rate = n / max(e["wall"] - e["wall1"], 1e-9)
            e_rate_cpu = n / max(e["cpu"] - e["cpu1"], 1e-9)
            row = [name, f"{m['symbols']:,}", f"{e['wall1'] * 1e3:.1f} (1 addr)",
                   f"{rate(e_rate)} [{rate(e_rate_cpu)}]", "restack-sym vs no-inlines"]
            p = m.get("no-inlines")
            if p:
                peer_rate = n / max(p["wall"] - p["wall1"], 1e-9)
                peer_rate_cpu = n / max(p["cpu"] - p["cpu1"], 1e-9)
                row += [f"{p['wall']:.3f} [{p['cpu']:.3f}]", f"{p['wall1']:.3f}",
                        f"{rate(peer_rate)} [{rate(peer_rate_cpu)}]",
                        f"{e_rate / peer_rate:.0f}x [{e_rate_cpu / peer_rate_cpu:.0f}x]",
                        f"{p['wall'] / e['wall']:.0f}x"]
            else:
                row += ["n/a"] * 5
            rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    for i, r in enumerate(rows):
        log("  ".join(c.ljust(w) for c, w in zip(r, widths)))
        if i == 0:
            log("  ".join("-" * w for w in widths))
    log("ratio lookups/s: restack Symbolize rate / llvm-symbolizer rate (its 1-address run subtracted); "
        "ratio total: llvm-symbolizer's process for 100k / restack load + 100k Symbolize")
    if restack_sym:
        log(f"restack-sym rows ({restack_sym}): whole process on {args.addresses:,} module+0xRVA lines "
            "(text out, names and source lines); 'load' = the process on 1 line; "
            "ratio total: llvm-symbolizer's process / restack-sym's process")
    log("")
    log("restack parts (lookups/s, wall [CPU]); load parts (ms, wall):")
    for name in meta:
        m = meta[name]
        parts = ", ".join(f"{w} {rate(m[w + '_wall'])} [{rate(m[w + '_cpu'])}]"
                          for w in ("lookup", "line_at", "pdata_resolve"))
        log(f"  {name}: {parts}; pdb_open {m['pdb_open_ms']:.2f}, index_build {m['index_ms']:.2f}")

    # ---------------------------------------------------------- agreement
    if not have_peer:
        return 0
    log("")
    log(f"Agreement of function names, restack vs {PEER} --no-inlines (unnamed: '??'):")
    for name in meta:
        m = meta[name]
        peer = peer_names(m["no-inlines"]["out"])
        ours = []
        for line in open(os.path.join(work, name + ".restack.txt"), encoding="utf-8"):
            f = line.rstrip("\n").split("\t")
            ours.append((int(f[0], 16), f[1] or "??", f[3]))
        if len(peer) != len(ours):
            log(f"  {name}: {PEER} gave {len(peer)} answers for {len(ours)} addresses; not compared")
            continue
        extents = procedure_extents(m["pdb"], m["sections"]) if name == "large" else None
        starts = [e[0] for e in extents] if extents else None
        pstarts = [r[0] for r in m["pdata"]]
        publics = publics_by_name(m["pdb"], m["sections"])
        agree = 0
        kinds = collections.Counter()
        examples = collections.defaultdict(list)
        for (rva, fn, origin), pn in zip(ours, peer):
            if fn == pn:
                agree += 1
                continue
            if extents is not None:
                kind = ("outside every procedure extent" if covering(extents, starts, rva) is None
                        else "inside a procedure extent")
            elif fn == "??":
                kind = "restack unnamed, " + ("inside a .pdata entry" if covering(m["pdata"], pstarts, rva)
                                              else "outside every .pdata entry")
            elif pn == "??":
                kind = f"{PEER} unnamed"
            elif pn.startswith(fn + "("):
                kind = f"same function, {PEER} adds the demangled parameter list"
            elif publics.get(fn) and publics.get(fn) & publics.get(pn, set()):
                kind = "aliases (both names are publics at one address)"
            else:
                kind = "names differ"
            kinds[kind] += 1
            examples[kind].append((rva, fn, pn))
        sym_line = None
        e = m.get("restack-sym")
        if e:
            # module!Function[+-0xOFF][ (...)][ [file @ line]], or module+0xRVA when unnamed.
            rx = re.compile(re.escape(name) + r"!(.*?)(?:[+-]0x[0-9a-fA-F]+)?(?: \(.*\))?(?: \[.*\])?$")
            same = 0
            sym_lines = open(e["out"], encoding="utf-8", errors="replace").read().split("\n")
            for (rva, fn, origin), text in zip(ours, sym_lines):
                mm = rx.match(text)
                same += (mm.group(1) if mm else "??") == fn
            sym_line = f"    restack-sym (end to end) names as Symbolize does for {same:,}/{len(ours):,}"
        n = len(ours)
        line = f"  {name}: {agree:,}/{n:,} = {100.0 * agree / n:.2f}%"
        if extents is not None:
            inside_n = n - sum(1 for rva, _, _ in ours if covering(extents, starts, rva) is None)
            inside_agree = inside_n - kinds["inside a procedure extent"]
            line += (f"; inside a procedure extent (llvm-pdbutil-19): {inside_agree:,}/{inside_n:,} = "
                     f"{100.0 * inside_agree / max(inside_n, 1):.3f}%")
        log(line)
        for kind, count in kinds.most_common():
            ex = "; ".join(f"0x{rva:x} restack {fn} / llvm {pn}" for rva, fn, pn in examples[kind][:4])
            log(f"    {count:,} {kind}: e.g. {ex}")
        if sym_line:
            log(sym_line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
