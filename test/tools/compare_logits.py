#!/usr/bin/env python3
"""Compare two logits arrays (.npy, [rows, vocab]) for the llamac tests.

Prints `rel_l2=<x> rows=<n> argmax_agree=<k>/<n>`, where rel_l2 = ||a - e|| / ||e||
over the whole (row-selected) array in float64. With --until-divergence, only the
rows whose inputs both runs share: the prompt's and the generated ones up to the
first generated id that differs (the row that chose it included; after it the
runs continue different sequences, whose logits compare nothing). Exits 1 if the
shapes differ, if
rel_l2 exceeds --max-rel-l2, or, with --greedy, if the per-row argmax differs
anywhere (naming the first such row); exits 2 on unreadable input.
"""

import argparse
import sys

import numpy as np


def fail_input(msg):
    print(f"compare_logits: error: {msg}", file=sys.stderr)
    sys.exit(2)


def load(path):
    try:
        with open(path, "rb") as f:
            if f.read(6) != b"\x93NUMPY":
                fail_input(f"{path}: not a .npy file")
        a = np.load(path, allow_pickle=False)
    except Exception as e:  # missing file, not .npy, pickled object array, ...
        fail_input(f"cannot read {path}: {e}".splitlines()[0])
    if a.ndim != 2 or not np.issubdtype(a.dtype, np.floating):
        fail_input(f"{path}: expected a 2-D float array, got {a.dtype} {list(a.shape)}")
    return a.astype(np.float64)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("actual")
    ap.add_argument("expected")
    ap.add_argument("--max-rel-l2", type=float, default=1e-4)
    ap.add_argument("--greedy", action="store_true", help="require equal argmax in every row")
    ap.add_argument("--rows-from", type=int, default=0, metavar="K",
                    help="compare rows K.. only (e.g. skip prompt rows)")
    ap.add_argument("--until-divergence", nargs=2, metavar=("ACTUAL_IDS", "EXPECTED_IDS"),
                    help="files of the generated ids (whitespace-separated): compare the "
                         "rows before the first generated id that differs (with "
                         "--prompt-rows)")
    ap.add_argument("--prompt-rows", type=int, default=0, metavar="P",
                    help="rows of the prompt (with --until-divergence)")
    a = ap.parse_args()
    act, exp = load(a.actual), load(a.expected)
    if act.shape != exp.shape:
        print(f"FAIL: shape {list(act.shape)} != expected {list(exp.shape)}")
        return 1
    note = ""
    if a.until_divergence:
        try:
            ids = [open(path).read().split() for path in a.until_divergence]
        except OSError as e:
            fail_input(f"cannot read generated ids: {e}")
        first = next((i for i, (x, y) in enumerate(zip(*ids)) if x != y), None)
        if first is not None:
            # Row P - 1 + i chose generated id i; row P + i reads it.
            keep = a.prompt_rows + first
            act, exp = act[:keep], exp[:keep]
            note = f" (the generated ids differ from index {first} on: {keep} rows compared)"
    if not 0 <= a.rows_from <= exp.shape[0]:
        print(f"FAIL: --rows-from {a.rows_from} outside 0..{exp.shape[0]}")
        return 1
    act, exp = act[a.rows_from:], exp[a.rows_from:]
    norm = np.linalg.norm(exp)
    diff = np.linalg.norm(act - exp)  # nan/inf in `actual` make this nan -> fails below
    rel = diff / norm if norm > 0 else (0.0 if diff == 0 else np.inf)
    agree = act.argmax(axis=1) == exp.argmax(axis=1)
    n = exp.shape[0]
    print(f"rel_l2={rel:.3e} rows={n} argmax_agree={int(agree.sum())}/{n}{note}")
    status = 0
    if not rel <= a.max_rel_l2:  # written so that nan fails
        print(f"FAIL: rel_l2 {rel:.3e} > {a.max_rel_l2:g}")
        status = 1
    if a.greedy and not agree.all():
        r = int(np.argmin(agree))
        print(f"FAIL: argmax differs first at row {r + a.rows_from}: "
              f"actual {int(act[r].argmax())}, expected {int(exp[r].argmax())}")
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
