#!/usr/bin/env bash
# On the device machine, standalone (a minute or two): random checkpoints
# of four vocabularies (96: one warp; 77: single floats, no runs of 4;
# 40,000: a partial last trip; 128,256: Llama 3's, 63 segments), each
# compiled for sm_90 with $LLAMAC, and every GPU draw (from the list and
# from the row) checked against reference-draw over the run's own
# --logits-out rows; compute-sanitizer on the row draws. The part of
# cuda_check.sh a change to llama.sample needs.
set -uo pipefail
OUT="${1:-/tmp/draws}"
mkdir -p "$OUT"
PY="${PYTHON:-python3}"
P="$("$PY" -c "print(','.join(str(i * 7 % 60 + 1) for i in range(20)))")"
status=0
# shellcheck source=scripts/device/draw_check.sh
source "$(dirname "$0")/draw_check.sh"
build_reference_draw "$OUT" || exit 1
for entry in "v96:--vocab 96 --layers 2 --heads 8 --kv-heads 2" "v77:--vocab 77 --layers 1 --heads 4 --kv-heads 1" \
             "v40000:--vocab 40000 --layers 1 --heads 4 --kv-heads 2" "v128256:--vocab 128256 --layers 1 --heads 4 --kv-heads 2 --dtype bf16"; do
  name="${entry%%:*}"; dir="$OUT/$name"
  # shellcheck disable=SC2086
  "$PY" test/tools/make_checkpoint.py "$dir/ckpt" --hidden 64 --intermediate 128 --max-pos 64 --seed 5 ${entry#*:} >/dev/null || { status=1; continue; }
  "$LLAMAC" compile "$dir/ckpt" -o "$dir/sm_90" --target sm_90 --ctx-size 64 --prefill-chunk 8 >/dev/null || { status=1; continue; }
  "$LLAMAC" compile "$dir/ckpt" -o "$dir/sm_90-rows" --target sm_90 --ctx-size 64 --prefill-chunk 8 --sampling-candidates 1 >/dev/null || { status=1; continue; }
  same=1; n=0
  for s in "--temp 0" "--temp 0.8 --top-k 40 --top-p 0.95 --seed 3" "--temp 1.2 --top-k 33 --top-p 0.99 --seed 6" \
           "--temp 0.8 --top-k 0 --top-p 0.95 --seed 3" "--temp 1.3 --top-k 0 --top-p 1 --seed 4" \
           "--temp 0.9 --top-k 70 --top-p 0.9 --seed 5" "--temp 0.5 --top-k 1000 --top-p 1 --seed 8" \
           "--temp 3 --top-k 0 --top-p 0.5 --seed 9"; do
    # shellcheck disable=SC2086
    drawn "$dir/sm_90" 64 $s || same=0; n=$((n + 1))
  done
  drawn "$dir/sm_90-rows" 1 --temp 0.8 --top-k 40 --top-p 0.95 --seed 3 || same=0
  if [ $same = 1 ]; then echo "== $name: the reference's ids ($n settings, and lists of one)"; else echo "== $name: ids DIFFER"; status=1; fi
done
for s in "--temp 0.8 --top-k 0 --top-p 0.95 --seed 3" "--temp 1.1 --top-k 200 --top-p 0.9 --seed 4"; do
  for tool in memcheck racecheck; do
    # shellcheck disable=SC2086
    echo "   $tool v128256 $s: $(timeout 120 compute-sanitizer --tool $tool --print-limit 5 "$OUT/v128256/sm_90" --tokens "$P" -n 2 $s 2>&1 | tail -1)"
  done
done
exit $status
