// RUN: llamac-opt %s -split-input-file --llama-map-to-gpu=wgmma=true --canonicalize --cse | FileCheck %s

// wgmma (sm_90a): a block is two warpgroups (256 threads) and a 128 x 256
// tile, each warpgroup's 64 x 256 one m64n256 accumulator, an LLVM struct
// of 128 floats a thread carried through the loop. The tiles live in
// dynamic shared memory: eight stages of 8 KB of A and 16 KB of B from
// its first 1,024-byte-aligned byte (196,608 + 1,024 bytes asked for; the
// runtime opts the kernel in above 48 KB). They are stored as the tensor
// cores read them: 64-byte rows, 16-byte chunk c of row r at position
// c ^ (r / 2 % 4) (the 64-byte swizzle). A slice's wgmma group stays in
// flight through the next iteration, so the copies run six slices ahead
// (not seven): six before the loop, at most five groups in flight at the
// wait. Each iteration: the copies made visible to the async proxy, a
// barrier, the next slice's copies (2 of A, 4 of B a thread), then two
// k-steps as one group, whose descriptors hold the stage's address (8,192
// bytes a stage of A, the second warpgroup 4,096 further; 16,384 of B;
// +32 bytes a k-step), the 512-byte stride of 8-row groups and the swizzle
// mode (0x8000002000010000), and a wait for the previous group. After the
// loop nothing may stay in flight; the accumulators are stored in the
// mma.sync tiles' layout.

