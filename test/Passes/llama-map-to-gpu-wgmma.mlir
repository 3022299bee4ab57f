// RUN: llamac-opt %s -split-input-file --llama-map-to-gpu=wgmma=true --canonicalize --cse | FileCheck %s

// wgmma (sm_90a): the block's 4 warps are one warpgroup and its 64 x 128
// tile one m64n128 accumulator, an LLVM struct of 64 floats a thread
// carried through the loop. The tiles are stored as the tensor cores read
// them: 64-byte rows, 16-byte chunk c of row r at position c ^ (r / 2 % 4)
// (the 64-byte swizzle). Four stages of 12 KB; a slice's wgmma group stays
// in flight through the next iteration, so the copies run two slices
// ahead (not three): two before the loop, at most one group in flight at
// the wait. Each iteration: the copies made visible to the async proxy,
// a barrier, the next slice's copies, then two k-steps as one group, whose
// descriptors hold the stage's address (4,096 bytes a stage of A, 8,192
// of B, +32 bytes a k-step), the 512-byte stride of 8-row groups and the
// swizzle mode (0x8000002000010000), and a wait for the previous group.
// After the loop nothing may stay in flight; the accumulators are stored
// in the mma.sync tiles' layout.

#x = affine_map<(b, n, s, k) -> (b, s, k)>
#w = affine_map<(b, n, s, k) -> (n, k)>
#y = affine_map<(b, n, s, k) -> (b, s, n)>
// CHECK-LABEL: func.func @prefill_wgmma
// CHECK: %[[ZERO:.*]] = llvm.mlir.zero : !llvm.struct<({{(f32, )+}}f32)>
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c2, %{{.*}} = %c1, %{{.*}} = %c1) threads({{.*}}) in (%{{.*}} = %c128, %{{.*}} = %c1, %{{.*}} = %c1) module(@prefill_wgmma_op_mma) function(@prefill_wgmma_op_mma) workgroup(%[[AT:.*]] : memref<4x64x32xbf16, #gpu.address_space<workgroup>>, %[[BT:.*]] : memref<4x128x32xbf16, #gpu.address_space<workgroup>>)
// CHECK: %[[CHUNK:.*]] = arith.remui %[[TID:arg[0-9]+]], %c4 : index
// CHECK: %[[ROW:.*]] = arith.divui %[[TID]], %c4 : index
// CHECK: %[[PAIR:.*]] = arith.divui %[[ROW]], %c2 : index
// CHECK: %[[PHASE:.*]] = arith.remui %[[PAIR]], %c4 : index
// CHECK: %[[SWIZZLED:.*]] = arith.xori %[[CHUNK]], %[[PHASE]] : index
// CHECK: %[[COLUMN:.*]] = arith.muli %[[SWIZZLED]], %c8 : index
// CHECK: memref.extract_aligned_pointer_as_index %[[AT]]
// CHECK: memref.extract_aligned_pointer_as_index %[[BT]]
// CHECK: nvgpu.device_async_copy %arg0[{{.*}}], %[[AT]][%c0, %[[ROW]], %[[COLUMN]]], 8 {bypassL1}
// CHECK-COUNT-2: nvgpu.device_async_create_group
// CHECK-NOT: nvgpu.device_async_create_group
// CHECK: %[[ACC:.*]] = scf.for %{{.*}} = %c0 to %c256 step %c32 iter_args(%[[IN:.*]] = %[[ZERO]])
// CHECK: nvvm.cp.async.wait.group 1
// CHECK-NEXT: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK-NEXT: gpu.barrier
// CHECK-COUNT-6: nvgpu.device_async_copy
// CHECK: nvgpu.device_async_create_group
// CHECK: nvvm.wgmma.fence.aligned
// CHECK: arith.muli %{{.*}}, %c4096_i64 : i64
// CHECK: arith.ori %{{.*}}, %c-9223371899415756800_i64 : i64
// CHECK: arith.muli %{{.*}}, %c8192_i64 : i64
// CHECK: %[[D1:.*]] = nvvm.wgmma.mma_async %{{.*}}, %{{.*}}, %[[IN]], <m = 64, n = 128, k = 16>, D[<f32>, <one>], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <col>]
// CHECK: arith.addi %{{.*}}, %c32_i64 : i64
// CHECK: %[[D2:.*]] = nvvm.wgmma.mma_async %{{.*}}, %{{.*}}, %[[D1]], <m = 64, n = 128, k = 16>
// CHECK-NEXT: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 1
// CHECK-NEXT: scf.yield %[[D2]]
// CHECK: nvvm.cp.async.wait.group 0
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: llvm.extractvalue %[[ACC]][0]
// CHECK: llvm.extractvalue %[[ACC]][63]
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
