#!/usr/bin/env python3
"""Independent plain-numpy reference for llamac: a LLaMA forward pass plus greedy
decoding that writes one logits row per processed position.

It follows Hugging Face transformers' `modeling_llama.py` (LlamaForCausalLM with
eager attention) and `modeling_rope_utils.py`:
  * RMSNorm: weight * (x * rsqrt(mean(x^2) + eps))
  * RoPE: inv_freq = 1 / (theta ** (arange(0, head_dim, 2) / head_dim)), optionally
    rescaled as in `_compute_llama3_parameters`; cos/sin of cat(freqs, freqs) and
    rotate_half pairing (element i with i + head_dim/2)
  * attention: GQA/MQA via repeat_kv (query head h reads kv head h // (heads/kv_heads)),
    scores scaled by 1/sqrt(head_dim), causal, softmax over keys
  * MLP: down(silu(gate(x)) * up(x)); final norm; lm_head (embed_tokens if tied)
Deliberate difference: transformers computes RMSNorm, softmax and RoPE tables in
float32 even for a float64 model; here everything runs in --precision (default
float64), so this is the "exact" answer that transformers approximates. The
cos/sin tables are computed in float64 even with --precision float32. Like
transformers, positions beyond max_position_embeddings are not refused.

Usage: reference_forward.py CKPT_DIR --tokens 1,5,9 [-n 32] --logits-out ref.npy
           [--tokens-out gen.txt] [--precision float32|float64] [--no-cache]
           [--stop-at-eos]
The prompt is one forward over positions 0..P-1 (filling a KV cache); then n greedy
steps each feed argmax(last row) back at the next position. Output: float32
[P + n, vocab]. With --stop-at-eos a generated EOS id ends decoding; it is written
to --tokens-out but not fed back, so it gets no logits row.
"""

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

INDEX = "model.safetensors.index.json"


def die(msg):
    sys.exit(f"reference_forward: error: {msg}")


def load_checkpoint(ckpt, dtype):
    cfg_path = ckpt / "config.json"
    if not cfg_path.is_file():
        die(f"missing {cfg_path}")
    try:
        cfg = json.loads(cfg_path.read_text())
    except json.JSONDecodeError as e:
        die(f"{cfg_path}: invalid JSON: {e}")
    if (ckpt / INDEX).is_file():
        try:
            files = sorted(set(json.loads((ckpt / INDEX).read_text())["weight_map"].values()))
        except (json.JSONDecodeError, KeyError, AttributeError) as e:
            die(f"{ckpt / INDEX}: not a valid index ({type(e).__name__}: {e})")
    elif (ckpt / "model.safetensors").is_file():
        files = ["model.safetensors"]
    else:
        die(f"no model.safetensors or {INDEX} in {ckpt}")
    import ml_dtypes  # noqa: F401 -- registers numpy's "bfloat16" dtype for safetensors
    from safetensors.numpy import load_file
    weights = {}
    for f in files:
        if not (ckpt / f).is_file():
            die(f"missing weights shard {ckpt / f}")
        try:
            part = load_file(ckpt / f)
        except Exception as e:  # safetensors raises assorted types for corrupt files
            die(f"{ckpt / f}: cannot load: {e}".splitlines()[0])
        for k, v in part.items():
            if v.dtype.name not in ("float16", "bfloat16", "float32", "float64"):
                die(f"tensor {k} has non-float dtype {v.dtype.name}")
            # BF16 arrives as ml_dtypes.bfloat16; astype widens it (and f16/f32) exactly.
            weights[k] = v.astype(dtype)
    return cfg, weights


def rope_inv_freq(cfg, head_dim):
    """inv_freq exactly as transformers' default / llama3 rope init functions, in f64."""
    # transformers accepts the legacy `rope_scaling` (+ top-level rope_theta) and the
    # v5 `rope_parameters` (theta inside); both may name the type "type" or "rope_type".
    rs = cfg.get("rope_scaling") or cfg.get("rope_parameters") or {}
    theta = float(rs.get("rope_theta", cfg.get("rope_theta", 10000.0)))
    kind = rs.get("rope_type", rs.get("type", "default"))
    if rs.get("partial_rotary_factor", cfg.get("partial_rotary_factor", 1.0)) != 1.0:
        die("partial_rotary_factor != 1 is not supported")
    dim = head_dim
    inv_freq = 1.0 / (theta ** (np.arange(0, dim, 2, dtype=np.int64).astype(np.float64) / dim))
    if kind == "default":
        return inv_freq
    if kind != "llama3":
        die(f"unsupported rope type {kind!r} (only default and llama3)")
    factor, lo, hi = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
    # transformers falls back to max_position_embeddings when this key is absent.
    old_ctx = rs.get("original_max_position_embeddings", cfg.get("max_position_embeddings"))
    low_freq_wavelen, high_freq_wavelen = old_ctx / lo, old_ctx / hi
    wavelen = 2 * math.pi / inv_freq
    # Long wavelengths (low frequencies) are slowed down by `factor`, short ones kept,
    # and the band in between interpolated -- same expression order as transformers.
    inv_llama = np.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
    smooth = (old_ctx / wavelen - lo) / (hi - lo)
    smoothed = (1 - smooth) * inv_llama / factor + smooth * inv_llama
    medium = ~(wavelen < high_freq_wavelen) & ~(wavelen > low_freq_wavelen)
    return np.where(medium, smoothed, inv_llama)


