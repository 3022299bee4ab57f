#!/usr/bin/python3
"""Train llamac's embedded default model, examples/tiny-fortunes, from scratch.

A small LLaMA (RMSNorm, RoPE with Hugging Face's rotate_half pairing, GQA
attention, SwiGLU MLP) in plain PyTorch on the CPU, trained on the fortune
cookies that Debian's `fortunes` / `fortunes-min` packages install under
/usr/share/games/fortunes, with a SentencePiece BPE tokenizer trained by
Debian's `spm_train`. The result is written in Hugging Face layout:
config.json, model.safetensors (F32, HF tensor names), tokenizer.model,
tokenizer_config.json, generation_config.json.

Nothing here depends on `transformers` or on the `safetensors` package: the
model follows transformers' LlamaForCausalLM semantics and the safetensors
file is written by hand (8-byte little-endian header length, JSON header,
raw little-endian data).

Setup (Debian 12, as root) -- everything comes from Debian's packages and the
script runs under Debian's /usr/bin/python3 (python3-torch 1.13 is built for
it; a pyenv/venv python3 earlier on PATH does not see it):

    apt-get install -y fortunes fortunes-min sentencepiece \
        python3-torch python3-numpy python3-sentencepiece libopenblas0-pthread

libopenblas0-pthread matters: Debian's torch calls whatever libblas.so.3 the
alternatives system points at, and the reference BLAS it gets otherwise makes
training about 10x slower.

Run (from the repository root; 15 minutes wall -- 882 s of training, 750
steps -- on one thread of a 2-core AMD EPYC VM that was busy compiling):

    /usr/bin/python3 examples/train_tiny_llama.py --out examples/tiny-fortunes

Everything is seeded and training uses one thread, so a rerun with the same
package versions (fortunes 1:1.99.1-7.3, sentencepiece 0.1.97-3, python3-torch
1.13.1+dfsg-4, libopenblas0-pthread 0.3.21+ds-4) on the same kind of CPU should
reproduce the committed files: two `--steps 20` runs gave byte-identical
output, and tokenizer.model is byte-identical across runs. Another BLAS build or
CPU may change low-order bits and so the final weights. `--steps 20 --out DIR`
is a quick smoke run (under a minute) that leaves examples/ alone.
"""

import argparse
import json
import math
import os
import random
import re
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# One thread for everything (torch.set_num_threads below covers OpenMP; this
# covers OpenBLAS, which Debian's torch calls for matmuls).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

FORTUNE_DIR = Path("/usr/share/games/fortunes")
# ASCII drawings and the non-English file teach the model nothing useful.
EXCLUDE = {"ascii-art", "translate-me"}

# Model shape (written to config.json). GQA: 4 query heads share 2 KV heads;
# lm_head is tied to the embedding, as in Llama 3.2 1B.
CONFIG = dict(
    vocab_size=2000,
    hidden_size=128,
    intermediate_size=384,
    num_hidden_layers=4,
    num_attention_heads=4,
    num_key_value_heads=2,
    max_position_embeddings=256,
    rms_norm_eps=1e-5,
    rope_theta=10000.0,
    tie_word_embeddings=True,
)

SPM_ARGS = [
    "--model_type=bpe",
    f"--vocab_size={CONFIG['vocab_size']}",
    "--character_coverage=1.0",
    "--byte_fallback=true",
    "--split_digits=true",
    "--normalization_rule_name=identity",
    "--remove_extra_whitespaces=false",
    "--allow_whitespace_only_pieces=true",
    "--add_dummy_prefix=true",
    "--max_sentence_length=4096",
    "--pad_id=-1", "--unk_id=0", "--bos_id=1", "--eos_id=2",
    "--num_threads=1",
    "--seed_sentencepiece_size=1000000",
    "--shuffle_input_sentence=false",
]


# ----------------------------------------------------------------------------
# corpus

