// RUN: llamac-opt %s -split-input-file --llama-map-to-gpu=clusters=true --canonicalize --cse | FileCheck %s

// Decode on sm_90 (1 query, 8 heads, 2 kv heads, head_dim 64: the 1B's
// group of 4 query heads a kv head): one launch of thread block clusters,
// 8 blocks a cluster, a cluster per (query, kv head): 16 blocks of 16 warps
// (rows of 64 floats: twice the warps of head_dim 128's 8). Each warp keeps
// a running maximum, sum and weighted sum for the 4 query heads of its kv
// head over its run of the keys (1 of 128 runs); a key row
// is spread over 8 lanes (8 elements each: 4 heads x 8 = 32 registers of
// query, as many of sums), so a score takes 3 shuffles and a warp reads 4
// rows at once, 8 an iteration. The block's warps meet in shared memory,
// the blocks through distributed shared memory (mapa); the output is
// written normalized. No partial results in global memory, no combining
// kernel.
// CHECK-LABEL: func.func @decode
// CHECK-NOT:   gpu.alloc
// CHECK:       gpu.launch clusters({{.*}}) in (%{{.*}} = %c8, %{{.*}} = %c1, %{{.*}} = %c1) blocks({{.*}}) in (%{{.*}} = %c16, {{.*}} threads({{.*}}) in (%{{.*}} = %c512, {{.*}} module(@decode_layers_0_self_attn_flash_cluster) function(@decode_layers_0_self_attn_flash_cluster) workgroup(%[[WMAX:.*]] : memref<64xf32, #gpu.address_space<workgroup>>, %[[WSUM:.*]] : memref<64xf32, #gpu.address_space<workgroup>>, %[[WACC:.*]] : memref<4096xf32, #gpu.address_space<workgroup>>, %[[BMAX:.*]] : memref<4xf32, #gpu.address_space<workgroup>>, %[[BSUM:.*]] : memref<4xf32, #gpu.address_space<workgroup>>, %[[BACC:.*]] : memref<256xf32, #gpu.address_space<workgroup>>) {
// The warp's run: 128 runs (8 blocks x 16 warps), whole iterations of 8 rows.
// CHECK:         %[[LEN:.*]] = memref.dim %arg1, %c1
// CHECK:         %[[SHARE:.*]] = arith.ceildivui %[[LEN]], %c128 : index
// CHECK:         arith.ceildivui %[[SHARE]], %c8 : index
// Four query heads' (max, sum, acc) carried through the loop.
// CHECK:         scf.for {{.*}} -> (f32, f32, vector<8xf32>, f32, f32, vector<8xf32>, f32, f32, vector<8xf32>, f32, f32, vector<8xf32>) {
// CHECK-COUNT-2:   vector.load %arg2
// CHECK:           gpu.shuffle  xor %{{.*}}, %c4_i32, %c32_i32
// CHECK:           gpu.shuffle  xor %{{.*}}, %c2_i32, %c32_i32
// CHECK:           gpu.shuffle  xor %{{.*}}, %c1_i32, %c32_i32
// CHECK:           scf.yield
// The warp's 4 row groups merged (shuffles 8, 16), then its partials stored.
// CHECK:         gpu.shuffle  xor %{{.*}}, %c8_i32, %c32_i32
// CHECK:         gpu.shuffle  xor %{{.*}}, %c16_i32, %c32_i32
// CHECK:         memref.store %{{.*}}, %[[WACC]]
// CHECK:         memref.store %{{.*}}, %[[WMAX]]
// CHECK:         gpu.barrier
// The block's partial, warps in order.
// CHECK:         memref.store %{{.*}}, %[[BACC]]
// CHECK:         nvvm.cluster.arrive {aligned}
// CHECK-NEXT:    nvvm.cluster.wait {aligned}
// Every block's partial of this block's slice of the elements, in rank order.
// CHECK:         memref.extract_aligned_pointer_as_index %[[BMAX]]
// CHECK:         nvvm.mapa %{{.*}}, %c0_i32 : !llvm.ptr<3> -> !llvm.ptr<7>
// CHECK:         nvvm.mapa %{{.*}}, %c7_i32 : !llvm.ptr<3> -> !llvm.ptr<7>
// CHECK:         arith.divf
// CHECK:         memref.store %{{.*}}, %arg3
// CHECK:         nvvm.cluster.arrive {aligned}
// CHECK-NEXT:    nvvm.cluster.wait {aligned}
// CHECK-NOT:   gpu.launch
// CHECK-NOT:   llama.flash_attention
func.func @decode(%q: memref<1x8x64xf32>, %k: memref<2x?x64xf32, strided<[4096, 64, 1]>>, %v: memref<2x?x64xf32, strided<[4096, 64, 1], offset: 8192>>, %o: memref<1x8x64xf32>) {
  llama.flash_attention ins(%q, %k, %v : memref<1x8x64xf32>, memref<2x?x64xf32, strided<[4096, 64, 1]>>, memref<2x?x64xf32, strided<[4096, 64, 1], offset: 8192>>) outs(%o : memref<1x8x64xf32>) scale 0.125 loc("model.layers.0.self_attn")
  return
}

// -----

// Multi-query attention with 16 query heads of head_dim 128 on one kv head:
// their query parts and sums would not fit a warp's registers (even with a
// row over all 32 lanes, 64 floats a lane), so the keys' splits meet in a
// second kernel as without clusters.
// CHECK-LABEL: func.func @mqa_wide
// CHECK:       gpu.launch blocks
// CHECK-SAME:  module(@mqa_wide_layers_0_self_attn_flash)
// CHECK:       gpu.launch blocks
// CHECK-SAME:  module(@mqa_wide_layers_0_self_attn_flash_combine)
// CHECK-NOT:   clusters
func.func @mqa_wide(%q: memref<1x16x128xf32>, %k: memref<1x?x128xf32, strided<[4096, 128, 1]>>, %v: memref<1x?x128xf32, strided<[4096, 128, 1], offset: 4096>>, %o: memref<1x16x128xf32>) {
  llama.flash_attention ins(%q, %k, %v : memref<1x16x128xf32>, memref<1x?x128xf32, strided<[4096, 128, 1]>>, memref<1x?x128xf32, strided<[4096, 128, 1], offset: 4096>>) outs(%o : memref<1x16x128xf32>) scale 0.0883883 loc("model.layers.0.self_attn")
  return
}

// -----

// 16 query heads of head_dim 64 on each kv head: their rows fit the
// registers (a row over 32 lanes, 2 elements a lane), but 16 warps'
// partials of 16 heads would take 70 KiB of shared memory (the limit is
// 48): the two kernels.
// CHECK-LABEL: func.func @wide_group
// CHECK:       gpu.launch blocks
// CHECK-SAME:  module(@wide_group_layers_0_self_attn_flash)
// CHECK:       gpu.launch blocks
// CHECK-SAME:  module(@wide_group_layers_0_self_attn_flash_combine)
// CHECK-NOT:   clusters
func.func @wide_group(%q: memref<1x32x64xf32>, %k: memref<2x?x64xf32, strided<[4096, 64, 1]>>, %v: memref<2x?x64xf32, strided<[4096, 64, 1], offset: 8192>>, %o: memref<1x32x64xf32>) {
  llama.flash_attention ins(%q, %k, %v : memref<1x32x64xf32>, memref<2x?x64xf32, strided<[4096, 64, 1]>>, memref<2x?x64xf32, strided<[4096, 64, 1], offset: 8192>>) outs(%o : memref<1x32x64xf32>) scale 0.125 loc("model.layers.0.self_attn")
  return
}
