// RUN: llamac-opt %s -split-input-file --llama-map-to-gpu --canonicalize --cse | FileCheck %s

// Decode-shaped (1 query, 4 heads, 2 kv heads, head_dim 8): 4 warps would
// be too few, so the keys are split, ceil(len / 16) ways up to 128, and a
// second kernel combines the splits. The grid is the same at every length
// (128 splits x 4 heads, 2 warps a block): the kernel works out how many
// splits the keys fill, and warps past them find their split empty.
// head_dim 8 spreads a key row over 8 lanes (one element each), so a warp
// reads 4 rows at once, 8 an iteration (two steps), and a split is a whole
// number of iterations; the 2 query heads of a kv head are the 2 warps of
// a block.
// CHECK-LABEL: func.func @decode
// Each split's maximum, sum and weighted sum, for 128 splits x 4 heads.
// CHECK:       %[[MAX:.*]], %{{.*}} = gpu.alloc async [%{{.*}}] () : memref<512xf32>
// CHECK:       %[[SUM:.*]], %{{.*}} = gpu.alloc async [%{{.*}}] () : memref<512xf32>
// CHECK:       %[[ACC:.*]], %{{.*}} = gpu.alloc async [%{{.*}}] () : memref<4096xf32>
// CHECK:       gpu.launch blocks({{.*}}) in (%{{.*}} = %c256, {{.*}} threads({{.*}}) in (%{{.*}} = %c64, {{.*}} module(@decode_layers_0_self_attn_flash) function(@decode_layers_0_self_attn_flash) {
// CHECK:         %[[LEN:.*]] = memref.dim %arg1, %c1
// CHECK:         %[[WANT:.*]] = arith.ceildivui %[[LEN]], %c16 : index
// CHECK:         %[[SPLITS:.*]] = arith.minui %[[WANT]], %c128 : index
// CHECK:         %[[SHARE:.*]] = arith.ceildivui %[[LEN]], %[[SPLITS]] : index
// CHECK:         %[[ITERS:.*]] = arith.ceildivui %[[SHARE]], %c8 : index
// CHECK:         %[[CHUNK:.*]] = arith.muli %[[ITERS]], %c8 : index
// Split s's keys: [s * chunk, min((s + 1) * chunk, len)).
// CHECK:         %[[BEGIN:.*]] = arith.muli %{{.*}}, %[[CHUNK]] : index
// CHECK:         %[[NEXT:.*]] = arith.addi %[[BEGIN]], %[[CHUNK]] : index
// CHECK:         %[[END:.*]] = arith.minui %[[NEXT]], %{{.*}} : index
// The query, scaled once.
// CHECK:         memref.load %arg0
// CHECK:         arith.mulf %{{.*}}, %cst{{.*}} : f32
// CHECK:         scf.for %{{.*}} = %[[BEGIN]] to %[[END]] step %c8 iter_args({{.*}}) -> (f32, f32, vector<1xf32>) {
// Both steps' loads first, without branches: a row past the end loads the
// last key (len - 1) instead, and its score becomes -inf.
// CHECK:           %[[LAST:.*]] = arith.subi %[[LEN]], %c1 : index
// CHECK:           %[[ROW0:.*]] = arith.minui %{{.*}}, %[[LAST]] : index
// CHECK:           vector.load %arg1[%{{.*}}, %[[ROW0]], %{{.*}}]
// CHECK:           vector.load %arg2[%{{.*}}, %[[ROW0]], %{{.*}}]
// CHECK:           %[[ROW1:.*]] = arith.minui %{{.*}}, %[[LAST]] : index
// CHECK:           vector.load %arg1[%{{.*}}, %[[ROW1]], %{{.*}}]
// CHECK:           vector.load %arg2[%{{.*}}, %[[ROW1]], %{{.*}}]
// CHECK-NOT:       scf.if
// A row's dot product over its 8 lanes: shuffles 4, 2, 1.
// CHECK:           gpu.shuffle  xor %{{.*}}, %c4_i32, %c32_i32
// CHECK:           gpu.shuffle  xor %{{.*}}, %c2_i32, %c32_i32
// CHECK:           gpu.shuffle  xor %{{.*}}, %c1_i32, %c32_i32
// Online softmax: the old sum and weighted sum rescaled to the new maximum.
// CHECK:           arith.maximumf
// CHECK:           math.exp
// CHECK:           math.exp
// CHECK:           vector.fma
// CHECK:           scf.yield
// The 4 row groups of the warp merged: shuffles 8, 16.
// CHECK:         gpu.shuffle  xor %{{.*}}, %c8_i32, %c32_i32
// CHECK:         gpu.shuffle  xor %{{.*}}, %c16_i32, %c32_i32
// CHECK:         memref.store %{{.*}}, %[[ACC]]
// CHECK:         memref.store %{{.*}}, %[[MAX]]
// CHECK:         memref.store %{{.*}}, %[[SUM]]
// A thread per output element (32 of them, blocks of 64): one pass over the splits the
// keys filled (counted again from len), in order, 16 splits' loads at a
// time, rescaled to the running maximum.
// CHECK:       gpu.launch blocks({{.*}}) in (%{{.*}} = %c1, {{.*}} threads({{.*}}) in (%{{.*}} = %c64, {{.*}} module(@decode_layers_0_self_attn_flash_combine)
// CHECK:         %[[CLEN:.*]] = memref.dim %arg1, %c1
// CHECK:         %[[CWANT:.*]] = arith.ceildivui %[[CLEN]], %c16 : index
// CHECK:         %[[CSPLITS:.*]] = arith.minui %[[CWANT]], %c128 : index
// CHECK:         scf.for %{{.*}} = %c0 to %[[CSPLITS]] step %c16
// CHECK-COUNT-16:  memref.load %[[ACC]]
// CHECK:           arith.maximumf
// CHECK:           math.exp
// CHECK:         arith.divf
// CHECK:         memref.store %{{.*}}, %arg3
// CHECK-NOT:   atomic
// CHECK:       gpu.dealloc async [%{{.*}}] %[[MAX]]
// CHECK-NOT:   llama.flash_attention
func.func @decode(%q: memref<1x4x8xf32>, %k: memref<2x?x8xf32, strided<[256, 8, 1]>>, %v: memref<2x?x8xf32, strided<[256, 8, 1], offset: 512>>, %o: memref<1x4x8xf32>) {
  llama.flash_attention ins(%q, %k, %v : memref<1x4x8xf32>, memref<2x?x8xf32, strided<[256, 8, 1]>>, memref<2x?x8xf32, strided<[256, 8, 1], offset: 512>>) outs(%o : memref<1x4x8xf32>) scale 0.353553 loc("model.layers.0.self_attn")
  return
}

