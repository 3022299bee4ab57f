// RUN: llamac-opt %s -split-input-file --llama-map-to-gpu --canonicalize --cse | FileCheck %s

// SwiGLU after the merged gate+up GEMV, as llama-to-linalg and bufferization
// leave it (loops (b, n, s, k), the output indexed (b, s, n)): the GEMV's
// 8,192 rows go to a temporary that only the activation reads, through two
// views (gate: rows 0..4095, up: rows 4096..8191). The activation computes
// them itself: a warp per output element (4,096 of them, 8 a block) reads
// gate row n and up row n + 4096 in one loop, both rows' first weights
// before the wait for the previous kernel, the activations (x) once for
// both, and lane 0 applies the body to the two sums. One launch; the
// temporary is never written.

#sx = affine_map<(b, n, s, k) -> (b, s, k)>
#sw = affine_map<(b, n, s, k) -> (n, k)>
#sy = affine_map<(b, n, s, k) -> (b, s, n)>
#se = affine_map<(b, s, n) -> (b, s, n)>
// CHECK-LABEL: func.func @swiglu
// CHECK-NOT: gpu.alloc
// CHECK: %[[W:.*]] = memref.view
// CHECK-NOT: gpu.alloc
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c512, {{.*}} threads({{.*}}) in (%{{.*}} = %c256, {{.*}} module(@swiglu_op_dot_map) function(@swiglu_op_dot_map)
// CHECK: %[[N:.*]] = arith.remui %{{.*}}, %c4096 : index
// CHECK: %[[UP:.*]] = arith.addi %[[N]], %c4096 : index
// CHECK: %[[K0:.*]] = arith.muli %{{.*}}, %c8 : index
// CHECK: vector.load %[[W]][%[[N]], %[[K0]]] {alignment = 16 : i64} : memref<8192x512xbf16>, vector<8xbf16>
// CHECK: %[[K1:.*]] = arith.addi %[[K0]], %c256 : index
// CHECK: vector.load %[[W]][%[[N]], %[[K1]]]
// CHECK: vector.load %[[W]][%[[UP]], %[[K0]]]
// CHECK: vector.load %[[W]][%[[UP]], %[[K1]]]
// CHECK-NEXT: llama.await_earlier_kernels
// CHECK-NEXT: vector.load %arg0[%c0, %c0, %[[K0]]]
// CHECK-NEXT: vector.load %arg0[%c0, %c0, %[[K1]]]
// CHECK-NOT: vector.load
// CHECK: %[[SUMS:.*]]:2 = scf.if %{{.*}} -> (f32, f32) {
// CHECK-COUNT-10: gpu.shuffle  xor
// CHECK: scf.if
// CHECK: %[[NEG:.*]] = arith.negf %[[SUMS]]#0 : f32
// CHECK: math.exp %[[NEG]]
// CHECK: %[[SILU:.*]] = arith.divf %[[SUMS]]#0
// CHECK: %[[PROD:.*]] = arith.mulf %[[SILU]], %[[SUMS]]#1 : f32
// CHECK: memref.store %[[PROD]], %arg1[%c0, %c0, %[[N]]] : memref<1x1x4096xf32>
// CHECK-NOT: gpu.launch
// CHECK-NOT: gpu.alloc
// CHECK: return
func.func @swiglu(%x: memref<1x1x512xf32>, %out: memref<1x1x4096xf32>, %blob: memref<8388608xi8> {llama.weights}) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %w = memref.view %blob[%c0][] : memref<8388608xi8> to memref<8192x512xbf16>
  %gu = memref.alloc() : memref<1x1x8192xf32>
  linalg.fill ins(%zero : f32) outs(%gu : memref<1x1x8192xf32>)
  linalg.generic {indexing_maps = [#sx, #sw, #sy], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %w : memref<1x1x512xf32>, memref<8192x512xbf16>) outs(%gu : memref<1x1x8192xf32>) {
  ^bb0(%a: f32, %b: bf16, %acc: f32):
    %e = arith.extf %b : bf16 to f32
    %m = arith.mulf %a, %e : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  %g = memref.subview %gu[0, 0, 0] [1, 1, 4096] [1, 1, 1] : memref<1x1x8192xf32> to memref<1x1x4096xf32, strided<[8192, 8192, 1]>>
  %u = memref.subview %gu[0, 0, 4096] [1, 1, 4096] [1, 1, 1] : memref<1x1x8192xf32> to memref<1x1x4096xf32, strided<[8192, 8192, 1], offset: 4096>>
  linalg.generic {indexing_maps = [#se, #se, #se], iterator_types = ["parallel", "parallel", "parallel"]} ins(%g, %u : memref<1x1x4096xf32, strided<[8192, 8192, 1]>>, memref<1x1x4096xf32, strided<[8192, 8192, 1], offset: 4096>>) outs(%out : memref<1x1x4096xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %n = arith.negf %a : f32
    %ex = math.exp %n : f32
    %d = arith.addf %one, %ex : f32
    %sg = arith.divf %a, %d : f32
    %p = arith.mulf %sg, %b : f32
    linalg.yield %p : f32
  }
  memref.dealloc %gu : memref<1x1x8192xf32>
  return
}

// -----

// Where a warp an element would leave the GPU short of warps (1,024
// elements, fewer than the 4,096 the GEMVs aim for), or where the
// activation writes what the GEMV reads (x: its warps would race), the
// GEMV keeps its own kernel and the activation reads the temporary.

#tx = affine_map<(b, n, s, k) -> (b, s, k)>
#tw = affine_map<(b, n, s, k) -> (n, k)>
#ty = affine_map<(b, n, s, k) -> (b, s, n)>
#te = affine_map<(b, s, n) -> (b, s, n)>
// CHECK-LABEL: func.func @swiglu_declined
// CHECK: gpu.launch {{.*}} module(@swiglu_declined_op_dot)
// CHECK: memref.store %{{.*}}, %{{.*}} : memref<1x1x2048xf32>
// CHECK: gpu.launch {{.*}} module(@swiglu_declined_op_map)
// CHECK: gpu.launch {{.*}} module(@swiglu_declined_op_dot_1)
// CHECK: memref.store %{{.*}}, %{{.*}} : memref<1x1x8192xf32>
// CHECK: gpu.launch {{.*}} module(@swiglu_declined_op_map_1)
// CHECK: memref.store %{{.*}}, %arg0
func.func @swiglu_declined(%x: memref<1x1x4096xf32>, %out: memref<1x1x1024xf32>, %w1: memref<2048x4096xbf16>, %w2: memref<8192x4096xbf16>) {
  %zero = arith.constant 0.0 : f32
  %gu = memref.alloc() : memref<1x1x2048xf32>
  linalg.fill ins(%zero : f32) outs(%gu : memref<1x1x2048xf32>)
  linalg.generic {indexing_maps = [#tx, #tw, #ty], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %w1 : memref<1x1x4096xf32>, memref<2048x4096xbf16>) outs(%gu : memref<1x1x2048xf32>) {
  ^bb0(%a: f32, %b: bf16, %acc: f32):
    %e = arith.extf %b : bf16 to f32
    %m = arith.mulf %a, %e : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  %g = memref.subview %gu[0, 0, 0] [1, 1, 1024] [1, 1, 1] : memref<1x1x2048xf32> to memref<1x1x1024xf32, strided<[2048, 2048, 1]>>
  %u = memref.subview %gu[0, 0, 1024] [1, 1, 1024] [1, 1, 1] : memref<1x1x2048xf32> to memref<1x1x1024xf32, strided<[2048, 2048, 1], offset: 1024>>
  linalg.generic {indexing_maps = [#te, #te, #te], iterator_types = ["parallel", "parallel", "parallel"]} ins(%g, %u : memref<1x1x1024xf32, strided<[2048, 2048, 1]>>, memref<1x1x1024xf32, strided<[2048, 2048, 1], offset: 1024>>) outs(%out : memref<1x1x1024xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %p = arith.mulf %a, %b : f32
    linalg.yield %p : f32
  }
  memref.dealloc %gu : memref<1x1x2048xf32>
  %gu2 = memref.alloc() : memref<1x1x8192xf32>
  linalg.fill ins(%zero : f32) outs(%gu2 : memref<1x1x8192xf32>)
  linalg.generic {indexing_maps = [#tx, #tw, #ty], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %w2 : memref<1x1x4096xf32>, memref<8192x4096xbf16>) outs(%gu2 : memref<1x1x8192xf32>) {
  ^bb0(%a: f32, %b: bf16, %acc: f32):
    %e = arith.extf %b : bf16 to f32
    %m = arith.mulf %a, %e : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  %g2 = memref.subview %gu2[0, 0, 0] [1, 1, 4096] [1, 1, 1] : memref<1x1x8192xf32> to memref<1x1x4096xf32, strided<[8192, 8192, 1]>>
  %u2 = memref.subview %gu2[0, 0, 4096] [1, 1, 4096] [1, 1, 1] : memref<1x1x8192xf32> to memref<1x1x4096xf32, strided<[8192, 8192, 1], offset: 4096>>
  linalg.generic {indexing_maps = [#te, #te, #te], iterator_types = ["parallel", "parallel", "parallel"]} ins(%g2, %u2 : memref<1x1x4096xf32, strided<[8192, 8192, 1]>>, memref<1x1x4096xf32, strided<[8192, 8192, 1], offset: 4096>>) outs(%x : memref<1x1x4096xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %p = arith.mulf %a, %b : f32
    linalg.yield %p : f32
  }
  memref.dealloc %gu2 : memref<1x1x8192xf32>
  return
}
