#!/usr/bin/env python3
"""Validate test/tools/reference_forward.py against Hugging Face transformers.

Run where torch + transformers are installed (no network needed):
    python3 scripts/device/check_reference.py --workdir /tmp/refcheck

For each tiny checkpoint from test/tools/make_checkpoint.py (MHA, GQA, MQA,
head_dim != hidden/heads, tied, llama3 rope scaling, rope_theta, sharded,
f32/f16/bf16) and each prompt of random ids, both sides run the prompt as one
forward and then greedy-decode --steps tokens with a KV cache, one logits row
per processed position. transformers runs `LlamaForCausalLM` in float64 with
eager attention, on the CPU, twice:

* "stock": unmodified. transformers keeps three float32 islands even in a float64
  model (5.x modeling_llama.py; 4.4x is the same): LlamaRMSNorm casts its input
  to float32, eager attention runs softmax with dtype=float32, and
  LlamaRotaryEmbedding computes inv_freq, the angles pos*inv_freq and cos/sin in
  float32. Each rounds to 2**-24 ~ 6e-8 relative; the rope angles reach ~200 rad
  here, so cos/sin are off by up to ~1e-5 absolute, but the norm cast dominates:
  stock agreement is ~6e-8..9e-8 on transformers 5.17. STOCK_BOUND leaves ~10x
  margin and is still ~5000x below the smallest real bug we measured (dropping
  or sign-flipping RoPE moves these logits by ~5e-3).
* "f64": the same model with those three islands patched to float64 (same
  formulas, no casts); everything else -- weight loading and tying, q/k/v
  layout, rotate_half, repeat_kv, mask, KV cache, MLP, lm_head -- is
  transformers' own code. Must agree to F64_BOUND. The patched RoPE takes its
  float64 inv_freq from the reference, so it is checked separately against
  transformers' float32 buffer (INV_FREQ_BOUND, which also catches a
  transformers that silently ignores rope_scaling), and the patched cos/sin
  against transformers' own float32 tables.

Greedy tokens must be identical in both modes. Prints a markdown table and exits
1 on any failure.
"""

import argparse
import contextlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / "test" / "tools"
sys.dont_write_bytecode = True  # don't leave __pycache__ in the checkout
sys.path.insert(0, str(TOOLS))
import reference_forward as rf  # noqa: E402

F64_BOUND = 1e-9        # float64 vs float64: observed <= 5e-16 (transformers 5.17)
STOCK_BOUND = 1e-6      # see the docstring: float32 norm/softmax/rope in transformers
INV_FREQ_BOUND = 1e-6   # a float32 pow and a few float32 ops, ~10 ulp
COS_SIN_BOUND = 1e-4    # float32 angles up to ~200 rad: ~200 * 2 * 6e-8 + rounding

L3 = ["--rope-scaling", "llama3", "--rope-orig-max", "64", "--max-pos", "512"]
# name -> (make_checkpoint.py args, prompt lengths); seeds are distinct per case.
CASES = {
    "mha": ([], [1, 40]),
    "gqa": (["--heads", "8", "--kv-heads", "2"], [1, 40]),
    "mqa": (["--heads", "8", "--kv-heads", "1"], [1, 40]),
    "head_dim_32": (["--heads", "4", "--kv-heads", "2", "--head-dim", "32"], [1, 40]),
    "head_dim_8_of_16": (["--heads", "4", "--kv-heads", "4", "--head-dim", "8"], [1, 40]),
    "tied": (["--tie", "--heads", "4", "--kv-heads", "2"], [1, 40]),
    "rope_theta_5e5": (["--rope-theta", "500000", "--max-pos", "512"], [1, 170]),
    "llama3": (["--heads", "4", "--kv-heads", "2"] + L3, [1, 40, 170]),
    "llama3_hd32_gqa": (["--heads", "4", "--kv-heads", "1", "--head-dim", "32",
                         "--rope-theta", "500000"] + L3, [40, 170]),
    "sharded_3": (["--shards", "3", "--layers", "3", "--heads", "4", "--kv-heads", "2"], [1, 40]),
    "f16": (["--dtype", "f16", "--heads", "8", "--kv-heads", "2"], [1, 40]),
    "bf16_tied_sharded": (["--dtype", "bf16", "--tie", "--shards", "2"], [1, 40]),
    "bf16_llama3": (["--dtype", "bf16", "--heads", "4", "--kv-heads", "2"] + L3, [170]),
}


def rel_l2(a, e):
    return float(np.linalg.norm(a - e) / np.linalg.norm(e))


# --- transformers side -------------------------------------------------------

