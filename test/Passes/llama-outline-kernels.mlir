// RUN: llamac-opt %s -split-input-file --llama-outline-kernels | FileCheck %s

// Two ops computing the same thing on the same types share one kernel; the
// constant the body reads is cloned into it, other values from above (%s)
// become arguments. Entry points record their memref arguments.

#id = affine_map<(d0) -> (d0)>
// CHECK-LABEL: func.func @schedule
// CHECK-SAME: attributes {llama.entry_memrefs = [memref<8xf32>, memref<8xf32>, memref<8xf32>, f32]}
// CHECK-NEXT: arith.constant 2.0
// CHECK-NEXT: call @kernel_generic_0(%arg0, %arg1) : (memref<8xf32>, memref<8xf32>) -> ()
// CHECK-NEXT: call @kernel_generic_0(%arg1, %arg2) : (memref<8xf32>, memref<8xf32>) -> ()
// CHECK-NEXT: call @kernel_generic_1(%arg2, %arg0, %arg3) : (memref<8xf32>, memref<8xf32>, f32) -> ()
// CHECK-NOT: linalg.generic
// CHECK: return
// CHECK: func.func private @kernel_generic_0(%[[A:.*]]: memref<8xf32>, %[[B:.*]]: memref<8xf32>) attributes {llama.kernel}
// CHECK-NEXT: %[[TWO:.*]] = arith.constant 2.0
// CHECK-NEXT: linalg.generic {{.*}} ins(%[[A]] : memref<8xf32>) outs(%[[B]] : memref<8xf32>)
// CHECK: arith.mulf %{{.*}}, %[[TWO]]
// CHECK: func.func private @kernel_generic_1(%{{.*}}: memref<8xf32>, %{{.*}}: memref<8xf32>, %[[S:.*]]: f32) attributes {llama.kernel}
// CHECK: arith.addf %{{.*}}, %[[S]]
func.func @schedule(%a: memref<8xf32>, %b: memref<8xf32>, %c: memref<8xf32>, %s: f32) {
  %two = arith.constant 2.0 : f32
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%a : memref<8xf32>) outs(%b : memref<8xf32>) {
  ^bb0(%x: f32, %y: f32):
    %m = arith.mulf %x, %two : f32
    linalg.yield %m : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%b : memref<8xf32>) outs(%c : memref<8xf32>) {
  ^bb0(%x: f32, %y: f32):
    %m = arith.mulf %x, %two : f32
    linalg.yield %m : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%c : memref<8xf32>) outs(%a : memref<8xf32>) {
  ^bb0(%x: f32, %y: f32):
    %m = arith.addf %x, %s : f32
    linalg.yield %m : f32
  }
  return
}

// -----

// The same computation on other shapes is another kernel; ops on tensors
// (not yet bufferized) are left alone, and private functions record nothing.

#id2 = affine_map<(d0) -> (d0)>
// CHECK-LABEL: func.func private @helper
// CHECK-NOT: llama.entry_memrefs
// CHECK: call @kernel_fill_0({{.*}}) : (f32, memref<4xf32>) -> ()
// CHECK: call @kernel_fill_1({{.*}}) : (f32, memref<8xf32>) -> ()
// CHECK: linalg.fill {{.*}} -> tensor<4xf32>
func.func private @helper(%a: memref<4xf32>, %b: memref<8xf32>, %t: tensor<4xf32>) -> tensor<4xf32> {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%a : memref<4xf32>)
  linalg.fill ins(%zero : f32) outs(%b : memref<8xf32>)
  %r = linalg.fill ins(%zero : f32) outs(%t : tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}
