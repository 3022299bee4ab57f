#!/usr/bin/env python3
"""PyTorch peer for bench/host_bench.py: the same checkpoint, the same prompt
and greedy decode with a KV cache, in eager PyTorch on the CPU (all threads).

Runs under any Python with torch (Debian's python3-torch is enough); uses
transformers' LlamaForCausalLM when importable, else a plain PyTorch forward
of the same Hugging Face semantics. Prints one JSON line.

    torch_peer.py CKPT --prompt 128 -n 64
"""
import argparse
import json
import os
import time

import torch


def load_state(ckpt):
    from struct import unpack
    state = {}
    names = [n for n in os.listdir(ckpt) if n.endswith(".safetensors")]
    dtypes = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}
    for name in names:
        with open(os.path.join(ckpt, name), "rb") as f:
            n = unpack("<Q", f.read(8))[0]
            header = json.loads(f.read(n))
            data = f.read()
        for key, v in header.items():
            if key == "__metadata__":
                continue
            b, e = v["data_offsets"]
            t = torch.frombuffer(bytearray(data[b:e]), dtype=dtypes[v["dtype"]])
            state[key] = t.reshape(v["shape"]).float()
    return state


class PlainLlama:
    """transformers' LlamaForCausalLM forward (eager), for when it is absent."""

    def __init__(self, ckpt):
        self.c = json.load(open(os.path.join(ckpt, "config.json")))
        self.w = load_state(ckpt)
        c = self.c
        self.hd = c.get("head_dim") or c["hidden_size"] // c["num_attention_heads"]
        inv = 1.0 / (c.get("rope_theta", 10000.0) ** (torch.arange(0, self.hd, 2).float() / self.hd))
        self.inv = inv
        self.head = self.w.get("lm_head.weight", self.w["model.embed_tokens.weight"])

    def norm(self, x, w):
        return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.c["rms_norm_eps"]))

    def rope(self, x, pos):
        f = pos[:, None].float() * self.inv[None, :]
        cos, sin = torch.cat([f.cos(), f.cos()], -1), torch.cat([f.sin(), f.sin()], -1)
        x1, x2 = x[..., : self.hd // 2], x[..., self.hd // 2:]
        return x * cos[:, None] + torch.cat([-x2, x1], -1) * sin[:, None]

    def __call__(self, ids, cache, start):
        c, w = self.c, self.w
        H, K = c["num_attention_heads"], c.get("num_key_value_heads") or c["num_attention_heads"]
        T = ids.shape[0]
        pos = torch.arange(start, start + T)
        x = w["model.embed_tokens.weight"][ids]
        for i in range(c["num_hidden_layers"]):
            p = f"model.layers.{i}."
            h = self.norm(x, w[p + "input_layernorm.weight"])
            q = (h @ w[p + "self_attn.q_proj.weight"].T).view(T, H, self.hd)
            k = (h @ w[p + "self_attn.k_proj.weight"].T).view(T, K, self.hd)
            v = (h @ w[p + "self_attn.v_proj.weight"].T).view(T, K, self.hd)
            q, k = self.rope(q, pos), self.rope(k, pos)
            ks, vs = cache.setdefault(i, ([], []))
            ks.append(k), vs.append(v)
            kk = torch.cat(ks).repeat_interleave(H // K, 1)
            vv = torch.cat(vs).repeat_interleave(H // K, 1)
            s = torch.einsum("thd,shd->hts", q, kk) / self.hd ** 0.5
            mask = torch.arange(kk.shape[0])[None, :] > pos[:, None]
            a = torch.einsum("hts,shd->thd", s.masked_fill(mask, float("-inf")).softmax(-1), vv)
            x = x + a.reshape(T, -1) @ w[p + "self_attn.o_proj.weight"].T
            h = self.norm(x, w[p + "post_attention_layernorm.weight"])
            g = h @ w[p + "mlp.gate_proj.weight"].T
            x = x + (torch.nn.functional.silu(g) * (h @ w[p + "mlp.up_proj.weight"].T)) @ w[p + "mlp.down_proj.weight"].T
        return self.norm(x, w["model.norm.weight"]) @ self.head.T


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ckpt")
    ap.add_argument("--prompt", type=int, default=128)
    ap.add_argument("-n", type=int, default=64)
    args = ap.parse_args()
    torch.set_num_threads(os.cpu_count())
    ids = torch.tensor([1 + i % 50 for i in range(args.prompt)])
    with torch.no_grad():
        try:
            from transformers import LlamaForCausalLM
            model = LlamaForCausalLM.from_pretrained(args.ckpt, torch_dtype=torch.float32)
            impl = "transformers"
            t = time.perf_counter()
            out = model(ids[None], use_cache=True)
            prefill = time.perf_counter() - t
            past, tok = out.past_key_values, out.logits[0, -1].argmax()
            t = time.perf_counter()
            for _ in range(args.n):
                out = model(tok.view(1, 1), past_key_values=past, use_cache=True)
                past, tok = out.past_key_values, out.logits[0, -1].argmax()
            decode = time.perf_counter() - t
        except ImportError:
            model, impl, cache = PlainLlama(args.ckpt), "plain PyTorch", {}
            t = time.perf_counter()
            logits = model(ids, cache, 0)
            prefill = time.perf_counter() - t
            tok = logits[-1].argmax()
            t = time.perf_counter()
            for i in range(args.n):
                tok = model(tok.view(1), cache, args.prompt + i)[-1].argmax()
            decode = time.perf_counter() - t
    print(json.dumps({"impl": f"{impl} {torch.__version__}",
                      "prefill": args.prompt / prefill, "decode": args.n / decode}))


if __name__ == "__main__":
    main()
