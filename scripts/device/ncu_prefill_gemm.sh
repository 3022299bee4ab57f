#!/usr/bin/env bash
# On the device machine, with llamac bundled (scripts/device/bundle_llamac.sh):
# Nsight Compute's throughput, occupancy and warp-state sections for one
# prefill GEMM kernel (the merged gate+up projection of a one-layer
# Llama-3-8B-shaped bf16 checkpoint, a chunk of 128 tokens), to see what
# bounds the tensor-core kernel (docs/KERNEL_NOTES.md, session 6).
#   bash scripts/device/ncu_prefill_gemm.sh [KERNEL_REGEX]
set -euo pipefail
KERNEL="${1:-prefill_layers_0_mlp_gate_proj_up_proj_mma\$}"
source build-llamac-bundle/env.sh >/dev/null
python3 test/tools/make_checkpoint.py /tmp/l1/ckpt --hidden 4096 --intermediate 14336 --layers 1 \
  --heads 32 --kv-heads 8 --vocab 1024 --max-pos 4096 --dtype bf16 >/dev/null
llamac compile /tmp/l1/ckpt -o /tmp/l1/exe --target sm_90 --prefill-chunk 128 --ctx-size 512
IDS=$(python3 -c "print(','.join(str(i % 1000 + 1) for i in range(128)))")
ncu --section WarpStateStats --section ComputeWorkloadAnalysis --section MemoryWorkloadAnalysis \
  --section Occupancy --section SpeedOfLight -k "regex:$KERNEL" --launch-count 1 \
  /tmp/l1/exe --tokens "$IDS" -n 1 2>&1 |
  grep -E "Duration|Throughput|Warp Cycles|Issued|Occupancy|pipeline|Tensor|Hit Rate|Registers|Active Warps|Block Limit"
