// RUN: llamac-opt %s -split-input-file --llama-map-to-gpu | FileCheck %s

// A contraction: the thread dimensions are the loops that index the output
// (i, 8 of them: one block of 32 threads, the smallest warp multiple); the
// reduction (k) runs in each thread, accumulating into its own element.

#in = affine_map<(i, k) -> (i, k)>
#out = affine_map<(i, k) -> (i)>
// CHECK-LABEL: func.func @matvec
// CHECK-SAME: attributes {llama.entry_memrefs = [memref<8x16xf32>, memref<8xf32>]}
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C8:.*]] = arith.constant 8 : index
// CHECK-DAG: %[[C32:.*]] = arith.constant 32 : index
// CHECK: %[[GRID:.*]] = arith.ceildivui %{{.*}}, %[[C32]]
// CHECK: gpu.launch blocks(%[[BX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[GRID]], %{{.*}} = %[[C1]], %{{.*}} = %[[C1]]) threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C32]], %{{.*}} = %[[C1]], %{{.*}} = %[[C1]])
// CHECK: %[[FLAT:.*]] = arith.addi %{{.*}}, %[[TX]]
// CHECK: %[[IN:.*]] = arith.cmpi ult, %[[FLAT]], %{{.*}}
// CHECK: scf.if %[[IN]] {
// CHECK: %[[I:.*]] = arith.remui %[[FLAT]], %[[C8]]
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %[[C1]] {
// CHECK-DAG: memref.load %arg0[%{{.*}}, %{{.*}}] : memref<8x16xf32>
// CHECK-DAG: memref.load %arg1[%{{.*}}] : memref<8xf32>
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: memref.store %{{.*}}, %arg1[%{{.*}}] : memref<8xf32>
// CHECK: gpu.terminator
// CHECK-NOT: linalg.generic
func.func @matvec(%w: memref<8x16xf32>, %y: memref<8xf32>) {
  linalg.generic {indexing_maps = [#in, #out], iterator_types = ["parallel", "reduction"]} ins(%w : memref<8x16xf32>) outs(%y : memref<8xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %p = arith.mulf %a, %a : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// The entry point's temporaries become device memory (gpu-to-llvm lowers
// the async forms), a copy becomes a kernel, a size known at run time sizes
// the grid at run time, and a constant global the kernel reads moves into
// the launch.

memref.global "private" constant @table : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]>
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @temporaries
// CHECK: %[[T0:.*]] = gpu.wait async
// CHECK: %[[TMP:.*]], %[[T1:.*]] = gpu.alloc async [%[[T0]]] (%arg1) : memref<?x4xf32>
// CHECK: gpu.wait [%[[T1]]]
// CHECK: %[[TOTAL:.*]] = arith.muli %arg1, %{{.*}} : index
// CHECK: %[[GRID:.*]] = arith.ceildivui %[[TOTAL]], %{{.*}}
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %[[GRID]],
// CHECK: memref.get_global @table : memref<4xf32>
// CHECK: gpu.terminator
// CHECK: gpu.launch
// CHECK: memref.load %[[TMP]]
// CHECK: memref.store %{{.*}}, %arg0
// CHECK: gpu.terminator
// CHECK: %[[T2:.*]] = gpu.wait async
// CHECK: %[[T3:.*]] = gpu.dealloc async [%[[T2]]] %[[TMP]] : memref<?x4xf32>
// CHECK: gpu.wait [%[[T3]]]
// CHECK-NOT: memref.alloc
// CHECK-NOT: memref.copy
// CHECK-NOT: memref.dealloc
func.func @temporaries(%out: memref<?x4xf32>, %n: index) {
  %table = memref.get_global @table : memref<4xf32>
  %tmp = memref.alloc(%n) : memref<?x4xf32>
  linalg.generic {indexing_maps = [#row, #id], iterator_types = ["parallel", "parallel"]} ins(%table : memref<4xf32>) outs(%tmp : memref<?x4xf32>) {
  ^bb0(%t: f32, %o: f32):
    linalg.yield %t : f32
  }
  memref.copy %tmp, %out : memref<?x4xf32> to memref<?x4xf32>
  memref.dealloc %tmp : memref<?x4xf32>
  return
}

// -----

// A reduction of 32 elements or more whose body is `out + x` (or a max):
// a warp per output element, or, where there are too few outputs to fill
// the GPU, several warps of one block per output (split-k). Here 4 outputs
// of 60 elements: 2 warps each (two lane strides of 32), 8 warps, one block.
// Each lane folds every 64th k from lane + 32 * part in a register, the
// lanes combine by xor-shuffles; a warp past the outputs yields 0 (it still
// meets the barrier). Lane 0 of each warp leaves its sum in shared memory;
// after the barrier, lane 0 of the first warp of each output adds the next
// warp's sum to its own (in order: the same result every run) and adds the
// total to the output. (60 elements a row: rows not aligned for the vector
// loads below.)

#in = affine_map<(i, k) -> (i, k)>
#vec = affine_map<(i, k) -> (k)>
#out = affine_map<(i, k) -> (i)>
// CHECK-LABEL: func.func @gemv
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C8:.*]] = arith.constant 8 : index
// CHECK-DAG: %[[C256:.*]] = arith.constant 256 : index
// CHECK: %[[GRID:.*]] = arith.ceildivui %[[C8]], %{{.*}}
// Kernels are named after the entry point, the model op's NameLoc (none
// here) and the kernel's form.
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %[[GRID]], {{.*}}) threads({{.*}}) in (%{{.*}} = %[[C256]], {{.*}}) module(@gemv_op_reduce) function(@gemv_op_reduce) workgroup(%[[SUMS:.*]] : memref<8xf32, #gpu.address_space<workgroup>>)
// CHECK: %[[LANE:.*]] = arith.remui %{{.*}}, %[[C32:.*]] : index
// CHECK: %[[WARP:.*]] = arith.divui %{{.*}}, %[[C32]] : index
// CHECK: %[[FLAT:.*]] = arith.addi
// CHECK: %[[IN:.*]] = arith.cmpi ult, %[[FLAT]], %[[C8]] : index
// A warp past the outputs works as the last warp (its sum is not stored).
// CHECK: %[[SAFE:.*]] = arith.minui %[[FLAT]], %{{.*}} : index
// CHECK: %[[PART:.*]] = arith.remui %[[SAFE]], %[[C2:.*]] : index
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[SUM:.*]] = scf.if %[[IN]] -> (f32) {
// CHECK: %[[SKIP:.*]] = arith.muli %[[PART]], %{{.*}} : index
// CHECK: %[[START:.*]] = arith.addi %[[LANE]], %[[SKIP]] : index
// CHECK: %[[PARTIAL:.*]] = scf.for %[[K:.*]] = %[[START]] to %{{.*}} step %c64 iter_args(%[[ACC:.*]] = %[[ZERO]]) -> (f32) {
// CHECK: memref.load %arg0
// CHECK: memref.load %arg1
// CHECK: %[[X:.*]] = arith.mulf
// CHECK: %[[NEXT:.*]] = arith.addf %[[ACC]], %[[X]]
// CHECK: scf.yield %[[NEXT]] : f32
// CHECK: gpu.shuffle  xor %[[PARTIAL]], %c16_i32, %c32_i32{{.*}} : f32
// CHECK: gpu.shuffle  xor %{{.*}}, %c8_i32, %c32_i32{{.*}} : f32
// CHECK: gpu.shuffle  xor %{{.*}}, %c4_i32, %c32_i32{{.*}} : f32
// CHECK: gpu.shuffle  xor %{{.*}}, %c2_i32, %c32_i32{{.*}} : f32
// CHECK: gpu.shuffle  xor %{{.*}}, %c1_i32, %c32_i32{{.*}} : f32
// CHECK: } else {
// CHECK-NEXT: scf.yield %[[ZERO]] : f32
// CHECK: %[[FIRST:.*]] = arith.cmpi eq, %[[LANE]], %{{.*}}
// CHECK: scf.if %[[FIRST]] {
// CHECK-NEXT: memref.store %[[SUM]], %[[SUMS]][%[[WARP]]]
// CHECK: gpu.barrier
// CHECK: %[[TOTAL:.*]] = scf.if %{{.*}} -> (f32) {
// CHECK: %[[NEXTWARP:.*]] = arith.addi %[[WARP]], %{{.*}} : index
// CHECK: %[[OTHER:.*]] = memref.load %[[SUMS]][%[[NEXTWARP]]]
// CHECK: arith.addf %[[SUM]], %[[OTHER]] : f32
// CHECK: scf.if
// CHECK: %[[OLD:.*]] = memref.load %arg2
// CHECK: %[[NEW:.*]] = arith.addf %[[OLD]], %[[TOTAL]]
// CHECK: memref.store %[[NEW]], %arg2
// CHECK-NOT: memref.atomic_rmw
func.func @gemv(%w: memref<4x60xf32>, %x: memref<60xf32>, %y: memref<4xf32>) {
  linalg.generic {indexing_maps = [#in, #vec, #out], iterator_types = ["parallel", "reduction"]} ins(%w, %x : memref<4x60xf32>, memref<60xf32>) outs(%y : memref<4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// The same with bf16 weight rows (contiguous, 8-aligned) and 8192 outputs
// (enough warps to fill the GPU): each lane loads 8 consecutive elements of
// the row (16 bytes) and of x (32 bytes) per trip, at k = trip * 256 +
// lane * 8, into a vector<8xf32> accumulator; two trips of 256 cover the
// 512 elements, no guard, and one iteration takes both (unrolled): the
// loads of both trips come before the first FMA. One horizontal sum per
// lane, then the shuffles, and lane 0 adds to the output.

#w3 = affine_map<(i, k) -> (i, k)>
#x3 = affine_map<(i, k) -> (k)>
#y3 = affine_map<(i, k) -> (i)>
// CHECK-LABEL: func.func @gemv_bf16
// The importer's op name, "model." dropped, dots made underscores:
// CHECK: gpu.launch {{.*}} module(@gemv_bf16_layers_3_mlp_down_proj_dot) function(@gemv_bf16_layers_3_mlp_down_proj_dot)
// CHECK-NOT: workgroup
// CHECK: %[[LANE:.*]] = arith.remui %{{.*}}, %{{.*}} : index
// CHECK: arith.minui
// CHECK: %[[FIRST:.*]] = arith.addi %{{.*}}, %{{.*}} : index
// CHECK: %[[ZERO:.*]] = arith.constant dense<0.000000e+00> : vector<8xf32>
// Not the weights blob (an argument llama-to-linalg marks): no loads before
// a llama.await_earlier_kernels (see @gemv_early_weights).
// CHECK-NOT: llama.await_earlier_kernels
// CHECK: scf.if
// CHECK: %[[TRIPS:.*]] = arith.constant 2 : index
// CHECK: %[[UNROLL:.*]] = arith.constant 2 : index
// CHECK: %[[ACC:.*]] = scf.for %[[T:.*]] = %{{.*}} to %[[TRIPS]] step %[[UNROLL]] iter_args(%[[A:.*]] = %[[ZERO]]) -> (vector<8xf32>) {
// CHECK: %[[K0:.*]] = arith.addi %{{.*}}, %[[FIRST]] : index
// CHECK-NOT: scf.if
// CHECK: %[[W0:.*]] = vector.load %arg0[%{{.*}}, %{{.*}}] {alignment = 16 : i64} : memref<8192x512xbf16>, vector<8xbf16>
// CHECK: %[[X0:.*]] = vector.load %arg1[%{{.*}}] {alignment = 32 : i64} : memref<512xf32>, vector<8xf32>
// CHECK-NOT: vector.fma
// CHECK: %[[K1:.*]] = arith.addi %{{.*}}, %[[FIRST]] : index
// CHECK: %[[W1:.*]] = vector.load %arg0[%{{.*}}, %{{.*}}] {alignment = 16 : i64} : memref<8192x512xbf16>, vector<8xbf16>
// CHECK: %[[X1:.*]] = vector.load %arg1[%{{.*}}] {alignment = 32 : i64} : memref<512xf32>, vector<8xf32>
// CHECK: %[[WF0:.*]] = arith.extf %[[W0]] : vector<8xbf16> to vector<8xf32>
// CHECK: %[[F0:.*]] = vector.fma %[[WF0]], %[[X0]], %[[A]] : vector<8xf32>
// CHECK: %[[WF1:.*]] = arith.extf %[[W1]] : vector<8xbf16> to vector<8xf32>
// CHECK: %[[F1:.*]] = vector.fma %[[WF1]], %[[X1]], %[[F0]] : vector<8xf32>
// CHECK: scf.yield %[[F1]] : vector<8xf32>
// CHECK: %[[SUM:.*]] = vector.reduction <add>, %[[ACC]] fastmath<reassoc,contract> : vector<8xf32> into f32
// CHECK: gpu.shuffle  xor %[[SUM]], %c16_i32, %c32_i32{{.*}} : f32
// CHECK-NOT: gpu.barrier
// CHECK: %[[OLD:.*]] = memref.load %arg2
// CHECK: memref.store %{{.*}}, %arg2
func.func @gemv_bf16(%w: memref<8192x512xbf16>, %x: memref<512xf32>, %y: memref<8192xf32>) {
  linalg.generic {indexing_maps = [#w3, #x3, #y3], iterator_types = ["parallel", "reduction"]} ins(%w, %x : memref<8192x512xbf16>, memref<512xf32>) outs(%y : memref<8192xf32>) {
  ^bb0(%a: bf16, %b: f32, %acc: f32):
    %e = arith.extf %a : bf16 to f32
    %p = arith.mulf %e, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } loc("model.layers.3.mlp.down_proj")
  return
}

// -----

// The same where the weight rows view the weights blob (the argument
// llama-to-linalg marks {llama.weights}: no kernel of the call writes it):
// the first iteration's weights (4 trips of 2,048 / 256 = 8) are loaded
// before llama.await_earlier_kernels, where llama-overlap-launches puts the
// wait for the kernel before on sm_90, so that they overlap its end; x's
// loads and the first FMAs follow the marker at the top level (indices of
// a warp past the outputs clamped to the last), and the loop takes the
// remaining trips from 4.

#w5 = affine_map<(i, k) -> (i, k)>
#x5 = affine_map<(i, k) -> (k)>
#y5 = affine_map<(i, k) -> (i)>
// CHECK-LABEL: func.func @gemv_early_weights
// CHECK: %[[W:.*]] = memref.view
// CHECK: gpu.launch
// CHECK: %[[W0:.*]] = vector.load %[[W]][%{{.*}}, %{{.*}}] {alignment = 16 : i64} : memref<8192x2048xbf16>, vector<8xbf16>
// CHECK: %[[W1:.*]] = vector.load %[[W]]
// CHECK: %[[W2:.*]] = vector.load %[[W]]
// CHECK: %[[W3:.*]] = vector.load %[[W]]
// CHECK-NOT: vector.load
// CHECK: llama.await_earlier_kernels
// CHECK: %[[X0:.*]] = vector.load %arg0[%{{.*}}] {alignment = 32 : i64} : memref<2048xf32>, vector<8xf32>
// CHECK-COUNT-3: vector.load %arg0
// CHECK: %[[WF0:.*]] = arith.extf %[[W0]] : vector<8xbf16> to vector<8xf32>
// CHECK: %[[F0:.*]] = vector.fma %[[WF0]], %[[X0]], %{{.*}} : vector<8xf32>
// CHECK-COUNT-3: vector.fma
// CHECK: scf.if
// CHECK: %[[FROM:.*]] = arith.constant 4 : index
// CHECK: %[[TRIPS:.*]] = arith.constant 8 : index
// CHECK: %[[STEP:.*]] = arith.constant 4 : index
// CHECK: scf.for %{{.*}} = %[[FROM]] to %[[TRIPS]] step %[[STEP]]
// CHECK-COUNT-4: vector.load %[[W]]
// CHECK-NOT: llama.await_earlier_kernels
// CHECK: gpu.terminator
func.func @gemv_early_weights(%x: memref<2048xf32>, %y: memref<8192xf32>, %blob: memref<33554432xi8> {llama.weights}) {
  %c0 = arith.constant 0 : index
  %w = memref.view %blob[%c0][] : memref<33554432xi8> to memref<8192x2048xbf16>
  linalg.generic {indexing_maps = [#w5, #x5, #y5], iterator_types = ["parallel", "reduction"]} ins(%w, %x : memref<8192x2048xbf16>, memref<2048xf32>) outs(%y : memref<8192xf32>) {
  ^bb0(%a: bf16, %b: f32, %acc: f32):
    %e = arith.extf %a : bf16 to f32
    %p = arith.mulf %e, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Split-k with vector loads: 6 outputs would be 6 warps, so each output's
// 520 elements (3 trips of 256) go to 2 warps (a power of two no larger
// than the trips), 2 trips each (k = (part * 2 + trip) * 256 + lane * 8),
// guarded (520 < 4 * 256); 12 warps in 2 blocks, whose sums meet in shared
// memory as above.

#w4 = affine_map<(i, k) -> (i, k)>
#x4 = affine_map<(i, k) -> (k)>
#y4 = affine_map<(i, k) -> (i)>
// CHECK-LABEL: func.func @gemv_split
// CHECK: %[[GRID:.*]] = arith.ceildivui %c12, %c8{{.*}} : index
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %[[GRID]], {{.*}} workgroup(%[[SUMS:.*]] : memref<8xf32, #gpu.address_space<workgroup>>)
// CHECK: %[[LANE:.*]] = arith.remui %{{.*}}, %{{.*}} : index
// CHECK: %[[FLAT:.*]] = arith.addi
// CHECK: %[[SAFE:.*]] = arith.minui %[[FLAT]], %{{.*}} : index
// CHECK: %[[C2:.*]] = arith.constant 2 : index
// CHECK: %[[PART:.*]] = arith.remui %[[SAFE]], %[[C2]] : index
// CHECK: %[[OUT:.*]] = arith.divui %[[SAFE]], %[[C2]] : index
// CHECK: %[[ROW:.*]] = arith.remui %[[OUT]], %c6 : index
// CHECK: arith.muli %[[PART]], %c512 : index
// CHECK: scf.for {{.*}} -> (vector<8xf32>) {
// CHECK: arith.cmpi ult, %{{.*}}, %{{.*}} : index
// CHECK: scf.if %{{.*}} -> (vector<8xbf16>) {
// CHECK: vector.load %arg0[%{{.*}}, %{{.*}}] {alignment = 16 : i64} : memref<6x520xbf16>, vector<8xbf16>
// Past the end: zeros, which add nothing.
// CHECK: } else {
// CHECK: scf.yield %{{.*}} : vector<8xbf16>
// CHECK: scf.if %{{.*}} -> (vector<8xf32>) {
// CHECK: vector.load %arg1[%{{.*}}] {alignment = 32 : i64} : memref<520xf32>, vector<8xf32>
// CHECK: vector.fma
// CHECK: vector.reduction <add>
// CHECK: gpu.shuffle  xor
// CHECK: memref.store %{{.*}}, %[[SUMS]]
// CHECK: gpu.barrier
// CHECK: memref.load %[[SUMS]]
// CHECK: memref.load %arg2
// CHECK: memref.store %{{.*}}, %arg2
// CHECK-NOT: memref.atomic_rmw
func.func @gemv_split(%w: memref<6x520xbf16>, %x: memref<520xf32>, %y: memref<6xf32>) {
  linalg.generic {indexing_maps = [#w4, #x4, #y4], iterator_types = ["parallel", "reduction"]} ins(%w, %x : memref<6x520xbf16>, memref<520xf32>) outs(%y : memref<6xf32>) {
  ^bb0(%a: bf16, %b: f32, %acc: f32):
    %e = arith.extf %a : bf16 to f32
    %p = arith.mulf %e, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A max over the keys (the softmax's), whose count is known only at run
// time: a warp per row, starting from -inf, combined with maximumf.

#in2 = affine_map<(i, k) -> (i, k)>
#out2 = affine_map<(i, k) -> (i)>
// CHECK-LABEL: func.func @rowmax
// CHECK: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: scf.for {{.*}} iter_args(%[[ACC:.*]] = %[[NEGINF]]) -> (f32) {
// CHECK: arith.maximumf %[[ACC]],
// CHECK: gpu.shuffle  xor
// CHECK: arith.maximumf
func.func @rowmax(%s: memref<4x?xf32>, %m: memref<4xf32>) {
  linalg.generic {indexing_maps = [#in2, #out2], iterator_types = ["parallel", "reduction"]} ins(%s : memref<4x?xf32>) outs(%m : memref<4xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.maximumf %acc, %a : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// Bufferization's shared fills: one buffer filled with -inf, copied into a
// fresh buffer for each reduction that starts from it. The copy becomes a
// fill of its target, the shared buffer goes, and the fill right before a
// warp reduction (unsplit) that writes every output goes too: the reduction
// stores its result instead of combining it with the -inf it would load.
// One launch is left, of the reduction; nothing loads the output.

#rows5 = affine_map<(i, k) -> (i, k)>
#row5 = affine_map<(i, k) -> (i)>
// CHECK-LABEL: func.func @shared_fill
// CHECK-NOT: linalg.fill
// CHECK-NOT: gpu.alloc async {{.*}} : memref<4xf32>
// CHECK: %[[ACC:.*]], %{{.*}} = gpu.alloc async {{.*}} : memref<4xf32>
// CHECK-NOT: gpu.alloc
// CHECK: gpu.launch {{.*}} module(@shared_fill_op_reduce)
// CHECK: gpu.shuffle  xor
// CHECK-NOT: memref.load %[[ACC]]
// CHECK: memref.store %{{.*}}, %[[ACC]]
// CHECK: gpu.terminator
// CHECK: gpu.launch {{.*}} module(@shared_fill_op_copy)
// CHECK-NOT: gpu.launch
func.func @shared_fill(%x: memref<4x64xf32>, %y: memref<4xf32>) {
  %ninf = arith.constant 0xFF800000 : f32
  %shared = memref.alloc() : memref<4xf32>
  linalg.fill ins(%ninf : f32) outs(%shared : memref<4xf32>)
  %acc = memref.alloc() : memref<4xf32>
  memref.copy %shared, %acc : memref<4xf32> to memref<4xf32>
  linalg.generic {indexing_maps = [#rows5, #row5], iterator_types = ["parallel", "reduction"]} ins(%x : memref<4x64xf32>) outs(%acc : memref<4xf32>) {
  ^bb0(%a: f32, %m: f32):
    %n = arith.maximumf %m, %a : f32
    linalg.yield %n : f32
  }
  memref.copy %acc, %y : memref<4xf32> to memref<4xf32>
  memref.dealloc %acc : memref<4xf32>
  memref.dealloc %shared : memref<4xf32>
  return
}

// -----

// A split reduction's warps meet in shared memory, not in the output: its
// fill of zeros goes too, and the first warp of each output stores.

#w6 = affine_map<(i, k) -> (i, k)>
#x6 = affine_map<(i, k) -> (k)>
#y6 = affine_map<(i, k) -> (i)>
// CHECK-LABEL: func.func @split_drops_fill
// CHECK: %[[ACC:.*]], %{{.*}} = gpu.alloc async {{.*}} : memref<6xf32>
// CHECK-NOT: gpu.alloc
// CHECK-NOT: fill
// CHECK: gpu.launch {{.*}} module(@split_drops_fill_op_dot)
// CHECK: gpu.barrier
// CHECK-NOT: memref.load %[[ACC]]
// CHECK: memref.store %{{.*}}, %[[ACC]]
// CHECK: gpu.terminator
// CHECK: gpu.launch {{.*}} module(@split_drops_fill_op_copy)
func.func @split_drops_fill(%w: memref<6x520xbf16>, %x: memref<520xf32>, %y: memref<6xf32>) {
  %zero = arith.constant 0.0 : f32
  %shared = memref.alloc() : memref<6xf32>
  linalg.fill ins(%zero : f32) outs(%shared : memref<6xf32>)
  %acc = memref.alloc() : memref<6xf32>
  memref.copy %shared, %acc : memref<6xf32> to memref<6xf32>
  linalg.generic {indexing_maps = [#w6, #x6, #y6], iterator_types = ["parallel", "reduction"]} ins(%w, %x : memref<6x520xbf16>, memref<520xf32>) outs(%acc : memref<6xf32>) {
  ^bb0(%a: bf16, %b: f32, %s: f32):
    %e = arith.extf %a : bf16 to f32
    %p = arith.mulf %e, %b : f32
    %t = arith.addf %s, %p : f32
    linalg.yield %t : f32
  }
  memref.copy %acc, %y : memref<6xf32> to memref<6xf32>
  memref.dealloc %acc : memref<6xf32>
  memref.dealloc %shared : memref<6xf32>
  return
}

// -----

// RMSNorm as llama-to-linalg writes it: the rows' sums of squares into a
// temporary, read by the scaling alone, next to it. Each row (512 elements)
// is whole blocks of the scaling's launch, so its blocks compute their
// row's sum themselves: warps 0 and 1 take the two parts of the row as the
// reduction's own kernel would (2 trips of 256 a row), the parts meet in
// shared memory, every thread adds them in order, and that sum stands in
// for the temporary's element. One launch; the temporary is not written.

#rx = affine_map<(b, s, k) -> (b, s, k)>
#rt = affine_map<(b, s, k) -> (b, s)>
#rg = affine_map<(b, s, k) -> (k)>
// CHECK-LABEL: func.func @rms_norm
// CHECK: gpu.launch {{.*}} module(@rms_norm_op_reduce_map) function(@rms_norm_op_reduce_map) workgroup(%[[SUMS:.*]] : memref<8xf32, #gpu.address_space<workgroup>>)
// CHECK: %[[WARP:.*]] = arith.divui %{{.*}}, %{{.*}} : index
// CHECK: %[[ISPART:.*]] = arith.cmpi ult, %[[WARP]], %{{.*}} : index
// CHECK: scf.if %[[ISPART]] -> (f32) {
// CHECK: %[[X:.*]] = vector.load %arg0[%{{.*}}, %{{.*}}, %{{.*}}] {alignment = 32 : i64} : memref<1x2x512xf32>, vector<8xf32>
// CHECK: vector.fma %[[X]], %[[X]]
// CHECK: gpu.shuffle  xor
// CHECK: memref.store %{{.*}}, %[[SUMS]][%[[WARP]]]
// CHECK: gpu.barrier
// CHECK: %[[S0:.*]] = memref.load %[[SUMS]]
// CHECK: %[[S1:.*]] = memref.load %[[SUMS]]
// CHECK: %[[ROW:.*]] = arith.addf %[[S0]], %[[S1]]
// CHECK: arith.divf %[[ROW]]
// CHECK: math.rsqrt
// CHECK: memref.store %{{.*}}, %arg2
// CHECK-NOT: gpu.launch
// CHECK-NOT: memref.store {{.*}} : memref<1x2xf32>
// CHECK: return
func.func @rms_norm(%x: memref<1x2x512xf32>, %g: memref<512xf32>, %y: memref<1x2x512xf32>) {
  %zero = arith.constant 0.0 : f32
  %t = memref.alloc() : memref<1x2xf32>
  linalg.fill ins(%zero : f32) outs(%t : memref<1x2xf32>)
  linalg.generic {indexing_maps = [#rx, #rt], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x : memref<1x2x512xf32>) outs(%t : memref<1x2xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %sq = arith.mulf %a, %a : f32
    %s = arith.addf %acc, %sq : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#rx, #rt, #rg, #rx], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x, %t, %g : memref<1x2x512xf32>, memref<1x2xf32>, memref<512xf32>) outs(%y : memref<1x2x512xf32>) {
  ^bb0(%a: f32, %ss: f32, %w: f32, %out: f32):
    %n = arith.constant 512.0 : f32
    %eps = arith.constant 1.0e-5 : f32
    %mean = arith.divf %ss, %n : f32
    %r = math.rsqrt %mean : f32
    %v = arith.mulf %a, %r : f32
    %o = arith.mulf %v, %w : f32
    linalg.yield %o : f32
  }
  memref.dealloc %t : memref<1x2xf32>
  return
}

// -----

// Rows of 288 elements do not fill whole blocks of 256: the sum of squares
// keeps its own kernel and the scaling reads it from the temporary.

#qx = affine_map<(b, s, k) -> (b, s, k)>
#qt = affine_map<(b, s, k) -> (b, s)>
// CHECK-LABEL: func.func @rms_norm_short_rows
// CHECK: gpu.launch {{.*}} module(@rms_norm_short_rows_op_dot)
// CHECK: memref.store %{{.*}}, %{{.*}} : memref<1x2xf32>
// CHECK: gpu.launch {{.*}} module(@rms_norm_short_rows_op_map)
// CHECK: memref.load %{{.*}} : memref<1x2xf32>
func.func @rms_norm_short_rows(%x: memref<1x2x288xf32>, %y: memref<1x2x288xf32>) {
  %zero = arith.constant 0.0 : f32
  %t = memref.alloc() : memref<1x2xf32>
  linalg.fill ins(%zero : f32) outs(%t : memref<1x2xf32>)
  linalg.generic {indexing_maps = [#qx, #qt], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x : memref<1x2x288xf32>) outs(%t : memref<1x2xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %sq = arith.mulf %a, %a : f32
    %s = arith.addf %acc, %sq : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#qx, #qt, #qx], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x, %t : memref<1x2x288xf32>, memref<1x2xf32>) outs(%y : memref<1x2x288xf32>) {
  ^bb0(%a: f32, %ss: f32, %out: f32):
    %r = math.rsqrt %ss : f32
    %v = arith.mulf %a, %r : f32
    linalg.yield %v : f32
  }
  memref.dealloc %t : memref<1x2xf32>
  return
}
