#!/usr/bin/env python3
"""CUDA-target throughput of llamac executables at Llama-3.2-1B and Llama-3-8B shapes.

Run on the device machine (an NVIDIA GPU, torch, transformers, the CUDA
toolkit), with llamac bundled by scripts/device/bundle_llamac.sh:

    python3 bench/cuda_bench.py --llamac build-llamac-bundle/bin/llamac \\
        --workdir /tmp/llamac-cuda-bench [--models llama-3.2-1b,llama-3-8b]

For each shape it writes a random-weight bf16 checkpoint in Hugging Face
layout (the values do not change the speed), compiles it for the GPU's arch
and reports, side by side in one run:
  * llamac: decode tok/s (batch 1) at context ~512 and ~4096, prefill tok/s
    for 512 and 2048 prompt tokens, peak GPU memory (nvidia-smi, polled),
    load time (the executable's own stats line); decode with llama.cpp's
    default sampling at ~512 drawn by the model on the GPU: from its top
    list (top-k 40), and from the whole row with top-k 100 (past the list
    of 64) and with top-k off (top-p 0.95 alone);
  * transformers' LlamaForCausalLM (bf16, sdpa) on the same checkpoint: the
    same figures (torch.cuda events; peak = max_memory_allocated);
  * the roofline: device-to-device copy bandwidth measured in this run
    (bytes read + written) / weight bytes read per token.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time

import torch

SHAPES = {
    "llama-3.2-1b": dict(hidden_size=2048, intermediate_size=8192, num_hidden_layers=16,
                         num_attention_heads=32, num_key_value_heads=8, head_dim=64,
                         vocab_size=128256, tie_word_embeddings=True,
                         max_position_embeddings=131072, rope_theta=500000.0,
                         rope_scaling={"rope_type": "llama3", "factor": 32.0,
                                       "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                       "original_max_position_embeddings": 8192}),
    "llama-3-8b": dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                       num_attention_heads=32, num_key_value_heads=8, head_dim=128,
                       vocab_size=128256, tie_word_embeddings=False,
                       max_position_embeddings=8192, rope_theta=500000.0),
}
CONTEXT = 4096
DECODE_STEPS = 64
STATS = re.compile(r"prompt (\d+) tokens, generated (\d+) tokens, prefill ([\d.]+) tok/s, "
                   r"decode ([\d.]+) tok/s, peak memory ([\d.]+) MiB, load (\d+) ms")


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def copy_bandwidth_gbs(nbytes=1 << 30, repeats=20):
    src = torch.empty(nbytes, dtype=torch.uint8, device="cuda")
    dst = torch.empty_like(src)
    dst.copy_(src)
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    torch.cuda.synchronize()
    start.record()
    for _ in range(repeats):
        dst.copy_(src)
    end.record()
    torch.cuda.synchronize()
    seconds = start.elapsed_time(end) / 1e3
    del src, dst
    torch.cuda.empty_cache()
    return 2 * nbytes * repeats / seconds / 1e9


def tensor_shapes(c):
    h, i, v = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
    q, kv = c["num_attention_heads"] * c["head_dim"], c["num_key_value_heads"] * c["head_dim"]
    shapes = {"model.embed_tokens.weight": (v, h), "model.norm.weight": (h,)}
    for layer in range(c["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        shapes.update({
            p + "input_layernorm.weight": (h,), p + "post_attention_layernorm.weight": (h,),
            p + "self_attn.q_proj.weight": (q, h), p + "self_attn.k_proj.weight": (kv, h),
            p + "self_attn.v_proj.weight": (kv, h), p + "self_attn.o_proj.weight": (h, q),
            p + "mlp.gate_proj.weight": (i, h), p + "mlp.up_proj.weight": (i, h),
            p + "mlp.down_proj.weight": (h, i)})
    if not c["tie_word_embeddings"]:
        shapes["lm_head.weight"] = (v, h)
    return shapes


def write_checkpoint(path, shape, shard_bytes=4 << 30):
    """Random bf16 weights (N(0, 0.02), norms 1), sharded safetensors + index."""
    from safetensors.torch import save_file
    from transformers import LlamaConfig
    if os.path.exists(os.path.join(path, "config.json")):
        return
    os.makedirs(path, exist_ok=True)
    gen = torch.Generator(device="cuda").manual_seed(0)
    shapes = tensor_shapes(shape)
    shards, current, size = [], {}, 0
    for name, dims in shapes.items():
        if name.endswith("norm.weight"):
            t = torch.ones(dims, dtype=torch.bfloat16)
        else:
            t = (torch.randn(dims, generator=gen, device="cuda", dtype=torch.float32) * 0.02)
            t = t.to(torch.bfloat16).cpu()
        nbytes = t.numel() * 2
        if current and size + nbytes > shard_bytes:
            shards.append(current)
            current, size = {}, 0
        current[name] = t
        size += nbytes
    shards.append(current)
    index = {"metadata": {"total_size": sum(t.numel() * 2 for s in shards for t in s.values())},
             "weight_map": {}}
    for n, shard in enumerate(shards):
        file = f"model-{n + 1:05d}-of-{len(shards):05d}.safetensors"
        save_file(shard, os.path.join(path, file), metadata={"format": "pt"})
        index["weight_map"].update({name: file for name in shard})
    with open(os.path.join(path, "model.safetensors.index.json"), "w") as f:
        json.dump(index, f)
    LlamaConfig(**shape, torch_dtype="bfloat16", bos_token_id=128000, eos_token_id=128001,
                rms_norm_eps=1e-5, attention_bias=False, mlp_bias=False).save_pretrained(path)


def weight_bytes_per_token(shape):
    """Every weight is read once per decoded token, except the embedding
    table, of which one row is read (unless it is also the lm_head)."""
    total = 0
    for name, dims in tensor_shapes(shape).items():
        n = 1
        for d in dims:
            n *= d
        if name == "model.embed_tokens.weight" and not shape["tie_word_embeddings"]:
            n = dims[1]
        total += 2 * n
    return total


def prompt_ids(n, vocab):
    return [1 + (i * 7919) % (vocab - 1) for i in range(n)]


class GpuMemoryPoll:
    """Peak memory.used of the GPU while a command runs (nvidia-smi, 20 Hz)."""

    def __init__(self):
        self.peak, self.stop = 0, threading.Event()

    def _run(self):
        while not self.stop.is_set():
            out = subprocess.run(["nvidia-smi", "--query-gpu=memory.used",
                                  "--format=csv,noheader,nounits", "-i", "0"],
                                 capture_output=True, text=True)
            if out.returncode == 0 and out.stdout.strip():
                self.peak = max(self.peak, int(out.stdout.split()[0]))
            time.sleep(0.05)

    def __enter__(self):
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def idle_gpu_mib():
    out = subprocess.run(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits",
                          "-i", "0"], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0])


# Sampling as llama.cpp's defaults (temperature 0.8, top-k 40, top-p 0.95):
# drawn from the model's top list; with top-k 100 (past the list of 64) and
# with top-k off (top-p alone, vLLM's default) drawn from the whole row, on
# the GPU too.
SAMPLED = ["--temp", "0.8", "--top-k", "40", "--top-p", "0.95", "--seed", "1"]
SAMPLED_FROM_ROWS = ["--temp", "0.8", "--top-k", "100", "--top-p", "0.95", "--seed", "1"]
SAMPLED_TOP_P = ["--temp", "0.8", "--top-k", "0", "--top-p", "0.95", "--seed", "1"]


def run_llamac(exe, ids, n, timeout, env=None, sampling=("--temp", "0")):
    # The executable's own account of its GPU memory, part by part.
    env = dict(os.environ if env is None else env, LLAMAC_GPU_MEMORY_REPORT="1")
    with GpuMemoryPoll() as poll:
        out = subprocess.run([exe, "--tokens", ",".join(map(str, ids)), "-n", str(n)] + list(sampling)
                             + ["--ignore-eos"], capture_output=True, text=True, timeout=timeout,
                             env=env)
    if out.returncode != 0:
        raise RuntimeError(f"{exe} exited {out.returncode}: {out.stderr.strip()[-400:]}")
    m = STATS.search(out.stderr)
    if not m:
        raise RuntimeError(f"no stats line in: {out.stderr[-400:]!r}")
    report = next((line for line in out.stderr.splitlines() if line.startswith("gpu memory:")), "")
    return dict(prefill=float(m.group(3)), decode=float(m.group(4)), load_s=int(m.group(6)) / 1e3,
                gpu_peak_mib=poll.peak, memory_report=report)


def bench_llamac(llamac, ckpt, exe, shape, chunk, long_chunk, timeout, eager=False):
    """eager: the same executable with CUDA graphs off (every kernel launched
    by the host); it is compiled once, by the first call. long_chunk: None
    for the compiler's default second prefill entry."""
    t = time.perf_counter()
    if not eager:
        long_flags = [] if long_chunk is None else ["--long-prefill-chunk", str(long_chunk)]
        subprocess.run([llamac, "compile", ckpt, "-o", exe, "--target", arch(), "--ctx-size",
                        str(CONTEXT), "--prefill-chunk", str(chunk)] + long_flags, check=True,
                       timeout=1800)
    compile_s = time.perf_counter() - t
    env = dict(os.environ, LLAMAC_DISABLE_CUDA_GRAPHS="1") if eager else None
    idle = idle_gpu_mib()
    v = shape["vocab_size"]
    # A first run's decode read 1-2% slow (session 27): a short one, unread.
    run_llamac(exe, prompt_ids(512, v), 8, timeout, env)
    a = run_llamac(exe, prompt_ids(512, v), DECODE_STEPS, timeout, env)
    # The same steps with each call waited for before the next starts (the
    # runtime's decoding ahead off): what decoding ahead gains.
    w = run_llamac(exe, prompt_ids(512, v), DECODE_STEPS, timeout,
                   dict(env or os.environ, LLAMAC_DISABLE_DECODE_AHEAD="1"))
    b = run_llamac(exe, prompt_ids(2048, v), 0, timeout, env)
    c = run_llamac(exe, prompt_ids(CONTEXT - DECODE_STEPS, v), DECODE_STEPS, timeout, env)
    s = run_llamac(exe, prompt_ids(512, v), DECODE_STEPS, timeout, env, SAMPLED)
    r = run_llamac(exe, prompt_ids(512, v), DECODE_STEPS, timeout, env, SAMPLED_FROM_ROWS)
    p = run_llamac(exe, prompt_ids(512, v), DECODE_STEPS, timeout, env, SAMPLED_TOP_P)
    return dict(compile_s=compile_s, prefill_512=a["prefill"], prefill_2048=b["prefill"],
                decode_512=a["decode"], decode_4096=c["decode"], load_s=a["load_s"],
                decode_512_sampled=s["decode"], decode_512_sampled_rows=r["decode"],
                decode_512_sampled_top_p=p["decode"], decode_512_waiting=w["decode"],
                gpu_peak_mib=max(r["gpu_peak_mib"] for r in (a, b, c)) - idle,
                memory_report=c["memory_report"])


