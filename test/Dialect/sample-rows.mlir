// llama.sample_rows, llama.sample's kernel op (each row's next token, drawn
// from its top list or its row): it prints and parses back on tensors and
// on buffers, and One-Shot Bufferize gives the buffer form (the logits,
// lists and settings read where they are, the tokens written into a new
// buffer).
// RUN: llamac-opt %s -split-input-file | llamac-opt -split-input-file | FileCheck %s --check-prefix=ROUNDTRIP
// RUN: llamac-opt %s -split-input-file --one-shot-bufferize="bufferize-function-boundaries" | FileCheck %s --check-prefix=BUFFERS

// ROUNDTRIP-LABEL: func.func @on_tensors
// ROUNDTRIP: %[[NEXT:.*]] = llama.sample_rows ins(%arg0, %arg1, %arg2, %arg3 : tensor<1x2x32xf32>, tensor<1x2x8xf32>, tensor<1x2x8xi32>, tensor<1x4xf64>) outs(%{{.*}} : tensor<1x2xi32>) -> tensor<1x2xi32>
// ROUNDTRIP: return %[[NEXT]]
// BUFFERS-LABEL: func.func @on_tensors
// BUFFERS-SAME: (%[[L:[^:]*]]: memref<1x2x32xf32, {{.*}}>, %[[V:[^:]*]]: memref<1x2x8xf32, {{.*}}>, %[[I:[^:]*]]: memref<1x2x8xi32, {{.*}}>, %[[S:[^:]*]]: memref<1x4xf64, {{.*}}>)
// BUFFERS: %[[NEXT:.*]] = memref.alloc() {{.*}}: memref<1x2xi32>
// BUFFERS-NOT: memref.copy
// BUFFERS: llama.sample_rows ins(%[[L]], %[[V]], %[[I]], %[[S]] : {{.*}}) outs(%[[NEXT]] : memref<1x2xi32>){{$}}
// BUFFERS: return %[[NEXT]]
func.func @on_tensors(%l: tensor<1x2x32xf32>, %v: tensor<1x2x8xf32>, %i: tensor<1x2x8xi32>, %s: tensor<1x4xf64>) -> tensor<1x2xi32> {
  %init = tensor.empty() : tensor<1x2xi32>
  %next = llama.sample_rows ins(%l, %v, %i, %s : tensor<1x2x32xf32>, tensor<1x2x8xf32>, tensor<1x2x8xi32>, tensor<1x4xf64>) outs(%init : tensor<1x2xi32>) -> tensor<1x2xi32>
  return %next : tensor<1x2xi32>
}

// -----

// ROUNDTRIP-LABEL: func.func @on_buffers
// ROUNDTRIP: llama.sample_rows ins(%arg0, %arg1, %arg2, %arg3 : memref<1x1x16xf32>, memref<1x1x4xf32>, memref<1x1x4xi32>, memref<1x4xf64>) outs(%arg4 : memref<1x1xi32>){{$}}
func.func @on_buffers(%l: memref<1x1x16xf32>, %v: memref<1x1x4xf32>, %i: memref<1x1x4xi32>, %s: memref<1x4xf64>, %next: memref<1x1xi32>) {
  llama.sample_rows ins(%l, %v, %i, %s : memref<1x1x16xf32>, memref<1x1x4xf32>, memref<1x1x4xi32>, memref<1x4xf64>) outs(%next : memref<1x1xi32>)
  return
}