def load_hf(ckpt):
    import torch
    import transformers
    from packaging.version import Version
    from transformers import LlamaForCausalLM
    # `torch_dtype` became `dtype` in 4.56; an older transformers would silently
    # keep an unknown `dtype` kwarg as a config attribute, so pick by version.
    key = "dtype" if Version(transformers.__version__) >= Version("4.56") else "torch_dtype"
    model, info = LlamaForCausalLM.from_pretrained(
        ckpt, attn_implementation="eager", output_loading_info=True, **{key: torch.float64})
    model.eval()
    problems = [f"{k}: {v}" for k, v in info.items() if v and k != "error_msgs"]
    problems += [str(e) for e in info.get("error_msgs", [])]
    dtypes = {p.dtype for p in model.parameters()}
    if dtypes != {torch.float64}:
        problems.append(f"parameters are {dtypes}, not float64")
    if getattr(model.config, "_attn_implementation", "eager") != "eager":
        problems.append(f"attention is {model.config._attn_implementation}, not eager")
    return model, problems


def hf_rotary_modules(model):
    # 4.45+: one model.model.rotary_emb; older: one per attention layer.
    return [m for m in model.modules() if type(m).__name__.endswith("RotaryEmbedding")]


@contextlib.contextmanager
def float64_islands(model, inv_freq64, stats):
    """Patch transformers' float32 islands to float64 for the duration."""
    import torch
    import torch.nn.functional as F
    mod = sys.modules[type(model).__module__]  # transformers' modeling_llama
    norm_cls, rope_cls = mod.LlamaRMSNorm, type(hf_rotary_modules(model)[0])
    saved = (norm_cls.forward, rope_cls.forward, F.softmax)

    def norm_forward(self, x):  # LlamaRMSNorm.forward without the float32 cast
        stats["norm"] += 1
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.variance_epsilon))

    def softmax(input, dim=None, _stacklevel=3, dtype=None):
        if dtype == torch.float32 and input.dtype == torch.float64:
            stats["softmax"] += 1
            dtype = None  # eager attention asks for float32; stay in float64
        return saved[2](input, dim=dim, _stacklevel=_stacklevel, dtype=dtype)

    def rope_forward(self, x, position_ids, *args, **kwargs):
        cos32, sin32 = saved[1](self, x, position_ids, *args, **kwargs)  # HF's own tables
        inv = torch.as_tensor(inv_freq64, dtype=torch.float64, device=x.device)
        freqs = position_ids.to(torch.float64)[..., None] * inv  # [batch, seq, dim/2]
        emb = torch.cat((freqs, freqs), dim=-1)
        scale = getattr(self, "attention_scaling", 1.0)
        cos, sin = emb.cos() * scale, emb.sin() * scale
        stats["rope"] += 1
        stats["cos_sin_err"] = max(stats["cos_sin_err"], float((cos - cos32).abs().max()),
                                   float((sin - sin32).abs().max()))
        return cos.to(x.dtype), sin.to(x.dtype)

    norm_cls.forward, rope_cls.forward, F.softmax = norm_forward, rope_forward, softmax
    try:
        yield
    finally:
        norm_cls.forward, rope_cls.forward, F.softmax = saved


def hf_generate(model, prompt, steps):
    """Prompt in one call, then one call per token with the returned cache."""
    import torch
    with torch.no_grad():
        out = model(input_ids=torch.tensor([prompt]), use_cache=True)
        rows, gen = [out.logits[0].to(torch.float64)], []
        for _ in range(steps):
            tok = int(torch.argmax(rows[-1][-1]))  # first maximum, as numpy
            gen.append(tok)
            out = model(input_ids=torch.tensor([[tok]]), past_key_values=out.past_key_values,
                        use_cache=True)
            rows.append(out.logits[0].to(torch.float64))
    return torch.cat(rows).numpy(), gen


# --- the check ----------------------------------------------------------------