def bench_transformers(ckpt, shape):
    from transformers import LlamaForCausalLM
    t = time.perf_counter()
    model = LlamaForCausalLM.from_pretrained(ckpt, torch_dtype=torch.bfloat16,
                                             attn_implementation="sdpa").cuda().eval()
    torch.cuda.synchronize()
    load_s = time.perf_counter() - t
    v = shape["vocab_size"]
    torch.cuda.reset_peak_memory_stats()

    def timed(fn):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        result = fn()
        end.record()
        torch.cuda.synchronize()
        return result, start.elapsed_time(end) / 1e3

    @torch.no_grad()
    def prefill(p):
        ids = torch.tensor([prompt_ids(p, v)], device="cuda")
        model(ids)  # warm-up at this length (kernel choice, allocator)
        # The best of 5: at 512 tokens the eager forward is partly bound by
        # Python's launches, and one pass moved 30% between runs.
        return p / min(timed(lambda: model(ids))[1] for _ in range(5))

    @torch.no_grad()
    def decode(p):
        ids = torch.tensor([prompt_ids(p, v)], device="cuda")
        out = model(ids, use_cache=True)
        cache, nxt = out.past_key_values, out.logits[:, -1:].argmax(-1)

        def steps():
            nonlocal cache, nxt
            for _ in range(DECODE_STEPS):
                o = model(nxt, past_key_values=cache, use_cache=True)
                cache, nxt = o.past_key_values, o.logits[:, -1:].argmax(-1)
        _, s = timed(steps)
        return DECODE_STEPS / s

    result = dict(prefill_512=prefill(512), prefill_2048=prefill(2048), decode_512=decode(512),
                  decode_4096=decode(CONTEXT - DECODE_STEPS), load_s=load_s,
                  gpu_peak_mib=torch.cuda.max_memory_allocated() / 2**20)
    del model
    torch.cuda.empty_cache()
    return result


