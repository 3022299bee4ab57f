#!/usr/bin/env bash
# On the device machine: the sm_90 executables built by
# prepare_cuda_check.sh against the host executables, the float64 numpy
# reference and Hugging Face transformers in float64 (greedy, 20 prompt
# tokens + 32 generated), then the runtime's
# errors without a GPU and on the wrong arch, then compute-sanitizer.
set -uo pipefail
DIR="${1:-build-device}"
export LD_LIBRARY_PATH="$PWD/$DIR/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
PROMPT="$(cat "$DIR/prompt.txt")"
status=0
# shellcheck source=scripts/device/draw_check.sh
source "$(dirname "$0")/draw_check.sh"
build_reference_draw "$DIR" || status=1
# One config's checks, printed to its own log; non-zero where one fails.
check_config() {
  local dir="$1" status=0
  local name; name="$(basename "$dir")"
  # A config may bring its own prompt (long-bf16: 150 tokens).
  P="$PROMPT"; [ -f "$dir/prompt.txt" ] && P="$(cat "$dir/prompt.txt")"
  # bf16 GEMM activations (bf16 models): the issue's bf16 bound, greedy ids
  # reported (a near tie may pick another id, after which the runs' rows
  # read different tokens: compared up to there; transformers below reads
  # the GPU's own tokens); f32 arithmetic: 1e-4 and identical greedy ids.
  TOL=1e-4; GREEDY=--greedy; NOGREEDY=
  if [ -f "$dir/max-rel-l2" ]; then TOL="$(cat "$dir/max-rel-l2")"; GREEDY=; NOGREEDY=--no-greedy; fi
  "$dir/host" --tokens "$P" -n 32 --temp 0 --logits-out "$dir/host.npy" > "$dir/host.txt" 2>/dev/null
  "$dir/sm_90" --tokens "$P" -n 32 --temp 0 --logits-out "$dir/gpu.npy" > "$dir/gpu.txt" 2> "$dir/gpu.err"
  rc=$?
  echo "== $name (exit $rc): $(tail -1 "$dir/gpu.err")"
  # (pipefail: a failed comparison fails the assignment, and the script.)
  ROWS=(); [ -z "$GREEDY" ] && ROWS=(--prompt-rows "$(echo "$P" | tr ',' '\n' | wc -l)")
  line="$(python3 "$DIR/compare_logits.py" "$dir/gpu.npy" "$dir/host.npy" --max-rel-l2 "$TOL" $GREEDY ${ROWS[@]+"${ROWS[@]}"} ${ROWS[@]+--until-divergence "$dir/gpu.txt" "$dir/host.txt"} 2>&1 | tail -1)" || status=1
  echo "   gpu vs host:         $line"
  line="$(python3 "$DIR/compare_logits.py" "$dir/gpu.npy" "$dir/ref.npy" --max-rel-l2 "$TOL" $GREEDY ${ROWS[@]+"${ROWS[@]}"} ${ROWS[@]+--until-divergence "$dir/gpu.txt" "$dir/ref.txt"} 2>&1 | tail -1)" || status=1
  echo "   gpu vs reference:    $line"
  if [ -d "$dir/ckpt" ]; then
    line="$(python3 "$DIR/compare_transformers.py" "$dir/ckpt" --prompt "$P" --generated "$dir/gpu.txt" --logits "$dir/gpu.npy" --max-rel-l2 "$TOL" $NOGREEDY 2>&1 | tail -1)" || status=1
    echo "   gpu vs transformers: $line"
  fi
  if diff -q "$dir/gpu.txt" "$dir/ref.txt" >/dev/null; then echo "   greedy ids: identical to the reference ($(wc -w < "$dir/gpu.txt") generated)"
  elif [ -z "$GREEDY" ]; then echo "   greedy ids: differ from the reference (bf16 GEMMs: reported, not required)"
  else echo "   greedy ids: DIFFER"; status=1; fi
  # Without --logits-out greedy takes the model's own argmax (one token id a
  # step off the GPU, no logits): the same tokens.
  "$dir/sm_90" --tokens "$P" -n 32 --temp 0 > "$dir/gpu-plain.txt" 2>/dev/null
  if diff -q "$dir/gpu.txt" "$dir/gpu-plain.txt" >/dev/null; then echo "   without --logits-out: the same ids"; else echo "   without --logits-out: ids DIFFER"; status=1; fi
  # The default executable (no --logits-all): the final norm and the lm_head
  # on each chunk's last real row only (a GEMV, not the GEMM): the same
  # greedy ids (f32 arithmetic; bf16: reported), and with sampling, which
  # reads that row's logits, the same ids for the same seed.
  "$dir/sm_90-last" --tokens "$P" -n 32 --temp 0 > "$dir/last.txt" 2>/dev/null
  "$dir/sm_90-last" --tokens "$P" -n 32 --temp 0.8 --seed 7 > "$dir/last-sampled.txt" 2>/dev/null
  "$dir/sm_90" --tokens "$P" -n 32 --temp 0.8 --seed 7 > "$dir/gpu-sampled.txt" 2>/dev/null
  if diff -q "$dir/gpu.txt" "$dir/last.txt" >/dev/null && diff -q "$dir/gpu-sampled.txt" "$dir/last-sampled.txt" >/dev/null; then echo "   last row's logits only: the same greedy and sampled ids"
  elif [ -z "$GREEDY" ]; then echo "   last row's logits only: ids differ (bf16 GEMMs: reported, not required)"
  else echo "   last row's logits only: ids DIFFER"; status=1; fi
  # Sampling drawn on the GPU, one token id a step off it: from the top
  # lists of 64 (sm_90-last, top-k <= 64; top-k 33: a warp's second round
  # of 32 weights holds one) and from the whole row (top-k off, or past the
  # list: sm_90-last with top-k 100 and 1000, sm_90-rows' lists of one with
  # top-k 40), each the reference's tokens over the run's own rows.
  same=1
  for s in "--temp 0.8 --top-k 40 --top-p 0.95 --seed 3" "--temp 1.5 --top-k 64 --top-p 1 --seed 4" "--temp 0.5 --top-k 2 --top-p 0.5 --seed 5" "--temp 1.2 --top-k 33 --top-p 0.99 --seed 6"; do
    # shellcheck disable=SC2086
    drawn "$dir/sm_90-last" 64 $s || same=0
  done
  if [ $same = 1 ]; then echo "   drawn on the GPU from the top lists: the reference's ids (4 settings)"; else echo "   drawn on the GPU from the top lists: ids DIFFER from the reference's"; status=1; fi
  same=1
  for s in "--temp 0.8 --top-k 0 --top-p 0.95 --seed 3" "--temp 1.3 --top-k 0 --top-p 1 --seed 4" "--temp 0.9 --top-k 100 --top-p 0.9 --seed 5" "--temp 0.5 --top-k 1000 --top-p 1 --seed 8"; do
    # shellcheck disable=SC2086
    drawn "$dir/sm_90-last" 64 $s || same=0
  done
  drawn "$dir/sm_90-rows" 1 --temp 0.8 --top-k 40 --top-p 0.95 --seed 3 || same=0
  if [ $same = 1 ]; then echo "   drawn on the GPU from the row: the reference's ids (5 settings)"; else echo "   drawn on the GPU from the row: ids DIFFER from the reference's"; status=1; fi
  # The calls replayed as CUDA graphs and launched one kernel at a time run
  # the same kernels: the same bits.
  LLAMAC_DISABLE_CUDA_GRAPHS=1 "$dir/sm_90" --tokens "$P" -n 32 --temp 0 --logits-out "$dir/gpu-eager.npy" > "$dir/gpu-eager.txt" 2>/dev/null
  if cmp -s "$dir/gpu.npy" "$dir/gpu-eager.npy" && diff -q "$dir/gpu.txt" "$dir/gpu-eager.txt" >/dev/null; then echo "   without CUDA graphs: identical logits and ids"; else echo "   without CUDA graphs: logits or ids DIFFER"; status=1; fi
  return $status
}
# The configs at once (each small; transformers' import dominates), their
# logs printed in order.
PIDS=()
for dir in "$DIR"/*/; do
  [ -x "$dir/sm_90" ] || continue
  check_config "$dir" > "$dir/check.log" 2>&1 &
  PIDS+=("$!:$dir")
done
for pid_dir in "${PIDS[@]}"; do
  wait "${pid_dir%%:*}" || status=1
  cat "${pid_dir#*:}/check.log"
done
echo "== prefill chunks of 16 and 24 (attention on the tensor cores), both prefill entries (64 and 128); bf16 models with f32 GEMM activations"
for exe in "$DIR"/*/sm_90-chunk* "$DIR"/*/sm_90-gemm-f32; do
  dir="$(dirname "$exe")"; variant="$(basename "$exe")"
  P="$PROMPT"; [ -f "$dir/prompt.txt" ] && P="$(cat "$dir/prompt.txt")"
  TOL=1e-4; GREEDY=--greedy
  if [ -f "$dir/max-rel-l2" ] && [ "$variant" != sm_90-gemm-f32 ]; then TOL="$(cat "$dir/max-rel-l2")"; GREEDY=; fi
  "$exe" --tokens "$P" -n 32 --temp 0 --logits-out "$dir/$variant.npy" > "$dir/$variant.txt" 2>/dev/null
  ROWS=(); [ -z "$GREEDY" ] && ROWS=(--prompt-rows "$(echo "$P" | tr ',' '\n' | wc -l)")
  line="$(python3 "$DIR/compare_logits.py" "$dir/$variant.npy" "$dir/ref.npy" --max-rel-l2 "$TOL" $GREEDY ${ROWS[@]+"${ROWS[@]}"} ${ROWS[@]+--until-divergence "$dir/$variant.txt" "$dir/ref.txt"} 2>&1 | tail -1)" || status=1
  echo "   $(basename "$dir") $variant vs reference: $line"
  if diff -q "$dir/$variant.txt" "$dir/ref.txt" >/dev/null; then echo "   greedy ids: identical"
  elif [ -z "$GREEDY" ]; then echo "   greedy ids: differ (bf16 GEMMs: reported, not required)"
  else echo "   greedy ids: DIFFER"; status=1; fi
done
echo "== top lists and draws on rows that defeat the threshold (topk-adversarial: ties, NaN, overflowing gathers)"
adv="$DIR/topk-adversarial"
P="$PROMPT"
"$adv/sm_90-top" --tokens "$P" -n 16 --ignore-eos --temp 0 > "$adv/top.txt" 2>/dev/null
"$adv/sm_90-rows" --tokens "$P" -n 16 --ignore-eos --temp 0 > "$adv/rows.txt" 2>/dev/null
if diff -q "$adv/top.txt" "$adv/rows.txt" >/dev/null; then echo "   greedy: the same ids from lists of 64 and of 1"; else echo "   greedy: ids DIFFER"; status=1; fi
same=1
for s in "--temp 0.8 --top-k 40 --top-p 0.95 --seed 3" "--temp 1.5 --top-k 64 --top-p 1 --seed 4" "--temp 0.8 --top-k 0 --top-p 0.95 --seed 3" "--temp 1.1 --top-k 200 --top-p 0.9 --seed 4"; do
  # shellcheck disable=SC2086
  drawn "$adv/sm_90-top" 64 $s || same=0
  echo "   $s: $(head -c 80 "$adv/sm_90-top.draw.txt")"
done
if [ $same = 1 ]; then echo "   the reference's ids (2 settings from the list, 2 from the row)"; else echo "   ids DIFFER from the reference's"; status=1; fi
echo "== compute-sanitizer (memcheck, racecheck), the top-list kernel's slow path and the draws"
for s in "--temp 0.8 --seed 3" "--temp 0.8 --top-k 0 --top-p 0.95 --seed 3" "--temp 1.1 --top-k 200 --top-p 0.9 --seed 4"; do
  # shellcheck disable=SC2086
  timeout 120 compute-sanitizer --tool memcheck --print-limit 5 "$adv/sm_90-top" --tokens "$PROMPT" -n 2 $s 2>&1 | tail -1
  # shellcheck disable=SC2086
  timeout 120 compute-sanitizer --tool racecheck --print-limit 5 "$adv/sm_90-top" --tokens "$PROMPT" -n 2 $s 2>&1 | tail -1
done
echo "== errors"
CUDA_VISIBLE_DEVICES= "$DIR/gqa/sm_90" --tokens 1,2 -n 1; echo "   exit $?"
"$DIR/sm_80" --tokens 1,2 -n 1; echo "   exit $?"
echo "== compute-sanitizer (memcheck), gqa"
compute-sanitizer --tool memcheck --print-limit 5 "$DIR/gqa/sm_90" --tokens "$PROMPT" -n 8 --temp 0 2>&1 | tail -4
echo "== compute-sanitizer (memcheck), gqa, last row's logits only"
compute-sanitizer --tool memcheck --print-limit 5 "$DIR/gqa/sm_90-last" --tokens "$PROMPT" -n 8 --temp 0 2>&1 | tail -4
echo "== compute-sanitizer (memcheck), gqa in chunks of 16"
compute-sanitizer --tool memcheck --print-limit 5 "$DIR/gqa/sm_90-chunk16" --tokens "$PROMPT" -n 8 --temp 0 2>&1 | tail -4
# Both prefill entries, the long one's gate+up GEMM with SwiGLU in its
# epilogue (long-bf16's halves are 768 columns).
echo "== compute-sanitizer (memcheck), long-bf16, prefill entries of 64 and 128"
compute-sanitizer --tool memcheck --print-limit 5 "$DIR/long-bf16/sm_90-chunk64-long128" --tokens "$(cat "$DIR/long-bf16/prompt.txt")" -n 4 --temp 0 2>&1 | tail -4
# The tensor-core GEMMs' shared-memory ring (three stages in long-bf16,
# four in wide-bf16's gate+up) and the argmax kernel's shared memory.
for name in long-bf16 wide-bf16; do
  for tool in racecheck synccheck; do
    echo "== compute-sanitizer ($tool), $name"
    compute-sanitizer --tool $tool --print-limit 5 "$DIR/$name/sm_90" --tokens "$(cat "$DIR/$name/prompt.txt")" -n 4 --temp 0 2>&1 | tail -1
  done
done
exit $status
