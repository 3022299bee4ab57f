// RUN: llamac-opt %s -split-input-file --llama-map-to-gpu --canonicalize --cse | FileCheck %s

// k = 64 of a 128,256 vocabulary (Llama 3's), one block of 1,024 threads a
// row. First each thread's best element: it scans runs of 4 floats, 16-byte
// loads, four runs a trip (every 4,096th float) loaded before any is
// compared, NaN as -inf, a strictly greater value moving the index. Then a
// threshold: m = 64 / 32 warps = 2 rounds of xor-shuffle reductions (the
// larger value winning, the lower index among equals), each round's winner
// dropping out; lane 0 leaves its warp's second best in shared memory, and
// the worst of the 32 is the threshold. A second scan gathers every
// element not after it into shared memory (1,024 slots) through an atomic
// counter; each gathered one counts those before it and, where that rank
// is below 64, writes itself there. Where more than 1,024 were gathered,
// 64 rounds of a block-wide best below the last round's answer.
// CHECK-LABEL: func.func @sample
// CHECK:         gpu.launch blocks({{.*}}) in (%{{.*}} = %c1, %{{.*}} = %c1, %{{.*}} = %c1) threads(%[[TID:[^,]*]], {{.*}}) in (%{{.*}} = %c1024, %{{.*}} = %c1, %{{.*}} = %c1) module(@sample_op_top_k) function(@sample_op_top_k) workgroup(%[[WV:.*]] : memref<32xf32, #gpu.address_space<workgroup>>, %[[WI:.*]] : memref<32xi32, #gpu.address_space<workgroup>>, %[[COUNT:.*]] : memref<1xi32, #gpu.address_space<workgroup>>, %[[GV:.*]] : memref<1024xf32, #gpu.address_space<workgroup>>, %[[GI:.*]] : memref<1024xi32, #gpu.address_space<workgroup>>)
// CHECK:           scf.for %{{.*}} = %c0 to %c128256 step %c16384 iter_args(%{{.*}} = %cst{{.*}}, %{{.*}} = %{{.*}}) -> (f32, i32)
// CHECK-COUNT-4:     vector.load %arg0[%{{.*}}, %{{.*}}, %{{.*}}] {alignment = 16 : i64} : memref<1x1x128256xf32>, vector<4xf32>
// CHECK-NOT:         vector.load
// CHECK:             arith.cmpf ogt
// CHECK:             scf.yield
// CHECK-COUNT-2:   gpu.shuffle  xor %{{.*}}, %c16_i32, %c32_i32 : f32
// CHECK-NOT:       gpu.shuffle  xor %{{.*}}, %c16_i32, %c32_i32 : f32
// CHECK:           scf.if
// CHECK-NEXT:        memref.store %{{.*}}, %[[WV]]
// CHECK-NEXT:        memref.store %{{.*}}, %[[WI]]
// CHECK:           memref.store %c0_i32, %[[COUNT]][%c0]
// CHECK:           gpu.barrier
// CHECK:           scf.for %{{.*}} = %c0 to %c32 step %c1 iter_args
// CHECK:           scf.for %{{.*}} = %c0 to %c128256 step %c16384 {
// CHECK-COUNT-16:    memref.atomic_rmw addi %c1_i32, %[[COUNT]][%c0]
// CHECK:           gpu.barrier
// CHECK:           %[[GATHERED:.*]] = memref.load %[[COUNT]][%c0]
// CHECK:           scf.if
// CHECK:             memref.load %[[GV]][%[[TID]]]
// CHECK:             memref.load %[[GI]][%[[TID]]]
// CHECK:             %[[RANK:.*]] = scf.for {{.*}} -> (index)
// CHECK:             scf.if
// CHECK-NEXT:          memref.store %{{.*}}, %arg1[%c0, %c0, %[[RANK]]] : memref<1x1x64xf32>
// CHECK-NEXT:          memref.store %{{.*}}, %arg2[%c0, %c0, %[[RANK]]] : memref<1x1x64xi32>
// CHECK:           } else {
// CHECK:             scf.for %[[ROUND:.*]] = %c0 to %c64 step %c1 iter_args
// CHECK:               scf.for %{{.*}} = %c0 to %c128256 step %c16384
// CHECK:               gpu.barrier
// CHECK:               memref.store %{{.*}}, %arg1[%c0, %c0, %[[ROUND]]] : memref<1x1x64xf32>
// CHECK-NEXT:          memref.store %{{.*}}, %arg2[%c0, %c0, %[[ROUND]]] : memref<1x1x64xi32>
func.func @sample(%logits: memref<1x1x128256xf32>, %v: memref<1x1x64xf32>, %ids: memref<1x1x64xi32>) {
  llama.top_k_rows ins(%logits : memref<1x1x128256xf32>) outs(%v, %ids : memref<1x1x64xf32>, memref<1x1x64xi32>)
  return
}

// -----

// k = 1 (greedy only): the first scan and one block reduction; thread 0
// writes place 0. Two rows: two blocks.
// CHECK-LABEL: func.func @greedy
// CHECK:         gpu.launch blocks({{.*}}) in (%{{.*}} = %c2, %{{.*}} = %c1, %{{.*}} = %c1) threads({{.*}}) in (%{{.*}} = %c1024, %{{.*}} = %c1, %{{.*}} = %c1) module(@greedy_op_top_k) function(@greedy_op_top_k) workgroup(%{{.*}} : memref<32xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<32xi32, #gpu.address_space<workgroup>>) {
// CHECK-NOT:       atomic_rmw
// CHECK:           memref.store %{{.*}}, %arg1[%{{.*}}, %{{.*}}, %c0] : memref<1x2x1xf32>
// CHECK-NEXT:      memref.store %{{.*}}, %arg2[%{{.*}}, %{{.*}}, %c0] : memref<1x2x1xi32>
func.func @greedy(%logits: memref<1x2x32000xf32>, %v: memref<1x2x1xf32>, %ids: memref<1x2x1xi32>) {
  llama.top_k_rows ins(%logits : memref<1x2x32000xf32>) outs(%v, %ids : memref<1x2x1xf32>, memref<1x2x1xi32>)
  return
}

// -----

// A small vocabulary that is no multiple of 4: single floats, as many
// warps as have every thread an element (3), so k = 8 takes ceil(8 / 3) = 3
// rounds of the warps' reduction for the threshold, and 96 slots gather;
// the scan is one trip of four runs each (the loop folds away).
// CHECK-LABEL: func.func @small
// CHECK:         gpu.launch {{.*}} threads({{.*}}) in (%{{.*}} = %c96, %{{.*}} = %c1, %{{.*}} = %c1) {{.*}} workgroup({{.*}}, %{{.*}} : memref<96xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<96xi32, #gpu.address_space<workgroup>>)
// CHECK-COUNT-4:     memref.load %arg0[%c0, %c0, %{{.*}}] : memref<1x1x97xf32>
// CHECK-NOT:         vector.load
// CHECK-COUNT-3:   gpu.shuffle  xor %{{.*}}, %c16_i32, %c32_i32 : f32
// CHECK-NOT:       gpu.shuffle  xor %{{.*}}, %c16_i32, %c32_i32 : f32
// CHECK:           gpu.barrier
func.func @small(%logits: memref<1x1x97xf32>, %v: memref<1x1x8xf32>, %ids: memref<1x1x8xi32>) {
  llama.top_k_rows ins(%logits : memref<1x1x97xf32>) outs(%v, %ids : memref<1x1x8xf32>, memref<1x1x8xi32>)
  return
}
