// RUN: llamac-opt %s --llama-map-to-gpu --canonicalize --cse | FileCheck %s

// A block a row (here 2 x 3 rows of 4,096 logits, lists of 64): 16 warps
// of 32, the list's running sums, a 1,024-bin histogram, the warps' or
// segments' partial sums and warp 0's findings in shared memory.
// CHECK-LABEL: func.func @draw
// CHECK:         gpu.launch blocks(%{{.*}}) in (%{{.*}} = %c6, %{{.*}} = %c1, %{{.*}} = %c1) threads(%[[TID:[^,]*]], {{.*}}) in (%{{.*}} = %c512, %{{.*}} = %c1, %{{.*}} = %c1) module(@draw_op_sample) function(@draw_op_sample) workgroup(%[[SUMS:.*]] : memref<64xf64, #gpu.address_space<workgroup>>, %[[HIST:.*]] : memref<1024xi64, #gpu.address_space<workgroup>>, %[[PARTIALS:.*]] : memref<16xi64, #gpu.address_space<workgroup>>, %[[FOUND:.*]] : memref<4xi64, #gpu.address_space<workgroup>>)
// CHECK:           %[[LANE:.*]] = arith.remui %[[TID]], %c32 : index
// CHECK:           %[[WARP:.*]] = arith.divui %[[TID]], %c32 : index

// Tempered with a finite maximum, top-k in [1, 64]: from the list. Every
// warp weighs 32 entries at once (lane l entry base + l; past n 0) and
// adds the 32 in order from shuffles (the sums round as a sequential sum
// does); warp 0 keeps each sum at its entry. After a barrier the nucleus'
// end and the draw are each a first index whose sum passes a bound (every
// lane scans its entries, a warp minimum); thread 0 stores the id.
// CHECK:           scf.if %{{.*}} {
// CHECK:             scf.if %{{.*}} {
// CHECK:               %[[N:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK:               scf.for %{{.*}} = %c0 to %[[N]] step %c32 iter_args(%{{.*}} = %{{.*}}) -> (f64) {
// CHECK:                 math.exp %{{.*}} : f64
// CHECK:                 arith.truncf %{{.*}} : f64 to f32
// CHECK-COUNT-32:        gpu.shuffle  idx %{{.*}} : f32
// CHECK:                 scf.if
// CHECK-NEXT:              memref.store %{{.*}}, %[[SUMS]][%{{.*}}]
// CHECK:               gpu.barrier
// CHECK:               scf.for %{{.*}} = %[[LANE]] to %[[N]] step %c32
// CHECK:                 memref.load %[[SUMS]]
// CHECK:                 arith.cmpf oge
// CHECK-COUNT-5:       arith.minui
// CHECK:               scf.for %{{.*}} = %[[LANE]] to %{{.*}} step %c32
// CHECK:                 arith.cmpf olt
// CHECK-COUNT-5:       arith.minui
// CHECK:               scf.if
// CHECK-NEXT:            memref.store %{{.*}}, %arg4[%{{.*}}, %{{.*}}] : memref<2x3xi32>

// Else from the row, in fixed point (weights in f32, masses times 2^50:
// 4,096 of them stay below 2^63). Top-k's count threshold where
// 64 < k < 4,096, then top-p's mass threshold: three passes each, a 10-bit
// digit of the weights' keys a pass (bits 20-29, 10-19, 0-9): the
// histogram zeroed, a barrier, the row read 4 floats at a time, each entry
// matching the digits found so far adding its count or mass to its bin
// (shared atomics), a barrier, then warp 0 (a lane 32 bins) sums from the
// top (shuffles down) and the lane where the sum reaches the target finds
// the digit; a barrier, and the block reads what it found.
// CHECK:             } else {
// CHECK:               %[[KAPPA:.*]] = scf.if %{{.*}} -> (i32) {
// CHECK:                 scf.for %{{.*}} = %[[TID]] to %c1024 step %c512 {
// CHECK-NEXT:              memref.store %c0_i64, %[[HIST]]
// CHECK:                 gpu.barrier
// CHECK:                 vector.load %arg0[{{.*}}] {alignment = 16 : i64} : memref<2x3x4096xf32>, vector<4xf32>
// CHECK:                 arith.shrui %{{.*}}, %c30_i32 : i32
// CHECK:                 memref.atomic_rmw addi %c1_i64, %[[HIST]]
// CHECK:                 gpu.barrier
// CHECK:                 scf.if
// CHECK-COUNT-5:           gpu.shuffle  down
// CHECK:                 gpu.barrier
// CHECK:                 arith.shrui %{{.*}}, %c20_i32 : i32
// CHECK:                 memref.atomic_rmw addi %c1_i64, %[[HIST]]
// CHECK:                 arith.shrui %{{.*}}, %c10_i32 : i32
// CHECK:                 memref.atomic_rmw addi %c1_i64, %[[HIST]]
// CHECK:                 memref.load %[[FOUND]][%c0]
// CHECK:               } else {
// CHECK-NEXT:            scf.yield %c0_i32 : i32
// CHECK:               %[[PI:.*]]:2 = scf.if %{{.*}} -> (i32, i64) {
// CHECK:                 arith.mulf %{{.*}}, %cst{{.*}} : f64
// CHECK:                 arith.fptoui %{{.*}} : f64 to i64
// CHECK:                 memref.atomic_rmw addi %{{.*}}, %[[HIST]]
// CHECK:               } else {

// The draw: each segment's mass (a warp's runs lie in one segment; a warp
// sum, lane 0 adds it), warp 0's prefix over the segments (shuffles up)
// finds the one holding r, and a block scan over that segment's runs finds
// the thread whose run holds the rest; it stores the id.
// CHECK:               arith.minui
// CHECK:               gpu.barrier
// CHECK:               memref.atomic_rmw addi %{{.*}}, %[[PARTIALS]]
// CHECK:               gpu.barrier
// CHECK:               scf.if
// CHECK-COUNT-5:         gpu.shuffle  up
// CHECK:               gpu.barrier
// CHECK-COUNT-5:       gpu.shuffle  up
// CHECK:               gpu.barrier
// CHECK:               scf.if
// CHECK:                 memref.store %{{.*}}, %arg4[%{{.*}}, %{{.*}}] : memref<2x3xi32>

// Greedy, or a maximum that is not finite: thread 0 stores the first id.
// CHECK:           } else {
// CHECK-NEXT:        arith.cmpi eq, %[[TID]], %c0 : index
// CHECK-NEXT:        scf.if
// CHECK-NEXT:          %[[FIRST:.*]] = memref.load %arg2[%{{.*}}, %{{.*}}, %c0] : memref<2x3x64xi32>
// CHECK-NEXT:          memref.store %[[FIRST]], %arg4[%{{.*}}, %{{.*}}] : memref<2x3xi32>
func.func @draw(%l: memref<2x3x4096xf32>, %v: memref<2x3x64xf32>, %i: memref<2x3x64xi32>, %s: memref<2x4xf64>, %n: memref<2x3xi32>) {
  llama.sample_rows ins(%l, %v, %i, %s : memref<2x3x4096xf32>, memref<2x3x64xf32>, memref<2x3x64xi32>, memref<2x4xf64>) outs(%n : memref<2x3xi32>)
  return
}
