#!/usr/bin/env python3
"""Writes Hugging Face tokenizer.json files for the tests, with Hugging
Face's own `tokenizers` package (PyPI), the implementation the tests then
compare llamac's against.

  make_hf_tokenizer.py from-tiktoken MODEL OUT.json
      Meta's Llama 3 tokenizer.model (tiktoken) as the tokenizer.json that
      Hugging Face publishes for Llama 3: vocabulary and merges recovered
      from the ranks, Llama 3's Split regex then ByteLevel, the 256 special
      tokens, a template that puts <|begin_of_text|> first.
  make_hf_tokenizer.py train CORPUS OUT.json --vocab N
      A byte-level BPE trained on CORPUS (GPT-2's ByteLevel pre-tokenizer),
      whose merge order is not its id order, with added tokens <s>, </s> and
      chat markers, and a template that puts <s> first.
      The ids of the merged tokens are then renumbered in reverse, so that
      the merges' order is not the ids' (a tokenizer may number its tokens
      any way; the merges alone rank them).
  make_hf_tokenizer.py compare TOKENIZER.json TEXTS.json IDS.json [--out F]
      Checks IDS.json (llamac tokenize --texts-json --no-bos) against Hugging
      Face's encoding of each text (and, with --out, against the ids of
      llama.cpp's test vectors); prints the differences, exits 1 on any.
  make_hf_tokenizer.py corrupt TOKENIZER.json KIND OUT.json
      A copy of TOKENIZER.json with one thing llamac must refuse (KIND: see
      CORRUPTIONS).
  make_hf_tokenizer.py vectors INP TEXTS.json
      llama.cpp's test-tokenizer-0 .inp file as a JSON list of texts.
  make_hf_tokenizer.py decode TOKENIZER.json IDS
      Prints Hugging Face's decoding of the comma-separated IDS.
"""
import argparse
import base64
import json
import sys


try:
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers
except ImportError:  # `corrupt` needs no tokenizers
    pass

LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
                  r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")


def bytes_to_unicode():
    """GPT-2's byte-level alphabet: byte -> the character that spells it."""
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) +
          list(range(ord("®"), ord("ÿ") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def llama3_specials():
    names = ["<|begin_of_text|>", "<|end_of_text|>"] + \
        [f"<|reserved_special_token_{i}|>" for i in range(4)] + \
        ["<|start_header_id|>", "<|end_header_id|>", "<|reserved_special_token_4|>", "<|eot_id|>"] + \
        [f"<|reserved_special_token_{i}|>" for i in range(5, 251)]
    return names


def from_tiktoken(model_path, out_path):
    ranks = {}
    with open(model_path, "rb") as f:
        for line in f:
            line = line.strip()
            if line:
                token, rank = line.split()
                ranks[base64.b64decode(token)] = int(rank)
    spell = bytes_to_unicode()
    to_text = lambda b: "".join(spell[x] for x in b)
    vocab = {to_text(b): r for b, r in ranks.items()}
    # tiktoken merges any adjacent pair whose bytes are a token, the token of
    # lowest rank first: every split of every token is a merge, ranked by the
    # token it makes (as transformers' TikTokenConverter does).
    merges = []
    for token, rank in ranks.items():
        for i in range(1, len(token)):
            if token[:i] in ranks and token[i:] in ranks:
                merges.append((rank, ranks[token[:i]], ranks[token[i:]], token[:i], token[i:]))
    merges.sort()
    tok = Tokenizer(models.BPE(vocab=vocab,
                               merges=[(to_text(a), to_text(b)) for _, _, _, a, b in merges],
                               ignore_merges=True))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(llama3_specials())
    bos = "<|begin_of_text|>"
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, tok.token_to_id(bos))])
    tok.save(out_path)


