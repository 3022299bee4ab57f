#!/usr/bin/env python3
"""Writes the bytes of one section of a llamac payload (an executable with
its weights appended, or a sidecar EXE.weights file) to OUT; the layout is
runtime/include/llamac/abi/ModelABI.h's: a trailer in the last 24 bytes
(magic, version, section count, table offset), a table of (name[24],
offset, bytes)."""
import struct
import sys


def main():
    path, name, out = sys.argv[1:4]
    data = open(path, "rb").read()
    magic, _version, count, table = struct.unpack("<8sIIQ", data[-24:])
    if magic != b"LLAMACPL":
        sys.exit(f"{path}: no llamac payload trailer")
    for i in range(count):
        raw, offset, size = struct.unpack_from("<24sQQ", data, table + 40 * i)
        if raw.rstrip(b"\0").decode() == name:
            open(out, "wb").write(data[offset:offset + size])
            return
    sys.exit(f"{path}: no section {name!r}")


if __name__ == "__main__":
    main()
