#!/usr/bin/env python3
"""Print the PTX of the `gpu.binary` in an MLIR file (llamac-opt's output of
the llama-to-cuda pipeline), unescaped, for ptxas and grep in lit tests."""
import re
import sys

text = open(sys.argv[1]).read()
match = re.search(r'assembly = "((?:[^"\\]|\\.)*)"', text)
if not match:
    sys.exit(f"error: no gpu.binary with PTX assembly in {sys.argv[1]}")
sys.stdout.write(re.sub(r"\\([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), match.group(1)))
