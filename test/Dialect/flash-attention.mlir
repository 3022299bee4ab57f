// llama.flash_attention, the fused attention's kernel op: it prints and
// parses back on tensors and on buffers, and One-Shot Bufferize makes the
// buffer form in place of the tensor form (inputs read where they are, the
// result written into a new buffer: no copy of the empty init).
// RUN: llamac-opt %s -split-input-file | llamac-opt -split-input-file | FileCheck %s --check-prefix=ROUNDTRIP
// RUN: llamac-opt %s -split-input-file --one-shot-bufferize="bufferize-function-boundaries" | FileCheck %s --check-prefix=BUFFERS

// ROUNDTRIP-LABEL: func.func @on_tensors
// ROUNDTRIP: %[[O:.*]] = llama.flash_attention ins(%arg0, %arg1, %arg2 : tensor<1x8x16xf32>, tensor<2x?x16xf32>, tensor<2x?x16xf32>) outs(%{{.*}} : tensor<1x8x16xf32>) scale 2.500000e-01 -> tensor<1x8x16xf32>
// ROUNDTRIP: return %[[O]]
// BUFFERS-LABEL: func.func @on_tensors
// BUFFERS-SAME: (%[[Q:.*]]: memref<1x8x16xf32, strided<[?, ?, ?], offset: ?>>, %[[K:.*]]: memref<2x?x16xf32, strided<[?, ?, ?], offset: ?>>, %[[V:.*]]: memref<2x?x16xf32, strided<[?, ?, ?], offset: ?>>)
// BUFFERS: %[[OUT:.*]] = memref.alloc() {{.*}}: memref<1x8x16xf32>
// BUFFERS-NOT: memref.copy
// BUFFERS: llama.flash_attention ins(%[[Q]], %[[K]], %[[V]] : {{.*}}) outs(%[[OUT]] : memref<1x8x16xf32>) scale 2.500000e-01
// BUFFERS-NOT: ->
// BUFFERS: return %[[OUT]]
func.func @on_tensors(%q: tensor<1x8x16xf32>, %k: tensor<2x?x16xf32>, %v: tensor<2x?x16xf32>) -> tensor<1x8x16xf32> {
  %init = tensor.empty() : tensor<1x8x16xf32>
  %o = llama.flash_attention ins(%q, %k, %v : tensor<1x8x16xf32>, tensor<2x?x16xf32>, tensor<2x?x16xf32>) outs(%init : tensor<1x8x16xf32>) scale 0.25 -> tensor<1x8x16xf32>
  return %o : tensor<1x8x16xf32>
}

// -----

// ROUNDTRIP-LABEL: func.func @on_buffers
// ROUNDTRIP: llama.flash_attention ins(%arg0, %arg1, %arg2 : memref<4x2x8xf32>, memref<1x?x8xf32>, memref<1x?x8xf32>) outs(%arg3 : memref<4x2x8xf32>) scale 3.535530e-01{{$}}
func.func @on_buffers(%q: memref<4x2x8xf32>, %k: memref<1x?x8xf32>, %v: memref<1x?x8xf32>, %o: memref<4x2x8xf32>) {
  llama.flash_attention ins(%q, %k, %v : memref<4x2x8xf32>, memref<1x?x8xf32>, memref<1x?x8xf32>) outs(%o : memref<4x2x8xf32>) scale 0.353553
  return
}
