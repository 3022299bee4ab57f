// RUN: llamac-opt %s -split-input-file --llama-map-to-gpu --canonicalize --cse | FileCheck %s

// A block of 1,024 threads a row (two rows: two blocks). Each thread scans
// runs of 4 floats, 16-byte loads, four runs a trip (every 4,096th float)
// loaded before any is compared; a run past the end loads the last run and
// counts as -inf, as NaN does. A strictly greater value moves the index.
// Then (maximum, index) pairs are combined by xor-shuffles, the larger
// value winning and the lower index among equals, per warp, through shared
// memory, and again in warp 0, whose lane 0 stores the id.
// CHECK-LABEL: func.func @greedy
// CHECK:         gpu.launch blocks(%[[ROW:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c2, %{{.*}} = %c1, %{{.*}} = %c1) threads(%[[TID:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c1024, %{{.*}} = %c1, %{{.*}} = %c1) module(@greedy_op_argmax) function(@greedy_op_argmax) workgroup(%[[VALUES:.*]] : memref<32xf32, #gpu.address_space<workgroup>>, %[[IDS:.*]] : memref<32xi32, #gpu.address_space<workgroup>>)
// CHECK:           %[[FIRST:.*]] = arith.muli %[[TID]], %c4 : index
// CHECK:           scf.for %[[AT:.*]] = %[[FIRST]] to %c32000 step %c16384 iter_args(%{{.*}} = %cst, %{{.*}} = %{{.*}}) -> (f32, i32)
// CHECK-COUNT-4:     vector.load %arg0[%{{.*}}, %{{.*}}, %{{.*}}] {alignment = 16 : i64} : memref<1x2x32000xf32>, vector<4xf32>
// CHECK-NOT:         vector.load
// CHECK:             arith.cmpf ogt
// CHECK:             scf.yield
// CHECK:           gpu.shuffle  xor %{{.*}}, %c16_i32, %c32_i32 : f32
// CHECK:           gpu.shuffle  xor %{{.*}}, %c16_i32, %c32_i32 : i32
// CHECK:           arith.cmpf ogt
// CHECK:           arith.cmpf oeq
// CHECK:           arith.cmpi slt
// CHECK:           gpu.shuffle  xor %{{.*}}, %c1_i32, %c32_i32 : i32
// CHECK:           scf.if
// CHECK:             memref.store %{{.*}}, %[[VALUES]]
// CHECK:             memref.store %{{.*}}, %[[IDS]]
// CHECK:           gpu.barrier
// CHECK:           scf.if
// CHECK:             gpu.shuffle  xor
// CHECK:             scf.if
// CHECK:               memref.store %{{.*}}, %arg1[%{{.*}}, %{{.*}}] : memref<1x2xi32>
func.func @greedy(%logits: memref<1x2x32000xf32>, %ids: memref<1x2xi32>) {
  llama.argmax_rows ins(%logits : memref<1x2x32000xf32>) outs(%ids : memref<1x2xi32>)
  return
}

// -----

// A vocabulary that is no multiple of 4: single floats, still four a trip.
// CHECK-LABEL: func.func @odd
// CHECK:         scf.for %{{.*}} = %{{.*}} to %c1001 step %c4096
// CHECK-COUNT-4:   memref.load %arg0[%c0, %c0, %{{.*}}] : memref<1x1x1001xf32>
// CHECK-NOT:       vector.load
func.func @odd(%logits: memref<1x1x1001xf32>, %ids: memref<1x1xi32>) {
  llama.argmax_rows ins(%logits : memref<1x1x1001xf32>) outs(%ids : memref<1x1xi32>)
  return
}
