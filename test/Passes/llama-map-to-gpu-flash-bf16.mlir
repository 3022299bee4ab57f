// RUN: llamac-opt %s -split-input-file --llama-map-to-gpu="bf16-attention=true" --canonicalize --cse | FileCheck %s

// Prefill-shaped (1,024 queries x 16 heads, 4 kv heads, head_dim 64, the
// tiles of llama-map-to-gpu-flash.mlir's @prefill) with the bf16-attention
// option: each lane's 16 query elements of each of its two rows become 4
// k-steps of 16 x 4 bf16 pairs (elements 4t, 4t + 1 and 4t + 2, 4t + 3 of
// each row: slots 2j, 2j + 1 and 2j + 8, 2j + 9), once, before the loop. A
// tile of 32 keys: 4 n-tiles of scores, each its key row's 16 floats (4
// chunks of the shared tile) as 8 bf16 pairs and 4 mma.sync m16n8k16
// (bf16, f32 accumulators) against the query's pairs, masked as before;
// then P V as 2 k-steps of 16 keys, each the scores of two n-tiles as the
// A fragment's 4 pairs and 4 value rows (8 chunks) as the B fragments of
// 8 mmas, one a head-dim tile. No tf32.
// CHECK-LABEL: func.func @prefill
// CHECK:       gpu.launch {{.*}} module(@prefill_op_flash_mma)
// CHECK-COUNT-2: vector.load %arg0[%{{.*}}, %{{.*}}, %{{.*}}] {alignment = 16 : i64} : memref<1024x16x64xf32>, vector<16xf32>
// CHECK-COUNT-16: arith.truncf %{{.*}} : vector<2xf32> to vector<2xbf16>
// CHECK:         scf.for %{{.*}} step %c32 iter_args(
// CHECK-COUNT-4:   vector.load %[[KT:.*]][%{{.*}}, %{{.*}}, %{{.*}}] {alignment = 16 : i64} : memref<3x32x64xf32, #gpu.address_space<workgroup>>, vector<4xf32>
// CHECK:           arith.truncf %{{.*}} : vector<2xf32> to vector<2xbf16>
// CHECK-COUNT-4:   nvvm.mma.sync {{.*}}multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>}
// CHECK:           arith.select
// CHECK-COUNT-4:   vector.load %[[KT]]
// CHECK-COUNT-4:   nvvm.mma.sync {{.*}}#nvvm.mma_type<bf16>{{.*}}k = 16
// CHECK-COUNT-4:   vector.load %[[KT]]
// CHECK-COUNT-4:   nvvm.mma.sync {{.*}}#nvvm.mma_type<bf16>{{.*}}k = 16
// CHECK-COUNT-4:   vector.load %[[KT]]
// CHECK-COUNT-4:   nvvm.mma.sync {{.*}}#nvvm.mma_type<bf16>{{.*}}k = 16
// CHECK:           math.exp
// CHECK-COUNT-8:   vector.load %[[VT:.*]][%{{.*}}, %{{.*}}, %{{.*}}] {alignment = 16 : i64} : memref<3x32x64xf32, #gpu.address_space<workgroup>>, vector<4xf32>
// CHECK-COUNT-8:   nvvm.mma.sync {{.*}}#nvvm.mma_type<bf16>{{.*}}k = 16
// CHECK-COUNT-8:   vector.load %[[VT]]
// CHECK-COUNT-8:   nvvm.mma.sync {{.*}}#nvvm.mma_type<bf16>{{.*}}k = 16
// CHECK-NOT:       nvvm.mma.sync
// CHECK:           scf.yield
// CHECK-NOT:   tf32
func.func @prefill(%q: memref<1024x16x64xf32>, %k: memref<4x?x64xf32, strided<[262144, 64, 1]>>, %v: memref<4x?x64xf32, strided<[262144, 64, 1], offset: 1048576>>, %o: memref<1024x16x64xf32>) {
  llama.flash_attention ins(%q, %k, %v : memref<1024x16x64xf32>, memref<4x?x64xf32, strided<[262144, 64, 1]>>, memref<4x?x64xf32, strided<[262144, 64, 1], offset: 1048576>>) outs(%o : memref<1024x16x64xf32>) scale 0.125
  return
}

// -----

// head_dim 24: on the tensor cores (a multiple of 8) but not in k-steps of
// 16: the three tf32 mmas a step stay.
// CHECK-LABEL: func.func @head_dim_24
// CHECK:       gpu.launch {{.*}} module(@head_dim_24_op_flash_mma)
// CHECK-NOT:   mma_type<bf16>
// CHECK:       nvvm.mma.sync {{.*}}multiplicandAPtxType = #nvvm.mma_type<tf32>
func.func @head_dim_24(%q: memref<64x4x24xf32>, %k: memref<1x?x24xf32, strided<[98304, 24, 1]>>, %v: memref<1x?x24xf32, strided<[98304, 24, 1], offset: 98304>>, %o: memref<64x4x24xf32>) {
  llama.flash_attention ins(%q, %k, %v : memref<64x4x24xf32>, memref<1x?x24xf32, strided<[98304, 24, 1]>>, memref<1x?x24xf32, strided<[98304, 24, 1], offset: 98304>>) outs(%o : memref<64x4x24xf32>) scale 0.2
  return
}
