#!/usr/bin/env bash
# On the device machine, after prepare_cuda_check.sh: recompiles each
# config's default executable (sm_90-last: lists of 64) and the adversarial
# one with $LLAMAC, then checks every GPU draw (from the list and from the
# row) against reference-draw over the run's own --logits-out rows, and
# runs compute-sanitizer on the row draws. The part of cuda_check.sh a
# change to llama.sample needs, in a minute or two.
set -uo pipefail
DIR="${1:-build-device}"
export LD_LIBRARY_PATH="$PWD/$DIR/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
PROMPT="$(cat "$DIR/prompt.txt")"
status=0
g++ -O2 -std=c++17 -Iruntime/include -Itest/Runtime/Inputs \
  test/Runtime/Inputs/reference_draw_tool.cpp -o "$DIR/reference-draw" || exit 1
drawn() {
  local exe="$1" listed="$2"; shift 2
  local from=$(( $(echo "$P" | tr ',' '\n' | wc -l) - 1 ))
  timeout 60 "$exe" --tokens "$P" -n 32 --ignore-eos "$@" --logits-out "$exe.draw.npy" > "$exe.draw.txt" 2>/dev/null || { echo "   $(basename "$exe") $*: exit $?"; return 1; }
  "$DIR/reference-draw" "$exe.draw.npy" --from "$from" --count 32 --listed "$listed" "$@" > "$exe.draw.ref" || return 1
  diff -q "$exe.draw.txt" "$exe.draw.ref" >/dev/null
}
for dir in "$DIR"/*/; do
  [ -x "$dir/sm_90-last" ] && [ -d "$dir/ckpt" ] || continue
  P="$PROMPT"; [ -f "$dir/prompt.txt" ] && P="$(cat "$dir/prompt.txt")"
  ctx=64; chunk=8; [ -f "$dir/prompt.txt" ] && { ctx=256; chunk=128; }
  "$LLAMAC" compile "$dir/ckpt" -o "$dir/sm_90-last" --target sm_90 --ctx-size $ctx --prefill-chunk $chunk >/dev/null || status=1
  "$LLAMAC" compile "$dir/ckpt" -o "$dir/sm_90-rows" --target sm_90 --ctx-size $ctx --prefill-chunk $chunk --sampling-candidates 1 >/dev/null || status=1
  same=1; n=0
  for s in "--temp 0.8 --top-k 40 --top-p 0.95 --seed 3" "--temp 1.2 --top-k 33 --top-p 0.99 --seed 6" \
           "--temp 0.8 --top-k 0 --top-p 0.95 --seed 3" "--temp 1.3 --top-k 0 --top-p 1 --seed 4" \
           "--temp 0.9 --top-k 100 --top-p 0.9 --seed 5" "--temp 0.5 --top-k 1000 --top-p 1 --seed 8"; do
    # shellcheck disable=SC2086
    drawn "$dir/sm_90-last" 64 $s || same=0; n=$((n + 1))
  done
  drawn "$dir/sm_90-rows" 1 --temp 0.8 --top-k 40 --top-p 0.95 --seed 3 || same=0
  if [ $same = 1 ]; then echo "== $(basename "$dir"): the reference's ids ($n settings + lists of one)"; else echo "== $(basename "$dir"): ids DIFFER"; status=1; fi
done
adv="$DIR/topk-adversarial"; P="$PROMPT"
"$LLAMAC" compile "$adv/ckpt" -o "$adv/sm_90-top" --target sm_90 --ctx-size 64 --prefill-chunk 8 >/dev/null || status=1
same=1
for s in "--temp 0.8 --top-k 40 --top-p 0.95 --seed 3" "--temp 0.8 --top-k 0 --top-p 0.95 --seed 3" "--temp 1.1 --top-k 200 --top-p 0.9 --seed 4" "--temp 2 --top-k 0 --top-p 1 --seed 5"; do
  # shellcheck disable=SC2086
  drawn "$adv/sm_90-top" 64 $s || same=0
done
if [ $same = 1 ]; then echo "== topk-adversarial: the reference's ids (4 settings)"; else echo "== topk-adversarial: ids DIFFER"; status=1; fi
for s in "--temp 0.8 --top-k 0 --top-p 0.95 --seed 3" "--temp 1.1 --top-k 200 --top-p 0.9 --seed 4"; do
  for tool in memcheck racecheck; do
    # shellcheck disable=SC2086
    echo "   $tool $s: $(timeout 120 compute-sanitizer --tool $tool --print-limit 5 "$adv/sm_90-top" --tokens "$PROMPT" -n 2 $s 2>&1 | tail -1)"
  done
done
exit $status
