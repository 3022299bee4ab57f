#!/usr/bin/env python3
"""Generate tiny Hugging Face-layout LLaMA checkpoints (config.json + safetensors)
for the llamac lit tests; `--corrupt KIND` breaks a valid one in a single,
specific way so that error-path tests can check each diagnostic."""

import argparse
import json
import os
import struct
from pathlib import Path

import ml_dtypes
import numpy as np
from safetensors.numpy import load_file, save_file

DTYPES = {  # --dtype -> (numpy dtype, config torch_dtype)
    "f32": (np.float32, "float32"),
    "f16": (np.float16, "float16"),
    "bf16": (ml_dtypes.bfloat16, "bfloat16"),
}
INDEX = "model.safetensors.index.json"
CORRUPT_KINDS = [
    "missing-config", "config-syntax", "model-type", "config-missing-field",
    "config-bad-value", "heads-mismatch", "truncated-header", "header-too-long",
    "header-json", "data-truncated", "offsets-bad", "missing-tensor",
    "wrong-shape", "bad-dtype", "index-missing-shard", "index-json",
]
ST_ITEMSIZE = {"F32": 4, "F16": 2, "BF16": 2, "I64": 8}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("out_dir", type=Path)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--intermediate", type=int, default=172)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--kv-heads", type=int, help="default: --heads (plain MHA)")
    p.add_argument("--head-dim", type=int,
                   help="written to config only when given; default hidden/heads")
    p.add_argument("--vocab", type=int, default=128)
    p.add_argument("--max-pos", type=int, default=256)
    p.add_argument("--rms-eps", type=float, default=1e-5)
    p.add_argument("--rope-theta", type=float, default=10000.0)
    p.add_argument("--rope-scaling", choices=["llama3"])
    p.add_argument("--rope-factor", type=float, default=8.0)
    p.add_argument("--rope-orig-max", type=int, default=8192)
    p.add_argument("--tie", action="store_true", help="tie_word_embeddings (no lm_head)")
    p.add_argument("--dtype", choices=list(DTYPES), default="f32")
    p.add_argument("--shards", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--corrupt", choices=CORRUPT_KINDS)
    a = p.parse_args()
    if a.kv_heads is None:
        a.kv_heads = a.heads
    if a.head_dim is None and (a.heads <= 0 or a.hidden % a.heads):
        p.error("--hidden must be divisible by --heads unless --head-dim is given")
    if a.corrupt in ("index-missing-shard", "index-json") and a.shards < 2:
        a.shards = 2  # these defects only exist in sharded checkpoints
    if a.shards < 1:
        p.error("--shards must be >= 1")
    return a


def make_config(a):
    cfg = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama",
        "hidden_size": a.hidden, "intermediate_size": a.intermediate,
        "num_hidden_layers": a.layers, "num_attention_heads": a.heads,
        "num_key_value_heads": a.kv_heads,
    }
    if a.head_dim is not None:
        cfg["head_dim"] = a.head_dim
    rope_scaling = None
    if a.rope_scaling == "llama3":
        rope_scaling = {"rope_type": "llama3", "factor": a.rope_factor,
                        "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                        "original_max_position_embeddings": a.rope_orig_max}
    cfg.update({
        "rms_norm_eps": a.rms_eps, "rope_theta": a.rope_theta,
        "rope_scaling": rope_scaling, "vocab_size": a.vocab,
        "tie_word_embeddings": a.tie, "max_position_embeddings": a.max_pos,
        "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu",
        "attention_bias": False, "mlp_bias": False,
        "torch_dtype": DTYPES[a.dtype][1],
    })
    return cfg


def make_tensors(a):
    """Ordered {name: array} in HF LlamaForCausalLM layout ([out, in])."""
    rng = np.random.default_rng(a.seed)
    dt = DTYPES[a.dtype][0]
    hd = a.head_dim if a.head_dim is not None else a.hidden // a.heads
    H, I = a.hidden, a.intermediate

    def lin(*shape):
        return (rng.standard_normal(shape, dtype=np.float32) * 0.02).astype(dt)

    def norm():  # not all-ones, so a missing/misapplied norm weight is visible
        return (1.0 + 0.1 * rng.standard_normal(H, dtype=np.float32)).astype(dt)

    t = {"model.embed_tokens.weight": lin(a.vocab, H)}
    for i in range(a.layers):
        p = f"model.layers.{i}."
        t[p + "input_layernorm.weight"] = norm()
        t[p + "self_attn.q_proj.weight"] = lin(a.heads * hd, H)
        t[p + "self_attn.k_proj.weight"] = lin(a.kv_heads * hd, H)
        t[p + "self_attn.v_proj.weight"] = lin(a.kv_heads * hd, H)
        t[p + "self_attn.o_proj.weight"] = lin(H, a.heads * hd)
        t[p + "post_attention_layernorm.weight"] = norm()
        t[p + "mlp.gate_proj.weight"] = lin(I, H)
        t[p + "mlp.up_proj.weight"] = lin(I, H)
        t[p + "mlp.down_proj.weight"] = lin(H, I)
    t["model.norm.weight"] = norm()
    if not a.tie:
        t["lm_head.weight"] = lin(a.vocab, H)
    return t


def shard_name(i, n):
    return "model.safetensors" if n == 1 else f"model-{i + 1:05d}-of-{n:05d}.safetensors"


def write_index(out, weight_map, total_size):
    (out / INDEX).write_text(json.dumps(
        {"metadata": {"total_size": total_size}, "weight_map": weight_map}, indent=2))


def write_weights(out, tensors, n):
    """Split tensors in order into n (near-)equal-count shards; index if n > 1."""
    names = list(tensors)
    if n > len(names):
        raise SystemExit(f"error: --shards {n} exceeds tensor count {len(names)}")
    weight_map = {}
    for i, chunk in enumerate(np.array_split(np.arange(len(names)), n)):
        fname = shard_name(i, n)
        part = {names[j]: tensors[names[j]] for j in chunk}
        # safetensors>=0.4 writes ml_dtypes.bfloat16 natively as "BF16".
        save_file(part, out / fname, metadata={"format": "pt"})
        weight_map.update({k: fname for k in part})
    if n > 1:
        write_index(out, weight_map, sum(v.nbytes for v in tensors.values()))
    return weight_map


# --- raw safetensors access, needed to produce files the library refuses to write

def read_raw(path):
    buf = path.read_bytes()
    (n,) = struct.unpack("<Q", buf[:8])
    return json.loads(buf[8:8 + n]), buf[8 + n:]


def write_raw(path, header, data):
    hdr = json.dumps(header, separators=(",", ":")).encode()
    hdr += b" " * (-len(hdr) % 8)  # spec: pad header with spaces to 8-byte alignment
    path.write_bytes(struct.pack("<Q", len(hdr)) + hdr + data)


def last_tensor(header):
    """Name of the tensor whose data sits at the end of the file."""
    return max((k for k in header if k != "__metadata__"),
               key=lambda k: header[k]["data_offsets"][1])


def replace_tensor(out, weight_map, name, new):
    """Rewrite the file holding `name` with `new` (None = drop); keep index in sync."""
    fname = weight_map[name]
    part = load_file(out / fname)
    if new is None:
        del part[name], weight_map[name]
    else:
        part[name] = new
    save_file(part, out / fname, metadata={"format": "pt"})
    if (out / INDEX).exists():
        total = sum(v.nbytes for f in set(weight_map.values())
                    for v in load_file(out / f).values())
        write_index(out, weight_map, total)


def corrupt(kind, a, out, cfg, weight_map):
    cfg_path = out / "config.json"
    st = out / weight_map["model.embed_tokens.weight"]  # first (or only) shard
    if kind == "missing-config":
        cfg_path.unlink()
    elif kind == "config-syntax":
        text = cfg_path.read_text()
        cfg_path.write_text(text[:len(text) // 2])  # cut mid-object: unterminated JSON
    elif kind in ("model-type", "config-missing-field", "config-bad-value",
                  "heads-mismatch"):
        if kind == "model-type":
            cfg["model_type"] = "gpt2"
        elif kind == "config-missing-field":
            del cfg["hidden_size"]
        elif kind == "config-bad-value":
            cfg["num_attention_heads"] = 0
        else:  # smallest kv count that does not divide heads (8 -> 3)
            cfg["num_key_value_heads"] = next(
                (k for k in range(2, a.heads) if a.heads % k), a.heads + 1)
        cfg_path.write_text(json.dumps(cfg, indent=2))
    elif kind == "truncated-header":
        st.write_bytes(st.read_bytes()[:5])  # shorter than the u64 length prefix
    elif kind == "header-too-long":
        buf = st.read_bytes()
        st.write_bytes(struct.pack("<Q", len(buf) + 1024) + buf[8:])
    elif kind == "header-json":
        buf = st.read_bytes()
        (n,) = struct.unpack("<Q", buf[:8])
        bad = b'{"broken": '.ljust(n, b" ")  # same length, so only the JSON is wrong
        st.write_bytes(buf[:8] + bad + buf[8 + n:])
    elif kind == "data-truncated":
        header, data = read_raw(st)
        begin, end = header[last_tensor(header)]["data_offsets"]
        buf = st.read_bytes()  # cut halfway into the last tensor's data
        st.write_bytes(buf[:len(buf) - len(data) + (begin + end) // 2])
    elif kind == "offsets-bad":
        # Shrink the last tensor's range by one element (and the data with it) so
        # offsets stay in-bounds and contiguous but disagree with dtype*shape.
        header, data = read_raw(st)
        info = header[last_tensor(header)]
        info["data_offsets"][1] -= ST_ITEMSIZE[info["dtype"]]
        write_raw(st, header, data[:info["data_offsets"][1]])
    elif kind == "missing-tensor":
        replace_tensor(out, weight_map, "model.layers.0.mlp.up_proj.weight", None)
    elif kind == "wrong-shape":
        hd = a.head_dim if a.head_dim is not None else a.hidden // a.heads
        bad = np.zeros((a.kv_heads * hd + 1, a.hidden), DTYPES[a.dtype][0])
        replace_tensor(out, weight_map, "model.layers.0.self_attn.k_proj.weight", bad)
    elif kind == "bad-dtype":
        replace_tensor(out, weight_map, "model.layers.0.input_layernorm.weight",
                       np.ones(a.hidden, np.int64))
    elif kind == "index-missing-shard":
        weight_map["model.norm.weight"] = shard_name(98, a.shards)  # never written
        index = json.loads((out / INDEX).read_text())
        write_index(out, weight_map, index["metadata"]["total_size"])
    elif kind == "index-json":
        text = (out / INDEX).read_text()
        (out / INDEX).write_text(text[:len(text) // 2])


def main():
    a = parse_args()
    out = a.out_dir
    out.mkdir(parents=True, exist_ok=True)
    # Drop outputs of a previous run so a changed --shards leaves no stale files.
    for f in out.glob("model*.safetensors*"):
        f.unlink()
    cfg = make_config(a)
    (out / "config.json").write_text(json.dumps(cfg, indent=2))
    weight_map = write_weights(out, make_tensors(a), a.shards)
    if a.corrupt:
        corrupt(a.corrupt, a, out, cfg, weight_map)


if __name__ == "__main__":
    main()
