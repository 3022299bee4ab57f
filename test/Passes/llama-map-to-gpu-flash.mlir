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

// Prefill-shaped (1,024 queries x 4 heads: warps enough): no split, one
// kernel that writes the normalized output. head_dim 128: a row over the
// 32 lanes, 4 floats each (16-byte loads), 8 rows. loads per iteration.
// CHECK-LABEL: func.func @prefill
// CHECK-NOT:   gpu.alloc
// CHECK:       gpu.launch blocks({{.*}}) in (%{{.*}} = %c1024, {{.*}} threads({{.*}}) in (%{{.*}} = %c128, {{.*}} module(@prefill_op_flash)
// CHECK:         scf.for %{{.*}} step %c8 iter_args({{.*}}) -> (f32, f32, vector<4xf32>) {
// CHECK-COUNT-8:   vector.load %arg1[%{{.*}}, %{{.*}}, %{{.*}}] {alignment = 16 : i64} : memref<1x?x128xf32, strided<[524288, 128, 1]>>, vector<4xf32>
// CHECK:           gpu.shuffle  xor %{{.*}}, %c16_i32, %c32_i32
// CHECK:         scf.yield
// CHECK-NOT:     gpu.shuffle
// CHECK:         arith.divf %{{.*}}, %{{.*}} : vector<4xf32>
// CHECK:         memref.store %{{.*}}, %arg3
// CHECK-NOT:   gpu.launch
func.func @prefill(%q: memref<1024x4x128xf32>, %k: memref<1x?x128xf32, strided<[524288, 128, 1]>>, %v: memref<1x?x128xf32, strided<[524288, 128, 1], offset: 262144>>, %o: memref<1024x4x128xf32>) {
  llama.flash_attention ins(%q, %k, %v : memref<1024x4x128xf32>, memref<1x?x128xf32, strided<[524288, 128, 1]>>, memref<1x?x128xf32, strided<[524288, 128, 1], offset: 262144>>) outs(%o : memref<1024x4x128xf32>) scale 0.0883883461
  return
}
