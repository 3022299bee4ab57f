#!/usr/bin/env python3
"""Appends a llamac payload (ModelABI.h) to FILE, creating FILE if absent.

For the runtime's tests only; the compiler has its own writer. Layout:
    FILE's bytes | zero padding | section data (each 4096-aligned)
                 | section table | trailer
The "weights" section holds byte i = i % 251, which the fake model checks;
--section and --section-file add more (e.g. a tokenizer.model), in that order.
--corrupt breaks one thing, for the error tests.
"""
import argparse
import struct

MAGIC = b"LLAMACPL"
VERSION = 1
ALIGN = 4096
SECTION = struct.Struct("<24sQQ")  # name, offset, bytes
TRAILER = struct.Struct("<8sIIQ")  # magic, version, num_sections, table_offset

CORRUPTIONS = {
    "magic": "a wrong magic in the trailer",
    "version": "payload format version 2",
    "truncated-table": "num_sections larger than the table in the file",
    "table-offset": "a table offset past the end of the file",
    "unaligned": "the weights section's offset not 4096-aligned",
    "section-past-end": "the weights section extending past the section data",
    "no-weights": "no section named 'weights'",
    "duplicate": "two sections named 'weights'",
    "unnamed": "a section with an empty name",
}


def pad(data):
    return b"\0" * (-len(data) % ALIGN)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file")
    parser.add_argument("--weights-bytes", type=int, default=4096,
                        help="size of the weights section (the fake expects 4096)")
    parser.add_argument("--section", action="append", default=[], metavar="NAME=BYTES",
                        help="an extra section of BYTES bytes of 0xAB")
    parser.add_argument("--section-file", action="append", default=[], metavar="NAME=PATH",
                        help="an extra section holding the bytes of the file PATH")
    parser.add_argument("--corrupt", choices=sorted(CORRUPTIONS),
                        help="; ".join(f"{k}: {v}" for k, v in CORRUPTIONS.items()))
    args = parser.parse_args()

    try:
        with open(args.file, "rb") as f:
            out = bytearray(f.read())
    except FileNotFoundError:
        out = bytearray()

    sections = [("weights", bytes(i % 251 for i in range(args.weights_bytes)))]
    for spec in args.section:
        name, size = spec.split("=")
        sections.append((name, b"\xab" * int(size)))
    for spec in args.section_file:
        name, path = spec.split("=", 1)
        with open(path, "rb") as f:
            sections.append((name, f.read()))

    table = []
    for name, data in sections:
        out += pad(out)
        table.append([name, len(out), len(data)])
        out += data
    table_offset = len(out)

    c = args.corrupt
    if c == "unaligned":
        table[0][1] += 8
    elif c == "section-past-end":
        table[0][1] = table_offset + ALIGN - table_offset % ALIGN
    elif c == "no-weights":
        table[0][0] = "weightz"
    elif c == "duplicate":
        table.append(list(table[0]))
    elif c == "unnamed":
        table[0][0] = ""

    for name, offset, size in table:
        out += SECTION.pack(name.encode(), offset, size)
    num_sections = len(table) + (1000 if c == "truncated-table" else 0)
    if c == "table-offset":
        table_offset = 1 << 62
    out += TRAILER.pack(b"LLAMACPX" if c == "magic" else MAGIC,
                        2 if c == "version" else VERSION, num_sections, table_offset)

    with open(args.file, "wb") as f:
        f.write(out)


if __name__ == "__main__":
    main()