def train(corpus, out_path, vocab_size):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, show_progress=False,
                                  special_tokens=["<s>", "</s>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train([corpus], trainer)
    tok.add_special_tokens(["<|im_start|>", "<|im_end|>"])
    tok.add_tokens(["<tool>"])  # added, not special: split out all the same
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", special_tokens=[("<s>", tok.token_to_id("<s>"))])
    data = json.loads(tok.to_str())
    vocab = data["model"]["vocab"]
    merged = sorted((i for t, i in vocab.items() if len(t) > 1 and t not in ("<s>", "</s>")))
    renumber = dict(zip(merged, reversed(merged)))
    data["model"]["vocab"] = {t: renumber.get(i, i) for t, i in vocab.items()}
    renumbered = Tokenizer.from_str(json.dumps(data))
    renumbered.save(out_path)


def encode_all(tokenizer_path, texts_path):
    tok = Tokenizer.from_file(tokenizer_path)
    with open(texts_path, encoding="utf-8") as f:
        texts = json.load(f)
    return texts, [tok.encode(t, add_special_tokens=False).ids for t in texts]


def compare(tokenizer_path, texts_path, ids_path, llamacpp_out):
    texts, expected = encode_all(tokenizer_path, texts_path)
    with open(ids_path) as f:
        actual = json.load(f)
    references = [("Hugging Face", expected)]
    if llamacpp_out:
        with open(llamacpp_out) as f:
            references.append(("llama.cpp", [[int(i) for i in line.split()]
                                             for line in f.read().split("\n")[:len(texts)]]))
    status = 0
    for name, reference in references:
        if len(actual) != len(reference):
            print(f"{len(actual)} id lists for {len(reference)} texts")
            return 1
        bad = 0
        for text, want, got in zip(texts, reference, actual):
            if want != got:
                bad += 1
                print(f"text {text!r}:\n  {name} {want}\n  llamac {got}")
        print(f"{len(texts) - bad} of {len(texts)} texts encode as {name} does")
        status |= bad != 0
    return status


def vectors(inp, out):
    with open(inp, encoding="utf-8", newline="") as f:
        cases = f.read().split("\n__ggml_vocab_test__\n")[:-1]
    with open(out, "w", encoding="utf-8") as f:
        json.dump(cases, f)


def decode(tokenizer_path, ids):
    tok = Tokenizer.from_file(tokenizer_path)
    sys.stdout.write(tok.decode([int(i) for i in ids.split(",")], skip_special_tokens=False))


def _first_merge_unknown(d):
    d["model"]["merges"][0] = ["no-such-token", d["model"]["merges"][0][1]]


def _id_gap(d):
    d["added_tokens"][-1]["id"] += 5


CORRUPTIONS = {
    "normalizer": lambda d: d.update(normalizer={"type": "NFC"}),
    "unigram": lambda d: d["model"].update(type="Unigram"),
    "byte-fallback": lambda d: d["model"].update(byte_fallback=True),
    "prefix-space": lambda d: d["pre_tokenizer"].update(add_prefix_space=True),
    "pre-tokenizer": lambda d: d.update(pre_tokenizer={"type": "Whitespace"}),
    "decoder": lambda d: d.update(decoder={"type": "WordPiece"}),
    "lstrip": lambda d: d["added_tokens"][-1].update(lstrip=True),
    "no-merges": lambda d: d["model"].pop("merges"),
    "merge-unknown": _first_merge_unknown,
    "id-gap": _id_gap,
    "not-byte-level": lambda d: d["model"]["vocab"].update({"\u2603": len(d["model"]["vocab"]) + 100}),
    "vocab-id-type": lambda d: d["model"]["vocab"].update({"Ġ": "seven"}),
    "merges-type": lambda d: d["model"].update(merges=[42]),
}


def corrupt(tokenizer_path, kind, out):
    with open(tokenizer_path, encoding="utf-8") as f:
        d = json.load(f)
    CORRUPTIONS[kind](d)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(d, f)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("from-tiktoken")
    p.add_argument("model")
    p.add_argument("out")
    p = sub.add_parser("train")
    p.add_argument("corpus")
    p.add_argument("out")
    p.add_argument("--vocab", type=int, default=600)
    p = sub.add_parser("compare")
    p.add_argument("tokenizer")
    p.add_argument("texts")
    p.add_argument("ids")
    p.add_argument("--out", help="llama.cpp's expected ids (.out)")
    p = sub.add_parser("corrupt")
    p.add_argument("tokenizer")
    p.add_argument("kind", choices=sorted(CORRUPTIONS))
    p.add_argument("out")
    p = sub.add_parser("vectors")
    p.add_argument("inp")
    p.add_argument("out")
    p = sub.add_parser("decode")
    p.add_argument("tokenizer")
    p.add_argument("ids")
    args = parser.parse_args()
    if args.command == "from-tiktoken":
        from_tiktoken(args.model, args.out)
    elif args.command == "train":
        train(args.corpus, args.out, args.vocab)
    elif args.command == "compare":
        sys.exit(compare(args.tokenizer, args.texts, args.ids, args.out))
    elif args.command == "corrupt":
        corrupt(args.tokenizer, args.kind, args.out)
    elif args.command == "vectors":
        vectors(args.inp, args.out)
    else:
        decode(args.tokenizer, args.ids)


if __name__ == "__main__":
    main()
