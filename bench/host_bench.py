#!/usr/bin/env python3
"""Host-target throughput of llamac executables, next to a peer and the bound.

For each model (the embedded example and a generated ~100M-parameter LLaMA):
compile it with llamac for the host, run a P-token prompt plus N greedy
tokens, and read prefill/decode tok/s and peak memory off the executable's
stats line. In the same run it measures this machine's memory bandwidth
(numpy copy, bytes read + written) and reports the decode bound
bandwidth / weight bytes read per token, and, where PyTorch is importable,
the same checkpoint in PyTorch (bench/torch_peer.py: transformers'
LlamaForCausalLM, or a plain PyTorch forward where transformers is absent;
skipped, saying so, where no Python has torch).

    python3 bench/host_bench.py [--build build] [--workdir /tmp/llamac-bench]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATS = re.compile(r"prompt (\d+) tokens, generated (\d+) tokens, prefill ([\d.]+) tok/s, "
                   r"decode ([\d.]+) tok/s, peak memory ([\d.]+) MiB")


def bandwidth_gbs(nbytes=1 << 30, repeats=5):
    src = np.ones(nbytes // 4, dtype=np.float32)
    dst = np.empty_like(src)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - t)
    return 2 * nbytes / best / 1e9  # read + write


def weight_bytes(ckpt):
    total = 0
    for name in os.listdir(ckpt):
        if name.endswith(".safetensors"):
            with open(os.path.join(ckpt, name), "rb") as f:
                n = int.from_bytes(f.read(8), "little")
                header = json.loads(f.read(n))
            total += sum(v["data_offsets"][1] - v["data_offsets"][0]
                         for k, v in header.items() if k != "__metadata__")
    return total


def run_llamac(build, ckpt, exe, prompt, n):
    t = time.perf_counter()
    subprocess.run([os.path.join(build, "bin", "llamac"), "compile", ckpt, "-o", exe,
                    "--ctx-size", str(prompt + n + 16)], check=True)
    compile_s = time.perf_counter() - t
    tokens = ",".join(str(1 + i % 50) for i in range(prompt))
    out = subprocess.run([exe, "--tokens", tokens, "-n", str(n), "--temp", "0"],
                         check=True, capture_output=True, text=True)
    m = STATS.search(out.stderr)
    if not m:
        sys.exit(f"host_bench: no stats line in: {out.stderr!r}")
    return compile_s, float(m.group(3)), float(m.group(4)), float(m.group(5))


def run_torch(ckpt, prompt, n):
    """The PyTorch peer, in whichever Python has torch (pyenv's or Debian's)."""
    for python in (sys.executable, "/usr/bin/python3"):
        if subprocess.run([python, "-c", "import torch"], capture_output=True).returncode == 0:
            out = subprocess.run([python, os.path.join(ROOT, "bench/torch_peer.py"), ckpt,
                                  "--prompt", str(prompt), "-n", str(n)],
                                 check=True, capture_output=True, text=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            return f"{r['impl']}: prefill {r['prefill']:.1f} tok/s, decode {r['decode']:.1f} tok/s"
    return "skipped (no Python with torch)"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--workdir", default="/tmp/llamac-bench")
    ap.add_argument("--prompt", type=int, default=128)
    ap.add_argument("-n", type=int, default=64)
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)

    big = os.path.join(args.workdir, "llama-100m")
    if not os.path.exists(os.path.join(big, "config.json")):
        subprocess.run([sys.executable, os.path.join(ROOT, "test/tools/make_checkpoint.py"), big,
                        "--hidden", "768", "--intermediate", "2048", "--layers", "12",
                        "--heads", "12", "--kv-heads", "4", "--vocab", "32000",
                        "--max-pos", "2048", "--dtype", "f32"], check=True)
    models = [("tiny-fortunes (embedded)", os.path.join(ROOT, "examples/tiny-fortunes")),
              ("llama-100m (generated, f32)", big)]

    bw = bandwidth_gbs()
    print(f"memory bandwidth (numpy copy, read+write): {bw:.1f} GB/s")
    print(f"prompt {args.prompt} tokens, {args.n} greedy tokens, 1 sequence\n")
    print("| model | weights | compile s | llamac prefill tok/s | llamac decode tok/s "
          "| decode bound tok/s | peak MiB | PyTorch/transformers |")
    print("|---|---|---|---|---|---|---|---|")
    for name, ckpt in models:
        if not os.path.exists(os.path.join(ckpt, "config.json")):
            print(f"| {name} | missing | | | | | | |")
            continue
        wb = weight_bytes(ckpt)
        exe = os.path.join(args.workdir, os.path.basename(ckpt) + ".exe")
        compile_s, prefill, decode, peak = run_llamac(args.build, ckpt, exe, args.prompt, args.n)
        peer = run_torch(ckpt, args.prompt, args.n)
        print(f"| {name} | {wb / 2**20:.1f} MiB | {compile_s:.1f} | {prefill:.1f} | {decode:.1f} "
              f"| {bw * 1e9 / wb:.1f} | {peak:.1f} | {peer} |")


if __name__ == "__main__":
    main()
