#!/usr/bin/env python3
"""make_seeds.py - writes the seed corpora of the unwind fuzz targets.

pe_image:       small real images from the fixture store (restack_fxdll.dll)
                and two truncations of it.
unwind_info:    bodies laid out as unwind_info_fuzzer.cc wraps them: .pdata in
                the first half, UNWIND_INFO blobs in the second (RVA 0x1000 = body
                offset 0), one seed per unwind-code family, chains and indirects.
virtual_unwind: 8-byte RIP offset, 8-byte RSP offset, 512 stack bytes, then a
                body as above with .pdata in the first quarter.
pdb:            the small fixture PDBs (tests/fixtures/pdb/): S_SEPCODE, OMAP,
                the publics-only chunk PDB and the inline-site PDB (inlines/).
pdb_records:    byte 0x00 then an S_SEPCODE record (sepcode.truth.json "bytes"),
                or byte 0x01 then an OMAP table (omap.truth.json), as
                pdb_records_fuzzer.cc splits them.
Run from the project root: python3 tests/fuzz/make_seeds.py
"""
import glob
import json
import os
import struct

ROOT = "tests/fuzz/corpus"


def code(offset, op, info):
    return struct.pack("<BB", offset, op | (info << 4))


def unwind_info(version, flags, prolog, codes, frame_reg=0, frame_off=0, trailer=b""):
    slots = b"".join(codes)
    count = len(slots) // 2
    if count % 2:
        slots += b"\0\0"
    return struct.pack("<BBBB", version | (flags << 3), prolog, count,
                       frame_reg | (frame_off << 4)) + slots + trailer


def body(entries, infos, size=0x400, pdata_share=2):
    """entries: (begin, end, info index or ('indirect', entry index)); infos: blobs."""
    half = size // pdata_share
    data = bytearray(size)
    offsets = []
    at = half
    for blob in infos:
        offsets.append(at)
        data[at:at + len(blob)] = blob
        at += (len(blob) + 3) & ~3
    for i, (begin, end, ref) in enumerate(entries):
        if isinstance(ref, tuple):
            unwind = 0x1000 + ref[1] * 12 + 1
        else:
            unwind = 0x1000 + offsets[ref]
        struct.pack_into("<III", data, i * 12, 0x1000 + begin, 0x1000 + end, unwind)
    return bytes(data)


def write(dirname, name, data):
    os.makedirs(os.path.join(ROOT, dirname), exist_ok=True)
    with open(os.path.join(ROOT, dirname, name), "wb") as f:
        f.write(data)


def main():
    dll = glob.glob("tests/fixtures/store/restack_fxdll.dll/*/restack_fxdll.dll")
    if dll:
        image = open(dll[0], "rb").read()
        write("pe_image", "restack_fxdll.dll", image)
        write("pe_image", "headers_only", image[:0x400])
        write("pe_image", "cut_in_sections", image[:len(image) // 2])

    families = {
        "push_alloc": [code(6, 2, 3), code(2, 0, 3), code(1, 0, 5)],
        "alloc_large": [code(9, 1, 0), struct.pack("<H", 0x200), code(2, 1, 1),
                        struct.pack("<I", 0x90000)],
        "save_far": [code(0x10, 5, 6), struct.pack("<I", 0x12345), code(8, 4, 3),
                     struct.pack("<H", 4)],
        "xmm": [code(0x10, 9, 7), struct.pack("<I", 0x100010), code(8, 8, 6),
                struct.pack("<H", 2)],
        "machframe": [code(1, 10, 1)],
        "spare_and_epilog_v1": [code(3, 7, 0), b"\0\0\0\0", code(1, 6, 0), b"\0\0"],
    }
    for name, codes in families.items():
        infos = [unwind_info(1, 0, 0x10, codes)]
        write("unwind_info", name, body([(0x300, 0x340, 0)], infos))
    setfp = unwind_info(1, 0, 8, [code(8, 3, 0), code(4, 2, 1), code(1, 0, 5)],
                        frame_reg=5, frame_off=15)
    write("unwind_info", "set_fpreg", body([(0x300, 0x340, 0)], [setfp]))
    v2 = unwind_info(2, 0, 4, [code(1, 6, 1), code(0x10, 6, 0), code(4, 2, 3), code(1, 0, 3)])
    write("unwind_info", "version2_epilogs", body([(0x300, 0x340, 0)], [v2]))
    parent = unwind_info(1, 0, 2, [code(2, 0, 3)])
    child = unwind_info(1, 4, 0, [], trailer=struct.pack("<III", 0x1300, 0x1340, 0x1200))
    write("unwind_info", "chain_and_indirect",
          body([(0x300, 0x340, 0), (0x350, 0x360, 1), (0x360, 0x368, ("indirect", 0))],
               [parent, child]))
    cyclic = unwind_info(1, 4, 0, [], trailer=struct.pack("<III", 0x1300, 0x1340, 0x1200))
    write("unwind_info", "cyclic_chain", body([(0x300, 0x340, 0)], [cyclic]))

    # virtual_unwind: RIP at body offset 0x320 (inside the function), RSP at
    # stack offset 0x40, a return address of 0 above the pushes.
    stack = bytearray(512)
    func = body([(0x320, 0x380, 0)],
                [unwind_info(1, 0, 6, [code(6, 2, 3), code(2, 0, 3), code(1, 0, 5)])],
                size=0x400, pdata_share=4)
    struct.pack_into("<Q", stack, 0x40 + 0x20 + 16, 0)
    write("virtual_unwind", "prolog_done",
          struct.pack("<QQ", 0x320 + 0x10, 0x40) + bytes(stack) + func)
    epilog = bytearray(func)
    epilog[0x330:0x337] = bytes([0x48, 0x83, 0xc4, 0x20, 0x5b, 0x5d, 0xc3])
    write("virtual_unwind", "in_epilog",
          struct.pack("<QQ", 0x330, 0x40) + bytes(stack) + bytes(epilog))

    pdbs = "tests/fixtures/pdb/"
    for name in ("sepcode.pdb", "omap.pdb", "inlines/restack_inlines.pdb"):
        write("pdb", os.path.basename(name), open(pdbs + name, "rb").read())
    publics = glob.glob(pdbs + "store-publics/restack_chunks.pdb/*/restack_chunks.pdb")
    if publics:
        write("pdb", "restack_chunks.publics.pdb", open(publics[0], "rb").read())

    sepcode = json.load(open(pdbs + "sepcode.truth.json"))
    for record in sepcode["sepcode"]:
        # Every record: each flag combination, a block of a block (depth 2), a
        # block before its parent, a block in another section.
        write("pdb_records", "sepcode-%s-%s" % (record["function"], record["record_offset"]),
              b"\x00" + bytes.fromhex(record["bytes"]))
    omap = json.load(open(pdbs + "omap.truth.json"))
    for table in ("omap_to_src", "omap_from_src"):
        entries = [(int(rva, 16), int(to, 16)) for rva, to in omap[table]]
        write("pdb_records", table, b"\x01" + b"".join(struct.pack("<II", *e) for e in entries))
        # Reversed: decoding sorts them.
        write("pdb_records", table + "-reversed",
              b"\x01" + b"".join(struct.pack("<II", *e) for e in reversed(entries)))


if __name__ == "__main__":
    main()