#x = affine_map<(b, n, s, k) -> (b, s, k)>
#w = affine_map<(b, n, s, k) -> (n, k)>
#y = affine_map<(b, n, s, k) -> (b, s, n)>
// CHECK-LABEL: func.func @prefill_wgmma
// CHECK: %[[ZERO:.*]] = llvm.mlir.zero : !llvm.struct<({{(f32, )+}}f32)>
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c1, %{{.*}} = %c1, %{{.*}} = %c1) threads({{.*}}) in (%{{.*}} = %c256, %{{.*}} = %c1, %{{.*}} = %c1) dynamic_shared_memory_size %c197632_i32 module(@prefill_wgmma_op_mma) function(@prefill_wgmma_op_mma) {
// CHECK: %[[WARP:.*]] = arith.divui %{{.*}}, %c32 : index
// CHECK: %[[WG:.*]] = arith.divui %[[WARP]], %c4 : index
// CHECK: %[[RAW:.*]] = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
// CHECK: %[[ADDRESS:.*]] = memref.extract_aligned_pointer_as_index %[[RAW]]
// CHECK: %[[MISS:.*]] = arith.remui %[[ADDRESS]], %c1024 : index
// CHECK: %[[TO:.*]] = arith.subi %c1024, %[[MISS]] : index
// CHECK: %[[SHIFT:.*]] = arith.remui %[[TO]], %c1024 : index
// CHECK: %[[AT:.*]] = memref.view %[[RAW]][%[[SHIFT]]][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<8x128x32xbf16, #gpu.address_space<workgroup>>
// CHECK: %[[BSHIFT:.*]] = arith.addi %[[SHIFT]], %c65536 : index
// CHECK: %[[BT:.*]] = memref.view %[[RAW]][%[[BSHIFT]]][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<8x256x32xbf16, #gpu.address_space<workgroup>>
// CHECK: %[[CHUNK:.*]] = arith.remui %[[TID:arg[0-9]+]], %c4 : index
// CHECK: %[[ROW:.*]] = arith.divui %[[TID]], %c4 : index
// CHECK: %[[PAIR:.*]] = arith.divui %[[ROW]], %c2 : index
// CHECK: %[[PHASE:.*]] = arith.remui %[[PAIR]], %c4 : index
// CHECK: %[[SWIZZLED:.*]] = arith.xori %[[CHUNK]], %[[PHASE]] : index
// CHECK: %[[COLUMN:.*]] = arith.muli %[[SWIZZLED]], %c8 : index
// CHECK: %[[APTR:.*]] = memref.extract_aligned_pointer_as_index %[[AT]]
// CHECK: %[[A64:.*]] = arith.index_castui %[[APTR]] : index to i64
// CHECK: %[[WG64:.*]] = arith.index_castui %[[WG]] : index to i64
// CHECK: %[[WGOFFSET:.*]] = arith.muli %[[WG64]], %c4096_i64 : i64
// CHECK: %[[ABASE:.*]] = arith.addi %[[A64]], %[[WGOFFSET]] : i64
// CHECK: memref.extract_aligned_pointer_as_index %[[BT]]
// CHECK: nvgpu.device_async_copy %arg0[{{.*}}], %[[AT]][%c0, %[[ROW]], %[[COLUMN]]], 8 {bypassL1}
// CHECK-COUNT-6: nvgpu.device_async_create_group
// CHECK-NOT: nvgpu.device_async_create_group
// CHECK: %[[ACC:.*]] = scf.for %{{.*}} = %c0 to %c256 step %c32 iter_args(%[[IN:.*]] = %[[ZERO]])
// CHECK: nvvm.cp.async.wait.group 5
// CHECK-NEXT: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK-NEXT: gpu.barrier
// CHECK-COUNT-2: nvgpu.device_async_copy %arg0
// CHECK-COUNT-4: nvgpu.device_async_copy %arg1
// CHECK-NEXT: nvgpu.device_async_create_group
// CHECK: nvvm.wgmma.fence.aligned
// CHECK: %[[ASTAGE:.*]] = arith.muli %{{.*}}, %c8192_i64 : i64
// CHECK: arith.addi %[[ABASE]], %[[ASTAGE]] : i64
// CHECK: arith.ori %{{.*}}, %c-9223371899415756800_i64 : i64
// CHECK: arith.muli %{{.*}}, %c16384_i64 : i64
// CHECK: %[[D1:.*]] = nvvm.wgmma.mma_async %{{.*}}, %{{.*}}, %[[IN]], <m = 64, n = 256, k = 16>, D[<f32>, <one>], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <col>]
// CHECK: arith.addi %{{.*}}, %c32_i64 : i64
// CHECK: %[[D2:.*]] = nvvm.wgmma.mma_async %{{.*}}, %{{.*}}, %[[D1]], <m = 64, n = 256, k = 16>
// CHECK-NEXT: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 1
// CHECK-NEXT: scf.yield %[[D2]]
// CHECK: nvvm.cp.async.wait.group 0
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: llvm.extractvalue %[[ACC]][0]
// CHECK: llvm.extractvalue %[[ACC]][127]
// CHECK-NOT: nvvm.mma.sync
func.func @prefill_wgmma(%x: memref<1x40x256xbf16>, %w: memref<200x256xbf16>, %y: memref<1x40x200xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %w : memref<1x40x256xbf16>, memref<200x256xbf16>) outs(%y : memref<1x40x200xf32>) {
  ^bb0(%a: bf16, %b: bf16, %acc: f32):
    %ea = arith.extf %a : bf16 to f32
    %eb = arith.extf %b : bf16 to f32
    %p = arith.mulf %ea, %eb : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// f32 activations (--gemm-precision f32: bf16 hi + lo terms) stay on
// mma.sync, which reads its fragments from registers.

#x = affine_map<(b, n, s, k) -> (b, s, k)>
#w = affine_map<(b, n, s, k) -> (n, k)>
#y = affine_map<(b, n, s, k) -> (b, s, n)>
// CHECK-LABEL: func.func @f32_activations
// CHECK-NOT: nvvm.wgmma
// CHECK: nvvm.mma.sync
// CHECK-NOT: nvvm.wgmma
func.func @f32_activations(%x: memref<1x40x64xf32>, %w: memref<200x64xbf16>, %y: memref<1x40x200xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %w : memref<1x40x64xf32>, memref<200x64xbf16>) outs(%y : memref<1x40x200xf32>) {
  ^bb0(%a: f32, %b: bf16, %acc: f32):
    %e = arith.extf %b : bf16 to f32
    %p = arith.mulf %a, %e : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}
