#!/usr/bin/env python3
"""Compare an executable's --logits-out with Hugging Face transformers.

Run where torch + transformers are installed (the device machine):
    compare_transformers.py CKPT --prompt 5,17,... --generated gpu.txt --logits gpu.npy

The token sequence the executable processed is the prompt followed by the
ids it generated (gpu.txt); transformers' LlamaForCausalLM runs it in float64
(eager attention, CPU) as one forward, and each of the executable's logits
rows is compared with transformers' row at the same position: relative L2
error over all rows, and whether the argmax of every row agrees.
"""
import argparse
import sys

import numpy as np
import torch
from transformers import LlamaForCausalLM


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ckpt")
    ap.add_argument("--prompt", required=True, help="comma-separated prompt ids")
    ap.add_argument("--generated", required=True, help="file with the generated ids")
    ap.add_argument("--logits", required=True, help="the executable's --logits-out .npy")
    ap.add_argument("--max-rel-l2", type=float, default=1e-4)
    ap.add_argument("--no-greedy", action="store_true",
                    help="report, not require, equal argmax in every row (bf16 arithmetic)")
    args = ap.parse_args()

    ids = [int(t) for t in args.prompt.split(",")]
    ids += [int(t) for t in open(args.generated).read().split()]
    ours = np.load(args.logits).astype(np.float64)
    rows = ours.shape[0]
    if rows > len(ids):
        sys.exit(f"{args.logits} has {rows} rows but only {len(ids)} tokens are known")
    model = LlamaForCausalLM.from_pretrained(args.ckpt, torch_dtype=torch.float64,
                                             attn_implementation="eager").eval()
    with torch.no_grad():
        theirs = model(torch.tensor([ids[:rows]])).logits[0].numpy()
    rel = np.linalg.norm(ours - theirs) / np.linalg.norm(theirs)
    agree = int((ours.argmax(-1) == theirs.argmax(-1)).sum())
    ok = rel <= args.max_rel_l2 and (agree == rows or args.no_greedy)
    print(f"{'ok' if ok else 'FAIL'}: rel-L2 {rel:.2e} (bound {args.max_rel_l2:g}), "
          f"argmax {agree}/{rows} vs transformers {model.dtype}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
