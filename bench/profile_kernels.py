#!/usr/bin/env python3
"""Where one decode step (or prefill chunk) of a llamac CUDA executable spends its time, kernel by kernel.

Run on the device machine (ncu, torch, transformers), with llamac bundled by
scripts/device/bundle_llamac.sh:

    python3 bench/profile_kernels.py --llamac build-llamac-bundle/bin/llamac \\
        --workdir /tmp/llamac-profile --model llama-3.2-1b [--prompt 512] [--phase prefill]

It writes (or reuses) the random-weight checkpoint of bench/cuda_bench.py,
compiles it for this GPU, then:
  * runs the executable plainly: the decode step's wall time (its stats line);
  * runs it under Nsight Compute over the decode kernels of two steps
    (kernels are named <entry>_<model op>_<form> by llama-map-to-gpu, e.g.
    decode_layers_3_mlp_down_proj_dot): each kernel's duration and DRAM
    bytes, at the GPU's own clocks;
  * prints one row per kernel kind (the layer number folded away): launches
    and microseconds per step, DRAM bytes, achieved bandwidth, and its share
    of the step; then the step's kernel time against its wall time (the
    rest is launch gaps and host work) and against the bandwidth bound.
With --phase prefill the same for the prompt's chunks (kernels prefill_*;
a "step" is one chunk, --prefill-chunk tokens (512, the GPU default), its
wall time from the prefill rate).
"""
import argparse
import collections
import csv
import io
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cuda_bench  # noqa: E402  (checkpoint shapes and writer, roofline)

METRICS = ["gpu__time_duration.sum", "dram__bytes_read.sum", "dram__bytes_write.sum",
           "launch__grid_size", "launch__block_size", "launch__registers_per_thread"]


def ncu_rows(exe, ids, ncu, phase):
    cmd = [ncu, "--csv", "--page", "raw", "--clock-control", "none", "--metrics", ",".join(METRICS),
           "-k", f"regex:^{phase}_", exe, "--tokens", ",".join(map(str, ids)), "-n", "3", "--temp", "0",
           "--ignore-eos"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(f"ncu exited {out.returncode}: {out.stderr[-800:]}")
    lines = [line for line in out.stdout.splitlines() if line.startswith('"')]
    rows = list(csv.DictReader(io.StringIO("\n".join(lines))))
    return [r for r in rows if r.get("Kernel Name", "").startswith(phase + "_")]


def number(text):
    return float(text.replace(",", "")) if text else 0.0


def kind_of(name):
    return re.sub(r"_layers_\d+_", "_layers_*_", name)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--llamac", required=True)
    ap.add_argument("--workdir", default="/tmp/llamac-profile")
    ap.add_argument("--model", default="llama-3.2-1b", choices=sorted(cuda_bench.SHAPES))
    ap.add_argument("--prompt", type=int, default=512, help="prompt tokens before the profiled steps")
    ap.add_argument("--ncu", default="ncu")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--phase", default="decode", choices=["decode", "prefill"])
    ap.add_argument("--prefill-chunk", type=int, default=512)
    args = ap.parse_args()
    chunk = args.prefill_chunk

    shape = cuda_bench.SHAPES[args.model]
    ckpt = os.path.join(args.workdir, args.model)
    exe = os.path.join(args.workdir, args.model + ".exe")
    cuda_bench.write_checkpoint(ckpt, shape)
    subprocess.run([args.llamac, "compile", ckpt, "-o", exe, "--target", cuda_bench.arch(),
                    "--ctx-size", str(cuda_bench.CONTEXT), "--prefill-chunk", str(chunk)],
                   check=True, timeout=1800)
    ids = cuda_bench.prompt_ids(args.prompt, shape["vocab_size"])
    plain = cuda_bench.run_llamac(exe, ids, cuda_bench.DECODE_STEPS, timeout=600)
    step_us = 1e6 / plain["decode"] if args.phase == "decode" else 1e6 * chunk / plain["prefill"]
    gbs = cuda_bench.copy_bandwidth_gbs()
    bound_us = cuda_bench.weight_bytes_per_token(shape) / (gbs * 1e3)

    rows = ncu_rows(exe, ids, args.ncu, args.phase)
    steps = sum(1 for r in rows if r["Kernel Name"] == f"{args.phase}_embed_tokens_map")
    if steps == 0:
        raise RuntimeError(f"no {args.phase} step found in the ncu report")
    kinds = collections.OrderedDict()
    for r in rows:
        k = kinds.setdefault(kind_of(r["Kernel Name"]),
                             dict(n=0, ns=0.0, bytes=0.0, grid=r["launch__grid_size"],
                                  block=r["launch__block_size"], regs=r["launch__registers_per_thread"]))
        k["n"] += 1
        k["ns"] += number(r["gpu__time_duration.sum"])
        k["bytes"] += number(r["dram__bytes_read.sum"]) + number(r["dram__bytes_write.sum"])
    total_us = sum(k["ns"] for k in kinds.values()) / 1e3 / steps
    launches = sum(k["n"] for k in kinds.values()) / steps

    print(f"# {args.model}, {args.prompt}-token prompt, {cuda_bench.torch.cuda.get_device_name(0)}")
    what = (f"decode step (plain run, {cuda_bench.DECODE_STEPS} steps)" if args.phase == "decode"
            else f"prefill chunk of {chunk} (plain run)")
    print(f"{what}: {step_us:.0f} us "
          f"({plain[args.phase]:.1f} tok/s); copy bandwidth {gbs:.0f} GB/s, weights-read bound {bound_us:.0f} us")
    print(f"kernels (ncu, {steps} steps): {launches:.0f} launches, {total_us:.0f} us of kernel time per step "
          f"= {100 * total_us / step_us:.0f}% of the step; the other {step_us - total_us:.0f} us are launch "
          f"gaps and host work")
    print()
    print("| kernel (per step) | launches | us | % step | MB DRAM | GB/s | grid x block | regs |")
    print("|---|---:|---:|---:|---:|---:|---|---:|")
    ranked = sorted(kinds.items(), key=lambda kv: -kv[1]["ns"])
    for name, k in ranked[:args.top]:
        us = k["ns"] / 1e3 / steps
        mb = k["bytes"] / 1e6 / steps
        print(f"| {name} | {k['n'] / steps:.0f} | {us:.1f} | {100 * us / step_us:.1f} | {mb:.1f} | "
              f"{mb * 1e3 / us if us else 0:.0f} | {k['grid']} x {k['block']} | {k['regs']} |")
    rest = ranked[args.top:]
    if rest:
        us = sum(k["ns"] for _, k in rest) / 1e3 / steps
        print(f"| ({len(rest)} other kinds) | {sum(k['n'] for _, k in rest) / steps:.0f} | {us:.1f} | "
              f"{100 * us / step_us:.1f} | | | | |")


if __name__ == "__main__":
    main()