// -----

// Prefill-shaped (1,024 queries x 16 heads, 4 kv heads, head_dim 64): on
// the tensor cores, a warp per 16 queries of a head (64 x 16 = 1,024
// warps: enough, no split), the 4 query heads of a kv head a block. Each
// lane holds 16 consecutive head dims of its two query rows (scaled once).
// The block's key and value tiles (32 keys, 8 KB each) come through shared
// memory, three stages: each thread's 4 + 4 16-byte cp.async copies a tile
// (rows clamped to the last key, stored at swizzled chunk positions), two
// tiles before the loop; each iteration waits for its tile (one group left
// in flight), a barrier, then the tile two ahead. A lane reads its key
// row's 16 floats as 4 chunks of the tile; 4 n-tiles of scores, each 8
// k-steps of three tf32 mmas (big x small, small x big, big x big: f32
// precision), then the same count for P V, 2 chunks of each of two value
// rows a k-step. Its state: 8 output tiles of 4 accumulators, two rows'
// maxima and sums.
// CHECK-LABEL: func.func @prefill
// CHECK-NOT:   gpu.alloc
// CHECK:       gpu.launch blocks({{.*}}) in (%{{.*}} = %c256, {{.*}} threads({{.*}}) in (%{{.*}} = %c128, {{.*}} module(@prefill_op_flash_mma) function(@prefill_op_flash_mma) workgroup(%[[KT:.*]] : memref<3x32x64xf32, #gpu.address_space<workgroup>>, %[[VT:.*]] : memref<3x32x64xf32, #gpu.address_space<workgroup>>)
// CHECK-COUNT-2: vector.load %arg0[%{{.*}}, %{{.*}}, %{{.*}}] {alignment = 16 : i64} : memref<1024x16x64xf32>, vector<16xf32>
// CHECK:       %[[LASTKEY:.*]] = arith.subi %dim, %c1 : index
// CHECK:       arith.xori
// CHECK:       %[[ROW:.*]] = arith.minui %{{.*}}, %[[LASTKEY]] : index
// CHECK:       nvgpu.device_async_copy %arg1[%{{.*}}, %[[ROW]], %{{.*}}], %[[KT]][%c0, %{{.*}}, %{{.*}}], 4 {bypassL1}
// CHECK:       nvgpu.device_async_copy %arg2[%{{.*}}, %[[ROW]], %{{.*}}], %[[VT]][%c0, %{{.*}}, %{{.*}}], 4 {bypassL1}
// CHECK-COUNT-2: nvgpu.device_async_create_group
// CHECK:         scf.for %{{.*}} step %c32 iter_args({{.*}}) -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32) {
// CHECK:           nvvm.cp.async.wait.group 1
// CHECK-NEXT:      gpu.barrier
// CHECK-COUNT-8:   nvgpu.device_async_copy
// CHECK-NEXT:      nvgpu.device_async_create_group
// CHECK-COUNT-4:   vector.load %[[KT]][%{{.*}}, %{{.*}}, %{{.*}}] {alignment = 16 : i64} : memref<3x32x64xf32, #gpu.address_space<workgroup>>, vector<4xf32>
// tf32 parts: the top 19 bits, then those of the rest.
// CHECK:           arith.andi %{{.*}}, %c-8192_i32 : i32
// CHECK-COUNT-24:  nvvm.mma.sync {{.*}}multiplicandAPtxType = #nvvm.mma_type<tf32>, multiplicandBPtxType = #nvvm.mma_type<tf32>, shape = #nvvm.shape<m = 16, n = 8, k = 8>}
// Keys past the split or past what the row sees score -inf.
// CHECK:           arith.cmpi ult
// CHECK-NEXT:      arith.select %{{.*}}, %{{.*}}, %cst_0 : f32
// A row's maximum over the quad of lanes holding it.
// CHECK:           gpu.shuffle  xor %{{.*}}, %c1_i32, %c32_i32 : f32
// CHECK:           gpu.shuffle  xor %{{.*}}, %c2_i32, %c32_i32 : f32
// CHECK:           math.exp
// 8 floats (2 chunks) of each of the k-step's two value rows.
// CHECK-COUNT-4:   vector.load %[[VT]][{{.*}}] {alignment = 16 : i64} : memref<3x32x64xf32, #gpu.address_space<workgroup>>, vector<4xf32>
// CHECK:           scf.yield
// No copy left in flight; the sums over the quad, then each row (if
// inside the chunk) normalized, two runs of 8 outputs a lane.
// CHECK:         nvvm.cp.async.wait.group 0
// CHECK:         gpu.shuffle  xor %{{.*}}, %c1_i32, %c32_i32 : f32
// CHECK:         gpu.shuffle  xor %{{.*}}, %c2_i32, %c32_i32 : f32
// CHECK:         scf.if
// CHECK:           arith.divf %{{.*}}, %{{.*}} : vector<8xf32>
// CHECK:           vector.store %{{.*}}, %arg3[{{.*}}] {alignment = 16 : i64} : memref<1024x16x64xf32>, vector<8xf32>
// CHECK:           arith.divf %{{.*}}, %{{.*}} : vector<8xf32>
// CHECK:           vector.store %{{.*}}, %arg3[{{.*}}] {alignment = 16 : i64} : memref<1024x16x64xf32>, vector<8xf32>
// CHECK-NOT:   gpu.launch
func.func @prefill(%q: memref<1024x16x64xf32>, %k: memref<4x?x64xf32, strided<[262144, 64, 1]>>, %v: memref<4x?x64xf32, strided<[262144, 64, 1], offset: 1048576>>, %o: memref<1024x16x64xf32>) {
  llama.flash_attention ins(%q, %k, %v : memref<1024x16x64xf32>, memref<4x?x64xf32, strided<[262144, 64, 1]>>, memref<4x?x64xf32, strided<[262144, 64, 1], offset: 1048576>>) outs(%o : memref<1024x16x64xf32>) scale 0.125
  return
}

