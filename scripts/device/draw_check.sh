# Sourced by cuda_check.sh and check_draws.sh (bash): the check that a
# GPU's draws are ModelABI.h's.
#
# build_reference_draw DIR: compiles reference-draw (reference_draw.h's
# draw over --logits-out rows, as the lit tests build it) into DIR and
# names it in REFERENCE_DRAW.
build_reference_draw() {
  REFERENCE_DRAW="$1/reference-draw"
  g++ -O2 -std=c++17 -Iruntime/include -Itest/Runtime/Inputs \
    test/Runtime/Inputs/reference_draw_tool.cpp -o "$REFERENCE_DRAW"
}
# drawn EXE LISTED SETTINGS...: whether the tokens EXE draws (prompt $P, 32
# tokens) are the reference's over the rows the same run writes, and
# whether decoding ahead draws the same as waiting for each call; a line
# says which failed.
drawn() {
  local exe="$1" listed="$2"; shift 2
  local from=$(( $(echo "$P" | tr ',' '\n' | wc -l) - 1 ))
  timeout 60 "$exe" --tokens "$P" -n 32 --ignore-eos "$@" --logits-out "$exe.draw.npy" > "$exe.draw.txt" 2>/dev/null || { echo "   $(basename "$exe") $*: exit $?"; return 1; }
  # Without --logits-out the runtime decodes ahead (each call's token read
  # on the device): the same tokens as waiting for each call. (Not compared
  # with the run above: without --logits-all, --logits-out takes the prompt
  # through decode calls, whose bf16 logits differ from prefill's.)
  timeout 60 "$exe" --tokens "$P" -n 32 --ignore-eos "$@" > "$exe.ahead.txt" 2>/dev/null || { echo "   $(basename "$exe") $* (ahead): exit $?"; return 1; }
  LLAMAC_DISABLE_DECODE_AHEAD=1 timeout 60 "$exe" --tokens "$P" -n 32 --ignore-eos "$@" > "$exe.waiting.txt" 2>/dev/null || { echo "   $(basename "$exe") $* (waiting): exit $?"; return 1; }
  diff -q "$exe.waiting.txt" "$exe.ahead.txt" >/dev/null || { echo "   $(basename "$exe") $*: decoding ahead gave other ids"; return 1; }
  "$REFERENCE_DRAW" "$exe.draw.npy" --from "$from" --count 32 --listed "$listed" "$@" > "$exe.draw.ref" || return 1
  diff -q "$exe.draw.txt" "$exe.draw.ref" >/dev/null || { echo "   $(basename "$exe") $*: differ from the reference"; return 1; }
}