def arch():
    major, minor = torch.cuda.get_device_capability()
    return f"sm_{major}{minor}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--llamac", required=True)
    ap.add_argument("--workdir", default="/tmp/llamac-cuda-bench")
    ap.add_argument("--models", default="llama-3.2-1b,llama-3-8b")
    ap.add_argument("--prefill-chunk", type=int, default=512)
    ap.add_argument("--long-prefill-chunk", type=int, default=None,
                    help="llamac's second prefill entry (default: the compiler's, 2048)")
    ap.add_argument("--timeout", type=int, default=300, help="seconds per llamac run")
    ap.add_argument("--skip-transformers", action="store_true")
    ap.add_argument("--eager", action="store_true",
                    help="also run llamac with CUDA graphs off (LLAMAC_DISABLE_CUDA_GRAPHS=1)")
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)

    name = torch.cuda.get_device_name()
    bw = copy_bandwidth_gbs()
    print(f"GPU: {name} ({arch()}); device-to-device copy bandwidth {bw:.0f} GB/s (read + write)")
    print(f"batch 1; decode = {DECODE_STEPS} greedy steps after a 512- or {CONTEXT - DECODE_STEPS}-token "
          f"prompt; llamac --prefill-chunk {args.prefill_chunk}, --long-prefill-chunk "
          f"{'default' if args.long_prefill_chunk is None else args.long_prefill_chunk}, "
          f"--ctx-size {CONTEXT}\n", flush=True)
    rows = []
    for model in args.models.split(","):
        shape = SHAPES[model]
        ckpt = os.path.join(args.workdir, model)
        log(f"[{model}] checkpoint")
        write_checkpoint(ckpt, shape)
        per_token = weight_bytes_per_token(shape)
        roof = bw * 1e9 / per_token
        results = {"roofline": dict(decode_512=roof, decode_4096=roof)}
        log(f"[{model}] llamac")
        try:
            results["llamac"] = bench_llamac(args.llamac, ckpt, os.path.join(args.workdir, model + ".exe"),
                                             shape, args.prefill_chunk, args.long_prefill_chunk,
                                             args.timeout)
        except (RuntimeError, subprocess.SubprocessError) as e:
            results["llamac"] = {"error": str(e)[:300]}
        log(f"[{model}] llamac: {json.dumps(results['llamac'])}")
        if args.eager and "error" not in results["llamac"]:
            try:
                results["llamac (no graphs)"] = bench_llamac(
                    args.llamac, ckpt, os.path.join(args.workdir, model + ".exe"), shape,
                    args.prefill_chunk, args.long_prefill_chunk, args.timeout, eager=True)
            except (RuntimeError, subprocess.SubprocessError) as e:
                results["llamac (no graphs)"] = {"error": str(e)[:300]}
        if not args.skip_transformers:
            log(f"[{model}] transformers")
            results["transformers"] = bench_transformers(ckpt, shape)
        rows.append((model, per_token, results))
        print(json.dumps({"model": model, "weight_bytes_per_token": per_token, **results}), flush=True)

    def cell(r, key, fmt="{:.1f}"):
        return fmt.format(r[key]) if key in r else "-"
    print("\n| model | engine | decode tok/s @512 | decode tok/s @4096 | % of roofline @512 "
          "| sampled @512 (list / row k100 / row top-p) | @512 waiting each step | prefill tok/s 512 | prefill tok/s 2048 | peak GPU MiB "
          "| load s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for model, per_token, results in rows:
        roof = results["roofline"]["decode_512"]
        print(f"| {model} ({per_token / 1e9:.2f} GB/token) | roofline | {roof:.1f} | {roof:.1f} | 100 | | | | | | |")
        for engine in ("llamac", "llamac (no graphs)", "transformers"):
            r = results.get(engine)
            if r is None:
                continue
            if "error" in r:
                print(f"| {model} | {engine} | error: {r['error'][:120]} | | | | | | | | |")
                continue
            print(f"| {model} | {engine} | {cell(r, 'decode_512')} | {cell(r, 'decode_4096')} | "
                  f"{100 * r['decode_512'] / roof:.0f} | {cell(r, 'decode_512_sampled')} / "
                  f"{cell(r, 'decode_512_sampled_rows')} / {cell(r, 'decode_512_sampled_top_p')} | "
                  f"{cell(r, 'decode_512_waiting')} | "
                  f"{cell(r, 'prefill_512')} | "
                  f"{cell(r, 'prefill_2048')} | {cell(r, 'gpu_peak_mib', '{:.0f}')} | "
                  f"{cell(r, 'load_s', '{:.2f}')} |")


if __name__ == "__main__":
    main()