def check_case(name, args, prompts, workdir, steps, seed):
    ckpt = workdir / name
    subprocess.run([sys.executable, str(TOOLS / "make_checkpoint.py"), str(ckpt),
                    "--seed", str(seed)] + args, check=True)
    cfg, w = rf.load_checkpoint(ckpt, np.dtype("float64"))
    model, problems = load_hf(ckpt)
    ref_model = rf.Llama(cfg, w, np.dtype("float64"))
    inv = ref_model.inv_freq
    for m in hf_rotary_modules(model):
        hf_inv = m.inv_freq.detach().cpu().numpy().astype(np.float64)
        err = float(np.max(np.abs(hf_inv - inv) / inv)) if hf_inv.shape == inv.shape else np.inf
        if not err <= INV_FREQ_BOUND:
            problems.append(f"inv_freq differs from transformers' by {err:.2e} rel: "
                            f"ref {inv} vs hf {hf_inv}")
    rows = []
    for P in prompts:
        prompt = [int(t) for t in np.random.default_rng([seed, P]).integers(0, cfg["vocab_size"], P)]
        ref_model.reset()
        ref, ref_gen = rf.generate(ref_model, prompt, steps)
        row_problems = list(problems)
        # The CLI must write exactly the float32 image of these logits.
        out = workdir / f"{name}_P{P}.npy"
        subprocess.run([sys.executable, str(TOOLS / "reference_forward.py"), str(ckpt),
                        "--tokens", ",".join(map(str, prompt)), "-n", str(steps),
                        "--logits-out", str(out), "--tokens-out", str(out) + ".txt"], check=True)
        if not np.array_equal(np.load(out), ref.astype(np.float32)) or \
                Path(str(out) + ".txt").read_text().split() != list(map(str, ref_gen)):
            row_problems.append("reference_forward.py CLI output differs from its module")
        stock, stock_gen = hf_generate(model, prompt, steps)
        stats = {"norm": 0, "softmax": 0, "rope": 0, "cos_sin_err": 0.0}
        with float64_islands(model, inv, stats):
            f64, f64_gen = hf_generate(model, prompt, steps)
        if not (stats["norm"] and stats["softmax"] and stats["rope"]):
            row_problems.append(f"float64 patches did not all apply ({stats}); "
                                "transformers internals changed?")
        if not stats["cos_sin_err"] <= COS_SIN_BOUND:
            row_problems.append(f"patched cos/sin differ from transformers' by {stats['cos_sin_err']:.2e}")
        res = {"P": P, "rows": ref.shape[0], "f64": np.inf, "stock": np.inf,
               "same_f64": f64_gen == ref_gen, "same_stock": stock_gen == ref_gen}
        for mode, hf, gen, bound in (("f64", f64, f64_gen, F64_BOUND),
                                     ("stock", stock, stock_gen, STOCK_BOUND)):
            if hf.shape != ref.shape:
                row_problems.append(f"{mode}: shape {hf.shape} != reference {ref.shape}")
                continue
            res[mode] = rel_l2(hf, ref)
            if not res[mode] <= bound:
                row_problems.append(f"{mode}: rel_l2 {res[mode]:.2e} > {bound:g}")
            if gen != ref_gen:
                i = next(i for i, (a, b) in enumerate(zip(gen, ref_gen)) if a != b)
                top2 = np.sort(ref[P - 1 + i])[-2:]
                row_problems.append(f"{mode}: greedy token {i} is {gen[i]}, reference {ref_gen[i]} "
                                    f"(reference top-2 gap {top2[1] - top2[0]:.2e})")
        res["problems"] = row_problems
        rows.append(res)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workdir", type=Path, required=True, help="where checkpoints are written")
    ap.add_argument("--steps", type=int, default=32, help="greedy decode steps (default 32)")
    ap.add_argument("--cases", help=f"comma-separated subset of: {', '.join(CASES)}")
    ap.add_argument("--threads", type=int, default=min(8, os.cpu_count() or 1))
    a = ap.parse_args()
    import torch
    import transformers
    torch.set_num_threads(a.threads)
    names = a.cases.split(",") if a.cases else list(CASES)
    unknown = [n for n in names if n not in CASES]
    if unknown:
        sys.exit(f"check_reference: error: unknown case(s) {unknown}")
    a.workdir.mkdir(parents=True, exist_ok=True)
    print(f"transformers {transformers.__version__}, torch {torch.__version__}, "
          f"numpy {np.__version__}; bounds: f64 {F64_BOUND:g}, stock {STOCK_BOUND:g}\n")
    print("| config | make_checkpoint args | prompt | rows | rel_l2 vs HF f64-patched "
          "| rel_l2 vs HF stock | greedy identical (f64 / stock) | ok |")
    print("|---|---|---|---|---|---|---|---|")
    failures = []
    for seed, name in enumerate(names, start=100):
        args, prompts = CASES[name]
        try:
            results = check_case(name, args, prompts, a.workdir, a.steps, seed)
        except Exception as e:  # report and carry on with the other cases
            results = [{"P": "-", "rows": "-", "f64": np.inf, "stock": np.inf, "same_f64": False,
                        "same_stock": False, "problems": [f"{type(e).__name__}: {e}"]}]
        for r in results:
            yn = lambda b: "yes" if b else "NO"  # noqa: E731
            print(f"| {name} | `{' '.join(args) or '(defaults)'}` | {r['P']} | {r['rows']} "
                  f"| {r['f64']:.2e} | {r['stock']:.2e} | {yn(r['same_f64'])} / {yn(r['same_stock'])} "
                  f"| {yn(not r['problems'])} |")
            failures += [f"{name} P={r['P']}: {p}" for p in r["problems"]]
    print()
    for f in failures:
        print("FAIL:", f)
    print("FAILED" if failures else "all cases agree")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
