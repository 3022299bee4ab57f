#!/usr/bin/env python3
"""The fake model's rules (see fake_model.c) in Python, for the tests.

fake_model_ref.py IDS [-n N]     prints the greedy continuation as the
                                 executable does: "a b c"
fake_model_ref.py IDS --rows     prints each processed position's predicted
                                 token (the argmax of its logits row)
"""
import argparse

EOS_IDS = (15, 14)
EOS_AFTER = 13


def predict(cache_sum, position, token):
    if token == EOS_AFTER:
        return 15
    return ((31 * cache_sum) ^ (7 * position)) % 15


def run(prompt, n):
    """(generated tokens, argmax of every processed row)."""
    total, rows = 0, []
    for p, t in enumerate(prompt):
        total += t + 1
        rows.append(predict(total, p, t))
    generated, p = [], len(prompt)
    for _ in range(n):
        token = rows[-1]
        generated.append(token)
        if token in EOS_IDS:
            break
        total += token + 1
        rows.append(predict(total, p, token))
        p += 1
    return generated, rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("ids")
    parser.add_argument("-n", type=int, default=0)
    parser.add_argument("--rows", action="store_true")
    args = parser.parse_args()
    prompt = [int(x) for x in args.ids.split(",")]
    generated, rows = run(prompt, args.n)
    print(" ".join(map(str, rows if args.rows else generated)))


if __name__ == "__main__":
    main()
