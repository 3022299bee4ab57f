// RUN: llamac-opt %s --llama-map-to-gpu --canonicalize --cse | FileCheck %s

// A warp a row (here 2 x 3 rows of lists of 64) with the running sums in
// shared memory. Lane l weighs element base + l (an element past n weighs
// 0); every lane adds the 32 weights in order, taking weight j from lane j
// by a shuffle (so the sums round as the runtime's sequential ones do), and
// keeps the sum at its own element. After a barrier, the nucleus' end and
// the draw are each a first index whose sum passes a bound: every lane
// scans its elements, a warp minimum (xor shuffles) gives the row's. Lane 0
// stores the id; greedy stores the first.
// CHECK-LABEL: func.func @draw
// CHECK:         gpu.launch blocks(%[[ROW:[^,]*]], {{.*}}) in (%{{.*}} = %c6, %{{.*}} = %c1, %{{.*}} = %c1) threads(%[[LANE:[^,]*]], {{.*}}) in (%{{.*}} = %c32, %{{.*}} = %c1, %{{.*}} = %c1) module(@draw_op_sample) function(@draw_op_sample) workgroup(%[[SUMS:.*]] : memref<64xf64, #gpu.address_space<workgroup>>)
// CHECK:           scf.if %{{.*}} {
// CHECK:             %[[N:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK:             scf.for %{{.*}} = %c0 to %[[N]] step %c32 iter_args(%{{.*}} = %{{.*}}) -> (f64) {
// CHECK:               math.exp %{{.*}} : f64
// CHECK:               arith.truncf %{{.*}} : f64 to f32
// CHECK-COUNT-32:      gpu.shuffle  idx %{{.*}} : f32
// CHECK-NOT:           gpu.shuffle
// CHECK:               arith.addf %{{.*}}, %{{.*}} : f64
// CHECK-NOT:           arith.addf
// CHECK:               scf.if
// CHECK-NEXT:            memref.store %{{.*}}, %[[SUMS]][%{{.*}}]
// CHECK:             gpu.barrier
// CHECK:             scf.for %{{.*}} = %[[LANE]] to %[[N]] step %c32
// CHECK:               memref.load %[[SUMS]]
// CHECK:               arith.cmpf oge
// CHECK-COUNT-5:     arith.minui
// CHECK:             scf.for %{{.*}} = %[[LANE]] to %{{.*}} step %c32
// CHECK:               arith.cmpf olt
// CHECK-COUNT-5:     arith.minui
// CHECK:             scf.if
// CHECK-NEXT:          memref.store %{{.*}}, %arg3[%{{.*}}, %{{.*}}] : memref<2x3xi32>
// CHECK:           } else {
// CHECK:             %[[FIRST:.*]] = memref.load %arg1[%{{.*}}, %{{.*}}, %c0] : memref<2x3x64xi32>
// CHECK:             scf.if
// CHECK-NEXT:          memref.store %[[FIRST]], %arg3[%{{.*}}, %{{.*}}] : memref<2x3xi32>
func.func @draw(%v: memref<2x3x64xf32>, %i: memref<2x3x64xi32>, %s: memref<2x4xf64>, %n: memref<2x3xi32>) {
  llama.sample_rows ins(%v, %i, %s : memref<2x3x64xf32>, memref<2x3x64xi32>, memref<2x4xf64>) outs(%n : memref<2x3xi32>)
  return
}