// -----

// A 128-query chunk of 4 heads: 32 tensor-core warps, too few, so the
// keys are split (at least a 32-key tile each, up to 32 splits), and the
// combining kernel of decode adds the splits' partial results.
// CHECK-LABEL: func.func @prefill_split
// CHECK:       %[[MAX:.*]], %{{.*}} = gpu.alloc async [%{{.*}}] () : memref<16384xf32>
// CHECK:       %[[SUM:.*]], %{{.*}} = gpu.alloc async [%{{.*}}] () : memref<16384xf32>
// CHECK:       %[[ACC:.*]], %{{.*}} = gpu.alloc async [%{{.*}}] () : memref<1048576xf32>
// CHECK:       gpu.launch blocks({{.*}}) in (%{{.*}} = %c512, {{.*}} threads({{.*}}) in (%{{.*}} = %c64, {{.*}} module(@prefill_split_op_flash_mma)
// CHECK:         %[[WANT:.*]] = arith.ceildivui %dim, %c32 : index
// CHECK:         arith.minui %[[WANT]], %c32 : index
// CHECK:         scf.for %{{.*}} step %c32
// CHECK:         scf.if
// CHECK:           vector.store %{{.*}}, %[[ACC]][%{{.*}}] {alignment = 16 : i64} : memref<1048576xf32>, vector<8xf32>
// CHECK:           vector.store %{{.*}}, %[[ACC]][%{{.*}}] {alignment = 16 : i64} : memref<1048576xf32>, vector<8xf32>
// CHECK:           scf.if
// CHECK:             memref.store %{{.*}}, %[[MAX]]
// CHECK:             memref.store %{{.*}}, %[[SUM]]
// CHECK:       gpu.launch {{.*}} module(@prefill_split_op_flash_combine)
func.func @prefill_split(%q: memref<128x4x64xf32>, %k: memref<2x?x64xf32, strided<[262144, 64, 1]>>, %v: memref<2x?x64xf32, strided<[262144, 64, 1], offset: 524288>>, %o: memref<128x4x64xf32>) {
  llama.flash_attention ins(%q, %k, %v : memref<128x4x64xf32>, memref<2x?x64xf32, strided<[262144, 64, 1]>>, memref<2x?x64xf32, strided<[262144, 64, 1], offset: 524288>>) outs(%o : memref<128x4x64xf32>) scale 0.125
  return
}

