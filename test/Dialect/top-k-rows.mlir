// llama.top_k_rows, the top lists' kernel op: it prints and parses back on
// tensors and on buffers, and One-Shot Bufferize makes the buffer form (the
// logits read where they are, the two lists written into new buffers).
// RUN: llamac-opt %s -split-input-file | llamac-opt -split-input-file | FileCheck %s --check-prefix=ROUNDTRIP
// RUN: llamac-opt %s -split-input-file --one-shot-bufferize="bufferize-function-boundaries" | FileCheck %s --check-prefix=BUFFERS

// ROUNDTRIP-LABEL: func.func @on_tensors
// ROUNDTRIP: %[[TOP:.*]]:2 = llama.top_k_rows ins(%arg0 : tensor<1x2x64xf32>) outs(%{{.*}}, %{{.*}} : tensor<1x2x8xf32>, tensor<1x2x8xi32>) -> tensor<1x2x8xf32>, tensor<1x2x8xi32>
// ROUNDTRIP: return %[[TOP]]#0, %[[TOP]]#1
// BUFFERS-LABEL: func.func @on_tensors
// BUFFERS-SAME: (%[[LOGITS:.*]]: memref<1x2x64xf32, strided<[?, ?, ?], offset: ?>>)
// BUFFERS-DAG: %[[VALUES:.*]] = memref.alloc() {{.*}}: memref<1x2x8xf32>
// BUFFERS-DAG: %[[IDS:.*]] = memref.alloc() {{.*}}: memref<1x2x8xi32>
// BUFFERS-NOT: memref.copy
// BUFFERS: llama.top_k_rows ins(%[[LOGITS]] : {{.*}}) outs(%[[VALUES]], %[[IDS]] : memref<1x2x8xf32>, memref<1x2x8xi32>){{$}}
// BUFFERS: return %[[VALUES]], %[[IDS]]
func.func @on_tensors(%logits: tensor<1x2x64xf32>) -> (tensor<1x2x8xf32>, tensor<1x2x8xi32>) {
  %v = tensor.empty() : tensor<1x2x8xf32>
  %i = tensor.empty() : tensor<1x2x8xi32>
  %top:2 = llama.top_k_rows ins(%logits : tensor<1x2x64xf32>) outs(%v, %i : tensor<1x2x8xf32>, tensor<1x2x8xi32>) -> tensor<1x2x8xf32>, tensor<1x2x8xi32>
  return %top#0, %top#1 : tensor<1x2x8xf32>, tensor<1x2x8xi32>
}

// -----

// ROUNDTRIP-LABEL: func.func @on_buffers
// ROUNDTRIP: llama.top_k_rows ins(%arg0 : memref<2x1x10xf32>) outs(%arg1, %arg2 : memref<2x1x1xf32>, memref<2x1x1xi32>){{$}}
func.func @on_buffers(%logits: memref<2x1x10xf32>, %v: memref<2x1x1xf32>, %ids: memref<2x1x1xi32>) {
  llama.top_k_rows ins(%logits : memref<2x1x10xf32>) outs(%v, %ids : memref<2x1x1xf32>, memref<2x1x1xi32>)
  return
}