class Llama:
    def __init__(self, cfg, w, dtype):
        for key, want in (("hidden_act", "silu"), ("attention_bias", False), ("mlp_bias", False)):
            if cfg.get(key, want) != want:
                die(f"unsupported config {key}={cfg[key]!r}")
        self.dt = dtype
        self.n_heads = cfg["num_attention_heads"]
        self.n_kv = cfg.get("num_key_value_heads") or self.n_heads
        self.head_dim = cfg.get("head_dim") or cfg["hidden_size"] // self.n_heads
        if self.n_heads % self.n_kv:
            die(f"num_attention_heads {self.n_heads} not a multiple of kv heads {self.n_kv}")
        self.eps = cfg.get("rms_norm_eps", 1e-6)
        self.n_layers = cfg["num_hidden_layers"]
        H, V, I = cfg["hidden_size"], cfg["vocab_size"], cfg["intermediate_size"]
        q, kv = self.n_heads * self.head_dim, self.n_kv * self.head_dim
        shapes = {"model.embed_tokens.weight": (V, H), "model.norm.weight": (H,)}
        if "lm_head.weight" in w or not cfg.get("tie_word_embeddings", True):
            shapes["lm_head.weight"] = (V, H)
        for i in range(self.n_layers):
            shapes.update({f"model.layers.{i}.{n}.weight": s for n, s in (
                ("input_layernorm", (H,)), ("post_attention_layernorm", (H,)),
                ("self_attn.q_proj", (q, H)), ("self_attn.k_proj", (kv, H)),
                ("self_attn.v_proj", (kv, H)), ("self_attn.o_proj", (H, q)),
                ("mlp.gate_proj", (I, H)), ("mlp.up_proj", (I, H)), ("mlp.down_proj", (H, I)))})
        for name, shape in shapes.items():
            if name not in w:
                die(f"checkpoint lacks tensor {name}")
            if w[name].shape != shape:
                die(f"tensor {name} has shape {list(w[name].shape)}, expected {list(shape)}")
        self.w = w
        # Tied embeddings: HF ties lm_head to embed_tokens when lm_head.weight is absent.
        self.lm_head = w.get("lm_head.weight", w["model.embed_tokens.weight"])
        self.inv_freq = rope_inv_freq(cfg, self.head_dim)
        self.kv = [([], []) for _ in range(self.n_layers)]  # per layer: K, V chunks

    def rms_norm(self, x, weight):
        return weight * (x * (1.0 / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.eps)))

    def rope(self, x, pos):
        """x: [heads, S, head_dim] at absolute positions pos [S]."""
        # Tables in float64 whatever the precision (transformers uses float32 here).
        freqs = pos[:, None].astype(np.float64) * self.inv_freq[None, :]
        emb = np.concatenate([freqs, freqs], axis=-1)
        cos, sin = np.cos(emb).astype(self.dt), np.sin(emb).astype(self.dt)
        half = self.head_dim // 2
        rotated = np.concatenate([-x[..., half:], x[..., :half]], axis=-1)  # rotate_half
        return x * cos + rotated * sin

    def attention(self, layer, h, pos):
        p, S, hd = f"model.layers.{layer}.self_attn.", h.shape[0], self.head_dim
        # Linear weights are [out, in]; heads are contiguous head_dim slices of `out`.
        q = (h @ self.w[p + "q_proj.weight"].T).reshape(S, self.n_heads, hd).transpose(1, 0, 2)
        k = (h @ self.w[p + "k_proj.weight"].T).reshape(S, self.n_kv, hd).transpose(1, 0, 2)
        v = (h @ self.w[p + "v_proj.weight"].T).reshape(S, self.n_kv, hd).transpose(1, 0, 2)
        q, k = self.rope(q, pos), self.rope(k, pos)
        ks, vs = self.kv[layer]
        ks.append(k)
        vs.append(v)
        K, V = np.concatenate(ks, axis=1), np.concatenate(vs, axis=1)  # [kv, T, hd]
        rep = self.n_heads // self.n_kv  # repeat_kv: kv head j serves q heads j*rep..
        K, V = np.repeat(K, rep, axis=0), np.repeat(V, rep, axis=0)
        scores = (q @ K.transpose(0, 2, 1)) * (1.0 / math.sqrt(hd))  # [heads, S, T]
        key_pos = np.arange(K.shape[1])
        scores = np.where(key_pos[None, :] > pos[:, None], -np.inf, scores)  # causal
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        probs = scores / scores.sum(axis=-1, keepdims=True)
        out = (probs @ V).transpose(1, 0, 2).reshape(S, self.n_heads * hd)
        return out @ self.w[p + "o_proj.weight"].T

    def mlp(self, layer, h):
        p = f"model.layers.{layer}.mlp."
        g = h @ self.w[p + "gate_proj.weight"].T
        with np.errstate(over="ignore"):  # exp overflow -> silu(-big) = -0, as torch
            silu = g / (1.0 + np.exp(-g))
        return (silu * (h @ self.w[p + "up_proj.weight"].T)) @ self.w[p + "down_proj.weight"].T

    def forward(self, tokens, start):
        """Process tokens at positions start..; extends the KV cache; logits [S, V]."""
        pos = np.arange(start, start + len(tokens))
        x = self.w["model.embed_tokens.weight"][np.asarray(tokens)]
        for i in range(self.n_layers):
            p = f"model.layers.{i}."
            x = x + self.attention(i, self.rms_norm(x, self.w[p + "input_layernorm.weight"]), pos)
            x = x + self.mlp(i, self.rms_norm(x, self.w[p + "post_attention_layernorm.weight"]))
        return self.rms_norm(x, self.w["model.norm.weight"]) @ self.lm_head.T

    def reset(self):
        self.kv = [([], []) for _ in range(self.n_layers)]


