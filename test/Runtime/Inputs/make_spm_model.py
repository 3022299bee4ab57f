#!/usr/bin/env python3
"""Writes a tiny SentencePiece model (a serialized ModelProto) to FILE.

For the runtime's tests, whose fake model has a vocabulary of 16 ids: the
pieces are chosen here, rather than trained by spm_train (whose choice could
change between versions), and the protobuf is written by hand (no protobuf
module needed). A unigram model whose pieces all score -1:
encoding picks the split into the fewest pieces, so the ids of a text are
easy to predict.

    id  piece   type           id  piece  type
     0  <unk>   UNKNOWN         8  s      NORMAL
     1  <s>     CONTROL         9  !      NORMAL
     2  ▁the    NORMAL         10  é      NORMAL  (2 bytes in UTF-8)
     3  ▁cat    NORMAL         11  中     NORMAL  (3 bytes)
     4  ▁sat    NORMAL         12  ▁      NORMAL
     5  ▁on     NORMAL         13  .      NORMAL
     6  ▁mat    NORMAL         14  <pad>  CONTROL
     7  ▁a      NORMAL         15  </s>   CONTROL
The fake model's EOS ids (15, 14) are control pieces, which decode to
nothing. --extra N appends N more pieces (for a vocabulary-size mismatch).

make_spm_model.py --decode IDS_FILE --context IDS prints the text that the
ids in IDS_FILE (as the executable prints them) add after the prompt IDS,
decoded as SentencePiece does, for checking the runtime's streamed text.
"""
import argparse
import struct

NORMAL, UNKNOWN, CONTROL = 1, 2, 3
PIECES = [
    ("<unk>", UNKNOWN), ("<s>", CONTROL), ("\u2581the", NORMAL),
    ("\u2581cat", NORMAL), ("\u2581sat", NORMAL), ("\u2581on", NORMAL),
    ("\u2581mat", NORMAL), ("\u2581a", NORMAL), ("s", NORMAL), ("!", NORMAL),
    ("\u00e9", NORMAL), ("\u4e2d", NORMAL), ("\u2581", NORMAL), (".", NORMAL),
    ("<pad>", CONTROL), ("</s>", CONTROL),
]


def varint(n):
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number, wire_type, payload):
    key = varint(number << 3 | wire_type)
    if wire_type == 0:
        return key + varint(payload)
    if wire_type == 5:
        return key + payload
    return key + varint(len(payload)) + payload  # 2: length-delimited


def model(pieces):
    out = bytearray()
    for piece, kind in pieces:  # ModelProto.pieces = 1
        score = -1.0 if kind == NORMAL else 0.0  # fewest pieces win
        out += field(1, 2, field(1, 2, piece.encode()) +        # piece
                     field(2, 5, struct.pack("<f", score)) +     # score
                     field(3, 0, kind))                          # type
    trainer = field(3, 0, 1) + field(4, 0, len(pieces))  # UNIGRAM, vocab_size
    out += field(2, 2, trainer)                          # trainer_spec
    normalizer = (field(1, 2, b"identity") +             # name
                  field(3, 0, 1) +                       # add_dummy_prefix
                  field(4, 0, 0) +                       # remove_extra_whitespaces
                  field(5, 0, 1))                        # escape_whitespaces
    out += field(3, 2, normalizer)                       # normalizer_spec
    return bytes(out)


def decode(ids):
    """SentencePiece's decoding for these pieces: control pieces vanish, <unk>
    reads " ⁇ ", and the first piece's leading ▁ (the dummy prefix) is
    dropped."""
    text, first = "", True
    for i in ids:
        piece, kind = PIECES[i]
        if kind == CONTROL:
            continue
        if kind == UNKNOWN:
            text += " \u2047 "
        else:
            if first and piece.startswith("\u2581"):
                piece = piece[1:]
            text += piece.replace("\u2581", " ")
        first = False
    return text


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", nargs="?")
    parser.add_argument("--extra", type=int, default=0, help="pieces added after id 15")
    parser.add_argument("--decode", metavar="IDS_FILE")
    parser.add_argument("--context", default="", metavar="IDS")
    args = parser.parse_args()
    if args.decode:
        context = [int(x) for x in args.context.split(",") if x]
        with open(args.decode) as f:
            generated = [int(x) for x in f.read().split()]
        before, after = decode(context), decode(context + generated)
        assert after.startswith(before)
        print(after[len(before):])
        return
    pieces = PIECES + [(f"x{i}", NORMAL) for i in range(args.extra)]
    with open(args.file, "wb") as f:
        f.write(model(pieces))


if __name__ == "__main__":
    main()