// -----

// head_dim 12 (not a multiple of the mma's 8): prefill on the CUDA cores,
// a warp per (query, head), 1,024 x 4 of them: no split. A row over 4
// lanes, 3 floats each, 8 rows a step.
// CHECK-LABEL: func.func @prefill_cuda_cores
// CHECK-NOT:   gpu.alloc
// CHECK:       gpu.launch blocks({{.*}}) in (%{{.*}} = %c1024, {{.*}} threads({{.*}}) in (%{{.*}} = %c128, {{.*}} module(@prefill_cuda_cores_op_flash)
// CHECK:         scf.for %{{.*}} step %c8 iter_args({{.*}}) -> (f32, f32, vector<3xf32>) {
// CHECK:           vector.load %arg1[%{{.*}}, %{{.*}}, %{{.*}}] {alignment = 4 : i64} : memref<1x?x12xf32, strided<[49152, 12, 1]>>, vector<3xf32>
// CHECK:         scf.yield
// CHECK:         memref.store %{{.*}}, %arg3
// CHECK-NOT:   gpu.launch
func.func @prefill_cuda_cores(%q: memref<1024x4x12xf32>, %k: memref<1x?x12xf32, strided<[49152, 12, 1]>>, %v: memref<1x?x12xf32, strided<[49152, 12, 1], offset: 49152>>, %o: memref<1024x4x12xf32>) {
  llama.flash_attention ins(%q, %k, %v : memref<1024x4x12xf32>, memref<1x?x12xf32, strided<[49152, 12, 1]>>, memref<1x?x12xf32, strided<[49152, 12, 1], offset: 49152>>) outs(%o : memref<1024x4x12xf32>) scale 0.288675
  return
}