def generate(model, prompt, n, use_cache=True, eos=()):
    """Greedy decode; returns (logits [P + fed, V], generated ids)."""
    rows, gen, seq = [model.forward(prompt, 0)], [], list(prompt)
    for _ in range(n):
        tok = int(np.argmax(rows[-1][-1]))  # ties -> lowest id
        gen.append(tok)
        if tok in eos:
            break
        seq.append(tok)
        if use_cache:
            rows.append(model.forward([tok], len(seq) - 1))
        else:  # recompute everything from scratch; keep only the new row
            model.reset()
            rows.append(model.forward(seq, 0)[-1:])
    return np.concatenate(rows, axis=0), gen


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ckpt", type=Path, help="Hugging Face LLaMA checkpoint directory")
    ap.add_argument("--tokens", required=True, help="prompt token ids, comma-separated")
    ap.add_argument("-n", type=int, default=0, help="greedy decode steps (default 0)")
    ap.add_argument("--logits-out", type=Path, required=True, help="float32 .npy [P+n, vocab]")
    ap.add_argument("--tokens-out", type=Path, help="write generated ids, space-separated")
    ap.add_argument("--precision", choices=["float32", "float64"], default="float64")
    ap.add_argument("--no-cache", action="store_true",
                    help="recompute the whole sequence each step (cross-check of the KV cache)")
    ap.add_argument("--stop-at-eos", action="store_true", help="stop at config eos_token_id")
    a = ap.parse_args()
    try:
        prompt = [int(t) for t in a.tokens.split(",") if t.strip()]
    except ValueError:
        die(f"--tokens must be comma-separated integers, got {a.tokens!r}")
    if not prompt or a.n < 0:
        die("need at least one prompt token and -n >= 0")
    cfg, w = load_checkpoint(a.ckpt, np.dtype(a.precision))
    model = Llama(cfg, w, np.dtype(a.precision))
    vocab = model.lm_head.shape[0]
    if any(not 0 <= t < vocab for t in prompt):
        die(f"prompt token out of range [0, {vocab})")
    eos = cfg.get("eos_token_id")
    eos = set() if not a.stop_at_eos or eos is None else set(eos if isinstance(eos, list) else [eos])
    logits, gen = generate(model, prompt, a.n, use_cache=not a.no_cache, eos=eos)
    np.save(a.logits_out, logits.astype(np.float32))
    if a.tokens_out:
        a.tokens_out.write_text(" ".join(map(str, gen)) + "\n")


if __name__ == "__main__":
    main()
