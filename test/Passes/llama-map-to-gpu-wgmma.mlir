// RUN: llamac-opt %s -split-input-file --llama-map-to-gpu=wgmma=true --canonicalize --cse | FileCheck %s

// wgmma (sm_90a): a block is two warpgroups (256 threads) and a 128 x 256
// tile, each warpgroup's 64 x 256 one m64n256 accumulator, an LLVM struct
// of 128 floats a thread carried through the loop. The tiles live in
// dynamic shared memory: a depth that is a multiple of 64 goes in 64-deep
// slices, four stages of 16 KB of A and 32 KB of B from its first
// 1,024-byte-aligned byte (196,608 + 1,024 bytes asked for; the runtime
// opts the kernel in above 48 KB). They are stored as the tensor cores read
// them: 128-byte rows, 16-byte chunk c of row r at position c ^ (r % 8)
// (the 128-byte swizzle). A slice's wgmma group stays in flight through the
// next iteration, so the copies run two slices ahead (not three): two
// before the loop, at most one group in flight at the wait. Each
// iteration: the copies made visible to the async proxy, a barrier, the
// next slice's copies (4 of A, 8 of B a thread), then four k-steps as one
// group, whose descriptors hold the stage's address (16,384 bytes a stage
// of A, the second warpgroup 8,192 further; 32,768 of B; +32 bytes a
// k-step), the 1,024-byte stride of 8-row groups and the swizzle mode
// (0x4000004000010000), and a wait for the previous group. After the loop
// nothing may stay in flight; the accumulators leave through the stages'
// shared memory: each thread's pairs (the mma.sync tiles' layout) into a
// 128 x 264 f32 tile (rows padded by 8 floats), a barrier, then 32 runs of
// 4 floats a thread, 64 threads a row, each added to the output (not
// zero-filled here) by one 16-byte load and store.

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
// CHECK: %[[AT:.*]] = memref.view %[[RAW]][%[[SHIFT]]][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<4x128x64xbf16, #gpu.address_space<workgroup>>
// CHECK: %[[BSHIFT:.*]] = arith.addi %[[SHIFT]], %c65536 : index
// CHECK: %[[BT:.*]] = memref.view %[[RAW]][%[[BSHIFT]]][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<4x256x64xbf16, #gpu.address_space<workgroup>>
// CHECK: %[[CHUNK:.*]] = arith.remui %[[TID:arg[0-9]+]], %c8 : index
// CHECK: %[[ROW:.*]] = arith.divui %[[TID]], %c8 : index
// CHECK: %[[PHASE:.*]] = arith.remui %[[ROW]], %c8 : index
// CHECK: %[[SWIZZLED:.*]] = arith.xori %[[CHUNK]], %[[PHASE]] : index
// CHECK: %[[COLUMN:.*]] = arith.muli %[[SWIZZLED]], %c8 : index
// CHECK: %[[APTR:.*]] = memref.extract_aligned_pointer_as_index %[[AT]]
// CHECK: %[[A64:.*]] = arith.index_castui %[[APTR]] : index to i64
// CHECK: %[[WG64:.*]] = arith.index_castui %[[WG]] : index to i64
// CHECK: %[[WGOFFSET:.*]] = arith.muli %[[WG64]], %c8192_i64 : i64
// CHECK: %[[ABASE:.*]] = arith.addi %[[A64]], %[[WGOFFSET]] : i64
// CHECK: memref.extract_aligned_pointer_as_index %[[BT]]
// CHECK: nvgpu.device_async_copy %arg0[{{.*}}], %[[AT]][%c0, %[[ROW]], %[[COLUMN]]], 8 {bypassL1}
// CHECK-COUNT-2: nvgpu.device_async_create_group
// CHECK-NOT: nvgpu.device_async_create_group
// CHECK: %[[ACC:.*]] = scf.for %{{.*}} = %c0 to %c256 step %c64 iter_args(%[[IN:.*]] = %[[ZERO]])
// CHECK: nvvm.cp.async.wait.group 1
// CHECK-NEXT: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK-NEXT: gpu.barrier
// CHECK-COUNT-4: nvgpu.device_async_copy %arg0
// CHECK-COUNT-8: nvgpu.device_async_copy %arg1
// CHECK-NEXT: nvgpu.device_async_create_group
// CHECK: nvvm.wgmma.fence.aligned
// CHECK: %[[ASTAGE:.*]] = arith.muli %{{.*}}, %c16384_i64 : i64
// CHECK: arith.addi %[[ABASE]], %[[ASTAGE]] : i64
// CHECK: arith.ori %{{.*}}, %c4611686293305360384_i64 : i64
// CHECK: arith.muli %{{.*}}, %c32768_i64 : i64
// CHECK: %[[D1:.*]] = nvvm.wgmma.mma_async %{{.*}}, %{{.*}}, %[[IN]], <m = 64, n = 256, k = 16>, D[<f32>, <one>], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <col>]
// CHECK: arith.addi %{{.*}}, %c32_i64 : i64
// CHECK: %[[D2:.*]] = nvvm.wgmma.mma_async %{{.*}}, %{{.*}}, %[[D1]], <m = 64, n = 256, k = 16>
// CHECK: arith.addi %{{.*}}, %c64_i64 : i64
// CHECK: %[[D3:.*]] = nvvm.wgmma.mma_async %{{.*}}, %{{.*}}, %[[D2]], <m = 64, n = 256, k = 16>
// CHECK: arith.addi %{{.*}}, %c96_i64 : i64
// CHECK: %[[D4:.*]] = nvvm.wgmma.mma_async %{{.*}}, %{{.*}}, %[[D3]], <m = 64, n = 256, k = 16>
// CHECK-NEXT: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 1
// CHECK-NEXT: scf.yield %[[D4]]
// CHECK: nvvm.cp.async.wait.group 0
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-NEXT: %[[OUT:.*]] = memref.view %[[RAW]][%[[SHIFT]]][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<128x264xf32, #gpu.address_space<workgroup>>
// CHECK-NEXT: gpu.barrier
// CHECK: llvm.extractvalue %[[ACC]][0]
// CHECK-COUNT-64: vector.store %{{.*}}, %[[OUT]][%{{.*}}, %{{.*}}] {alignment = 8 : i64} : memref<128x264xf32, #gpu.address_space<workgroup>>, vector<2xf32>
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: %[[R:.*]] = arith.divui %[[TID]], %c64 : index
// CHECK-NEXT: %[[C4:.*]] = arith.remui %[[TID]], %c64 : index
// CHECK-NEXT: %[[C:.*]] = arith.muli %[[C4]], %c4 : index
// CHECK: scf.if
// CHECK-NEXT: %[[TILEROW:.*]] = vector.load %[[OUT]][%[[R]], %[[C]]] {alignment = 16 : i64} : memref<128x264xf32, #gpu.address_space<workgroup>>, vector<4xf32>
// CHECK: %[[OLD:.*]] = vector.load %arg2[%c0, %{{.*}}, %{{.*}}] {alignment = 16 : i64} : memref<1x40x200xf32>, vector<4xf32>
// CHECK-NEXT: %[[SUM:.*]] = arith.addf %[[OLD]], %[[TILEROW]] : vector<4xf32>
// CHECK-NEXT: vector.store %[[SUM]], %arg2[%c0, %{{.*}}, %{{.*}}] {alignment = 16 : i64} : memref<1x40x200xf32>, vector<4xf32>
// CHECK-COUNT-31: vector.store %{{.*}}, %arg2
// CHECK-NOT: vector.store
// CHECK-NOT: memref.store
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

// A depth that is not a multiple of 64 (288) keeps 32-deep slices:
// 64-byte rows with the 64-byte swizzle (chunk c of row r at c ^ (r / 2 %
// 4); descriptors with the 512-byte stride and mode 2,
// 0x8000002000010000), eight stages of 8 KB of A and 16 KB of B, the copies
// six slices ahead (2 of A, 4 of B a thread), two k-steps a group.

#x = affine_map<(b, n, s, k) -> (b, s, k)>
#w = affine_map<(b, n, s, k) -> (n, k)>
#y = affine_map<(b, n, s, k) -> (b, s, n)>
// CHECK-LABEL: func.func @shallow_slices
// CHECK: gpu.launch {{.*}} dynamic_shared_memory_size %c197632_i32
// CHECK: memref.view {{.*}} to memref<8x128x32xbf16, #gpu.address_space<workgroup>>
// CHECK: %[[BSHIFT:.*]] = arith.addi %{{.*}}, %c65536 : index
// CHECK: memref.view {{.*}}[%[[BSHIFT]]][] : {{.*}} to memref<8x256x32xbf16, #gpu.address_space<workgroup>>
// CHECK: %[[CHUNK:.*]] = arith.remui %[[TID:arg[0-9]+]], %c4 : index
// CHECK: %[[ROW:.*]] = arith.divui %[[TID]], %c4 : index
// CHECK: %[[PAIR:.*]] = arith.divui %[[ROW]], %c2 : index
// CHECK: %[[PHASE:.*]] = arith.remui %[[PAIR]], %c4 : index
// CHECK: arith.xori %[[CHUNK]], %[[PHASE]] : index
// CHECK-COUNT-6: nvgpu.device_async_create_group
// CHECK-NOT: nvgpu.device_async_create_group
// CHECK: scf.for %{{.*}} = %c0 to %c288 step %c32
// CHECK: nvvm.cp.async.wait.group 5
// CHECK-COUNT-2: nvgpu.device_async_copy %arg0
// CHECK-COUNT-4: nvgpu.device_async_copy %arg1
// CHECK: arith.muli %{{.*}}, %c8192_i64 : i64
// CHECK: arith.ori %{{.*}}, %c-9223371899415756800_i64 : i64
// CHECK-COUNT-2: nvvm.wgmma.mma_async
// CHECK-NEXT: nvvm.wgmma.commit.group.sync.aligned
func.func @shallow_slices(%x: memref<1x40x288xbf16>, %w: memref<200x288xbf16>, %y: memref<1x40x200xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %w : memref<1x40x288xbf16>, memref<200x288xbf16>) outs(%y : memref<1x40x200xf32>) {
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

// Split-k by waves (blocks one an SM, 132 SMs): 512 x 2,048 over a depth of
// 2,048 is 4 x 8 = 32 blocks, a quarter of a wave: 4 splits (128 blocks, a
// wave) beat 2 (half the SMs idle) and 8 (two waves plus twice the partial
// sums); each split stores its partial tile as 16-byte runs, and a second
// kernel adds the 4 partial tiles in split order (and the
// output's own value: the generic accumulates into it).

#x = affine_map<(b, n, s, k) -> (b, s, k)>
#w = affine_map<(b, n, s, k) -> (n, k)>
#y = affine_map<(b, n, s, k) -> (b, s, n)>
// CHECK-LABEL: func.func @split_by_waves
// CHECK: gpu.alloc async [%{{.*}}] () : memref<4x512x2048xf32>
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c128, %{{.*}} = %c1, %{{.*}} = %c1)
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c64
// CHECK: vector.store %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}] {alignment = 16 : i64} : memref<4x512x2048xf32>, vector<4xf32>
// CHECK: gpu.launch {{.*}} module(@split_by_waves_op_mma_sum)
// CHECK-COUNT-4: memref.load %{{.*}} : memref<4x512x2048xf32>
// CHECK-NEXT: arith.addf
// CHECK-NEXT: arith.addf
// CHECK-NEXT: arith.addf
// CHECK: memref.store
func.func @split_by_waves(%x: memref<1x512x2048xbf16>, %w: memref<2048x2048xbf16>, %y: memref<1x512x2048xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %w : memref<1x512x2048xbf16>, memref<2048x2048xbf16>) outs(%y : memref<1x512x2048xf32>) {
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

// 512 x 6,144 over 4,096 (the 8B's q+k+v) is 96 blocks: splitting in 2
// gives 192, two waves of the same length as one unsplit, plus the sums;
// not split.

#x = affine_map<(b, n, s, k) -> (b, s, k)>
#w = affine_map<(b, n, s, k) -> (n, k)>
#y = affine_map<(b, n, s, k) -> (b, s, n)>
// CHECK-LABEL: func.func @whole_waves
// CHECK-NOT: gpu.alloc
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c96, %{{.*}} = %c1, %{{.*}} = %c1)
// CHECK-NOT: _mma_sum
// CHECK: return
func.func @whole_waves(%x: memref<1x512x4096xbf16>, %w: memref<6144x4096xbf16>, %y: memref<1x512x6144xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %w : memref<1x512x4096xbf16>, memref<6144x4096xbf16>) outs(%y : memref<1x512x6144xf32>) {
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

// -----

// An output whose rows are no multiple of 4 floats (202 columns) keeps the
// accumulators' own stores: one guarded 4-byte store each, in the mma.sync
// tiles' layout, no shared-memory tile.

#x = affine_map<(b, n, s, k) -> (b, s, k)>
#w = affine_map<(b, n, s, k) -> (n, k)>
#y = affine_map<(b, n, s, k) -> (b, s, n)>
// CHECK-LABEL: func.func @odd_columns
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-NOT: memref<128x264xf32
// CHECK-NOT: vector<4xf32>
// CHECK: llvm.extractvalue %{{.*}}[0]
// CHECK: memref.store %{{.*}}, %arg2[%c0, %{{.*}}, %{{.*}}] : memref<1x40x202xf32>
func.func @odd_columns(%x: memref<1x40x256xbf16>, %w: memref<202x256xbf16>, %y: memref<1x40x202xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %w : memref<1x40x256xbf16>, memref<202x256xbf16>) outs(%y : memref<1x40x202xf32>) {
  ^bb0(%a: bf16, %b: bf16, %acc: f32):
    %ea = arith.extf %a : bf16 to f32
    %eb = arith.extf %b : bf16 to f32
    %p = arith.mulf %ea, %eb : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}