def clean_fortune(text):
    text = re.sub(r".\x08", "", text)  # overstrike: "_\bX" / "X\bX" -> "X"
    text = re.sub(r"[^\S\n\t ]|[\x00-\x08\x0b-\x1f\x7f]", "", text)
    lines = [ln.rstrip() for ln in text.split("\n")]
    return "\n".join(lines).strip("\n")


def load_fortunes():
    names = sorted(p.name for p in FORTUNE_DIR.iterdir()
                   if p.is_file() and not p.is_symlink() and "." not in p.name
                   and p.name not in EXCLUDE)
    if not names:
        sys.exit(f"no fortune files in {FORTUNE_DIR}: apt-get install fortunes fortunes-min")
    fortunes = []
    for name in names:
        raw = (FORTUNE_DIR / name).read_bytes().decode("utf-8", errors="replace")
        for chunk in re.split(r"^%\n", raw + "\n", flags=re.M):
            t = clean_fortune(chunk)
            letters = sum(c.isalpha() for c in t)
            if t and letters >= 0.5 * len(t.replace(" ", "").replace("\n", "").replace("\t", "")):
                fortunes.append(t)
    return names, fortunes


def train_tokenizer(fortunes, out_dir):
    """spm_train on one line per non-blank fortune line. Relative paths (run in a
    temporary directory) keep tokenizer.model byte-for-byte reproducible: its
    trainer_spec records --input and --model_prefix."""
    with tempfile.TemporaryDirectory() as tmp:
        lines = (ln for f in fortunes for ln in f.split("\n") if ln.strip())
        (Path(tmp) / "fortunes.txt").write_text("\n".join(lines) + "\n")
        cmd = ["spm_train", "--input=fortunes.txt", "--model_prefix=tokenizer"] + SPM_ARGS
        subprocess.run(cmd, check=True, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        (out_dir / "tokenizer.model").write_bytes((Path(tmp) / "tokenizer.model").read_bytes())


# ----------------------------------------------------------------------------
# model: transformers' LlamaForCausalLM, eager attention, no biases

class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        var = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(var + self.eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


_MASKS = {}


def causal_mask(T, S, dtype):
    """Additive mask: query t (at key position S - T + t) sees keys 0..S-T+t."""
    key = (T, S, dtype)
    if key not in _MASKS:
        keep = torch.ones(T, S, dtype=torch.bool).tril(S - T)
        _MASKS[key] = torch.zeros(T, S, dtype=dtype).masked_fill(~keep, float("-inf"))
    return _MASKS[key]


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.nh = c["num_attention_heads"]
        self.nkv = c["num_key_value_heads"]
        self.hd = c["hidden_size"] // self.nh
        d = c["hidden_size"]
        self.q_proj = nn.Linear(d, self.nh * self.hd, bias=False)
        self.k_proj = nn.Linear(d, self.nkv * self.hd, bias=False)
        self.v_proj = nn.Linear(d, self.nkv * self.hd, bias=False)
        self.o_proj = nn.Linear(self.nh * self.hd, d, bias=False)

    def forward(self, x, cos, sin, past=None):
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.nh, self.hd).transpose(1, 2)
        k = self.k_proj(x).view(B, T, self.nkv, self.hd).transpose(1, 2)
        v = self.v_proj(x).view(B, T, self.nkv, self.hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if past is not None:
            if past[0] is not None:
                k = torch.cat((past[0], k), dim=2)
                v = torch.cat((past[1], v), dim=2)
            past[0], past[1] = k, v
        S = k.shape[2]
        rep = self.nh // self.nkv  # repeat_kv: query head h reads kv head h // rep
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        # (q / sqrt(hd)) @ k^T: the same math as HF's (q @ k^T) * scaling, cheaper
        att = (q * (1.0 / math.sqrt(self.hd))) @ k.transpose(-2, -1)
        if T > 1:
            att = att + causal_mask(T, S, att.dtype)
        att = att.softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, self.nh * self.hd)
        return self.o_proj(y)


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, i = c["hidden_size"], c["intermediate_size"]
        self.gate_proj = nn.Linear(d, i, bias=False)
        self.up_proj = nn.Linear(d, i, bias=False)
        self.down_proj = nn.Linear(i, d, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.input_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.self_attn = Attention(c)
        self.post_attention_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.mlp = MLP(c)

    def forward(self, x, cos, sin, past=None):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, past)
        return x + self.mlp(self.post_attention_layernorm(x))


class LlamaModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = nn.ModuleList(DecoderLayer(c) for _ in range(c["num_hidden_layers"]))
        self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])


class LlamaForCausalLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.model = LlamaModel(c)
        self.lm_head = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)
        if c["tie_word_embeddings"]:
            self.lm_head.weight = self.model.embed_tokens.weight
        hd = c["hidden_size"] // c["num_attention_heads"]
        inv_freq = 1.0 / (c["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
        self.register_buffer("inv_freq", inv_freq, persistent=False)
        std = 0.02
        for name, p in self.named_parameters():
            if p.dim() == 2:
                # GPT-2 style: shrink the projections that write into the residual stream
                s = std / math.sqrt(2 * c["num_hidden_layers"]) if name.endswith(("o_proj.weight", "down_proj.weight")) else std
                nn.init.normal_(p, mean=0.0, std=s)

    def rope(self, pos):
        freqs = pos[:, None].float() * self.inv_freq[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(self.lm_head.weight.dtype), emb.sin().to(self.lm_head.weight.dtype)

    def forward(self, ids, start=0, cache=None):
        cos, sin = self.rope(torch.arange(start, start + ids.shape[1]))
        x = self.model.embed_tokens(ids)
        for i, layer in enumerate(self.model.layers):
            x = layer(x, cos, sin, None if cache is None else cache[i])
        return self.lm_head(self.model.norm(x))

    @torch.no_grad()
    def generate(self, prompt, n, temperature=0.0, gen=None):
        cache = [[None, None] for _ in self.model.layers]
        logits = self(torch.tensor([prompt]), 0, cache)[0, -1]
        out, pos = [], len(prompt)
        for _ in range(n):
            if temperature <= 0:
                tok = int(logits.argmax())
            else:
                probs = (logits.double() / temperature).softmax(-1)
                tok = int(torch.multinomial(probs, 1, generator=gen))
            out.append(tok)
            logits = self(torch.tensor([[tok]]), pos, cache)[0, -1]
            pos += 1
        return out


# ----------------------------------------------------------------------------
# Hugging Face layout

def save_safetensors(path, tensors):
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name].detach().cpu().numpy().astype("<f4"))
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def save_hf(model, out_dir):
    c = model.c
    tensors = {k: v for k, v in model.state_dict().items()}
    if c["tie_word_embeddings"]:
        tensors.pop("lm_head.weight", None)
    save_safetensors(out_dir / "model.safetensors", tensors)
    cfg = dict(architectures=["LlamaForCausalLM"], model_type="llama", **c,
               head_dim=c["hidden_size"] // c["num_attention_heads"],
               hidden_act="silu", attention_bias=False, attention_dropout=0.0,
               mlp_bias=False, initializer_range=0.02, rope_scaling=None,
               bos_token_id=1, eos_token_id=2, torch_dtype="float32", use_cache=True)
    (out_dir / "config.json").write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
    (out_dir / "generation_config.json").write_text(json.dumps(
        {"bos_token_id": 1, "eos_token_id": 2, "do_sample": True, "temperature": 0.8},
        indent=2) + "\n")
    (out_dir / "tokenizer_config.json").write_text(json.dumps(
        {"tokenizer_class": "LlamaTokenizer", "add_bos_token": True, "add_eos_token": False,
         "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": None,
         "legacy": False, "clean_up_tokenization_spaces": False,
         "model_max_length": c["max_position_embeddings"]}, indent=2) + "\n")


# ----------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="examples/tiny-fortunes")
    ap.add_argument("--steps", type=int, default=750)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()

    names, fortunes = load_fortunes()
    nbytes = sum(len(f.encode()) + 1 for f in fortunes)
    print(f"corpus: {len(fortunes)} fortunes, {nbytes / 1e6:.2f} MB from {len(names)} files")
    train_tokenizer(fortunes, out)
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_file=str(out / "tokenizer.model"))
    assert sp.vocab_size() == CONFIG["vocab_size"] and sp.bos_id() == 1 and sp.eos_id() == 2

    order = list(range(len(fortunes)))
    random.Random(args.seed).shuffle(order)
    n_val = len(order) // 50
    splits = {}
    for split, idx in (("val", order[:n_val]), ("train", order[n_val:])):
        stream, starts = [], []
        for i in idx:
            starts.append(len(stream))
            stream += [1] + sp.encode(fortunes[i]) + [2]
        splits[split] = (torch.tensor(stream, dtype=torch.long), torch.tensor(starts))
    ntok = len(splits["train"][0])
    print(f"tokens: train {ntok}, val {len(splits['val'][0])} "
          f"({nbytes / (ntok + len(splits['val'][0])):.2f} bytes/token); "
          f"tokenizer took {time.time() - t0:.0f}s")

    ctx = CONFIG["max_position_embeddings"]

    def batch(split, bsz, g):
        stream, starts = splits[split]
        s = starts[torch.randint(0, len(starts), (bsz,), generator=g)]
        s = torch.clamp(s, max=len(stream) - ctx - 1)
        w = torch.stack([stream[i:i + ctx + 1] for i in s.tolist()])
        return w[:, :-1], w[:, 1:]

    model = LlamaForCausalLM(CONFIG)
    nparams = sum(p.numel() for p in model.parameters())
    print(f"model: {nparams / 1e6:.3f}M parameters")
    decay = [p for p in model.parameters() if p.dim() == 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8, foreach=True)
    warmup = max(1, args.steps // 30)

    def lr_at(step):
        if step < warmup:
            return args.lr * (step + 1) / warmup
        p = (step - warmup) / max(1, args.steps - warmup)
        return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))

    def val_loss():
        model.eval()
        g = torch.Generator().manual_seed(0)
        with torch.no_grad():
            ls = [F.cross_entropy(model(x).flatten(0, 1), y.flatten()).item()
                  for x, y in (batch("val", 16, g) for _ in range(8))]
        model.train()
        return sum(ls) / len(ls)

    g = torch.Generator().manual_seed(args.seed)
    t1 = time.time()
    ema = None
    for step in range(args.steps):
        for grp in opt.param_groups:
            grp["lr"] = lr_at(step)
        x, y = batch("train", args.batch, g)
        loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        if step % 50 == 0 or step == args.steps - 1:
            el = time.time() - t1
            msg = f"step {step:5d}  loss {loss.item():.3f}  ema {ema:.3f}  lr {lr_at(step):.2e}  {el:.0f}s"
            if step % 250 == 0 or step == args.steps - 1:
                msg += f"  val {val_loss():.3f}"
            print(msg, flush=True)
    train_s = time.time() - t1
    model.eval()
    save_hf(model, out)
    vl = val_loss()
    tokens_seen = args.steps * args.batch * ctx
    print(f"trained {args.steps} steps ({tokens_seen / 1e6:.1f}M tokens, "
          f"{tokens_seen / ntok:.1f} epochs) in {train_s:.0f}s; final train ema {ema:.3f}, "
          f"val {vl:.3f} ({math.exp(vl):.1f} ppl); total {time.time() - t0:.0f}s")

    prompt_text = "A fortune for today:"
    prompt = [1] + sp.encode(prompt_text)
    greedy = model.generate(prompt, 64)
    print(f"prompt ids: {','.join(map(str, prompt))}")
    print(f"greedy ids: {','.join(map(str, greedy))}")
    print("--- greedy:\n" + sp.decode(prompt[1:] + greedy))
    for s in (1, 2):
        gen = torch.Generator().manual_seed(s)
        print(f"--- temp 0.8, seed {s}:\n"
              + sp.decode(prompt[1:] + model.generate(prompt, 64, 0.8, gen)))


if __name__ == "__main__":
    main()
