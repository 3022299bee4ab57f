// llama.argmax_rows, greedy decoding's kernel op: it prints and parses back
// on tensors and on buffers, and One-Shot Bufferize makes the buffer form
// (the logits read where they are, the ids written into a new buffer).
// RUN: llamac-opt %s -split-input-file | llamac-opt -split-input-file | FileCheck %s --check-prefix=ROUNDTRIP
// RUN: llamac-opt %s -split-input-file --one-shot-bufferize="bufferize-function-boundaries" | FileCheck %s --check-prefix=BUFFERS

// ROUNDTRIP-LABEL: func.func @on_tensors
// ROUNDTRIP: %[[IDS:.*]] = llama.argmax_rows ins(%arg0 : tensor<1x2x64xf32>) outs(%{{.*}} : tensor<1x2xi32>) -> tensor<1x2xi32>
// ROUNDTRIP: return %[[IDS]]
// BUFFERS-LABEL: func.func @on_tensors
// BUFFERS-SAME: (%[[LOGITS:.*]]: memref<1x2x64xf32, strided<[?, ?, ?], offset: ?>>)
// BUFFERS: %[[OUT:.*]] = memref.alloc() {{.*}}: memref<1x2xi32>
// BUFFERS-NOT: memref.copy
// BUFFERS: llama.argmax_rows ins(%[[LOGITS]] : {{.*}}) outs(%[[OUT]] : memref<1x2xi32>){{$}}
// BUFFERS: return %[[OUT]]
func.func @on_tensors(%logits: tensor<1x2x64xf32>) -> tensor<1x2xi32> {
  %init = tensor.empty() : tensor<1x2xi32>
  %ids = llama.argmax_rows ins(%logits : tensor<1x2x64xf32>) outs(%init : tensor<1x2xi32>) -> tensor<1x2xi32>
  return %ids : tensor<1x2xi32>
}

// -----

// ROUNDTRIP-LABEL: func.func @on_buffers
// ROUNDTRIP: llama.argmax_rows ins(%arg0 : memref<2x1x10xf32>) outs(%arg1 : memref<2x1xi32>){{$}}
func.func @on_buffers(%logits: memref<2x1x10xf32>, %ids: memref<2x1xi32>) {
  llama.argmax_rows ins(%logits : memref<2x1x10xf32>) outs(%ids : memref<2x1xi32>)
  return
}
