// RUN: llamac-opt %s -split-input-file --llama-map-to-gpu --canonicalize --cse | FileCheck %s

// A linear layer over a prefill chunk with bf16 weights: mma.sync tiles.
// 40 tokens x 200 features: blocks of 64 x 128 (4 warps of 32 x 64), 1 x 2
// of them; rows and columns past the end are clamped for the copies (39,
// 199) and not stored. Each slice of 32 of the depth goes into shared
// memory by cp.async (per thread 4 x 16 bytes of f32 activations, 4 of
// weights) in a ring of stages: two with f32 activations (17 KB a stage of
// the 48 KB). The first slice goes out before the loop; each iteration
// waits for all but the newest (stages - 2 = 0) groups, a barrier, sends
// the next slice into the other stage, then each thread reads 8
// consecutive activations of 4 rows and 8 weights of 8 columns from the
// tiles, splits the activations into bf16 hi + lo, and issues 2 k-steps x
// 2 x 8 tiles x (lo, hi) mmas.

#x = affine_map<(b, n, s, k) -> (b, s, k)>
#w = affine_map<(b, n, s, k) -> (n, k)>
#y = affine_map<(b, n, s, k) -> (b, s, n)>
// CHECK-LABEL: func.func @prefill_bf16
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c2, %{{.*}} = %c1, %{{.*}} = %c1) threads({{.*}}) in (%{{.*}} = %c128, %{{.*}} = %c1, %{{.*}} = %c1) module(@prefill_bf16_layers_0_mlp_down_proj_mma) function(@prefill_bf16_layers_0_mlp_down_proj_mma) workgroup(%[[AT:.*]] : memref<2x64x36xf32, #gpu.address_space<workgroup>>, %[[BT:.*]] : memref<2x128x32xbf16, #gpu.address_space<workgroup>>)
// CHECK-DAG: arith.minui %{{.*}}, %c39 : index
// CHECK-DAG: arith.minui %{{.*}}, %c199 : index
// CHECK-COUNT-4: nvgpu.device_async_copy %arg0[{{.*}}], %[[AT]][%c0, {{.*}}], 4 {bypassL1} : memref<1x40x64xf32> to memref<2x64x36xf32, #gpu.address_space<workgroup>>
// CHECK-COUNT-4: nvgpu.device_async_copy %arg1[{{.*}}], %[[BT]][%c0, {{.*}}], 8 {bypassL1} : memref<200x64xbf16> to memref<2x128x32xbf16, #gpu.address_space<workgroup>>
// CHECK: nvgpu.device_async_create_group
// CHECK: %[[ACC:.*]]:64 = scf.for %[[K:.*]] = %c0 to %c64 step %c32 iter_args(
// CHECK: nvvm.cp.async.wait.group 0
// CHECK-NEXT: gpu.barrier
// CHECK-COUNT-8: nvgpu.device_async_copy
// CHECK: nvgpu.device_async_create_group
// CHECK-COUNT-4: vector.load %[[AT]][{{.*}}] {alignment = 16 : i64} : memref<2x64x36xf32, #gpu.address_space<workgroup>>, vector<8xf32>
// CHECK-COUNT-8: vector.load %[[BT]][{{.*}}] {alignment = 16 : i64} : memref<2x128x32xbf16, #gpu.address_space<workgroup>>, vector<8xbf16>
// CHECK: %[[HI:.*]] = arith.truncf %{{.*}} : vector<8xf32> to vector<8xbf16>
// CHECK: %[[BACK:.*]] = arith.extf %[[HI]] : vector<8xbf16> to vector<8xf32>
// CHECK: %[[REST:.*]] = arith.subf %{{.*}}, %[[BACK]] : vector<8xf32>
// CHECK: vector.bitcast %[[HI]] : vector<8xbf16> to vector<4xi32>
// CHECK: arith.truncf %[[REST]] : vector<8xf32> to vector<8xbf16>
// CHECK-COUNT-64: nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK-NOT: nvvm.mma.sync
// CHECK-NOT: gpu.barrier
// CHECK: scf.yield
// CHECK: nvvm.cp.async.wait.group 0
// The output was not known to be zero (an argument): each sum is added.
// CHECK: %[[IN:.*]] = arith.andi
// CHECK: scf.if %[[IN]] {
// CHECK: %[[OLD:.*]] = memref.load %arg2
// CHECK: %[[NEW:.*]] = arith.addf %[[OLD]], %[[ACC]]#0 : f32
// CHECK: memref.store %[[NEW]], %arg2
func.func @prefill_bf16(%x: memref<1x40x64xf32>, %w: memref<200x64xbf16>, %y: memref<1x40x200xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %w : memref<1x40x64xf32>, memref<200x64xbf16>) outs(%y : memref<1x40x200xf32>) {
  ^bb0(%a: f32, %b: bf16, %acc: f32):
    %e = arith.extf %b : bf16 to f32
    %p = arith.mulf %a, %e : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } loc("model.layers.0.mlp.down_proj")
  return
}

// -----

// bf16 activations (llama-narrow-gemm-activations): 64-byte tile rows (no
// padding), 12 KB a stage, four would fit; a loop this short (8 slices,
// under 96) takes three. Two slices go out before the loop (2 copies of
// activations and 4 of weights a thread each); each iteration waits until
// at most one group is in flight, a barrier, sends the slice two ahead
// into the stage the previous iteration read, and issues one mma a tile:
// 2 k-steps x 2 x 8.

#x = affine_map<(b, n, s, k) -> (b, s, k)>
#w = affine_map<(b, n, s, k) -> (n, k)>
#y = affine_map<(b, n, s, k) -> (b, s, n)>
// CHECK-LABEL: func.func @prefill_bf16_activations
// CHECK: module(@prefill_bf16_activations_op_mma) function(@prefill_bf16_activations_op_mma) workgroup(%[[AT:.*]] : memref<3x64x32xbf16, #gpu.address_space<workgroup>>, %[[BT:.*]] : memref<3x128x32xbf16, #gpu.address_space<workgroup>>)
// CHECK-COUNT-2: nvgpu.device_async_copy %arg0[{{.*}}], %[[AT]][%c0, {{.*}}], 8 {bypassL1} : memref<1x40x256xbf16> to memref<3x64x32xbf16, #gpu.address_space<workgroup>>
// CHECK-COUNT-4: nvgpu.device_async_copy %arg1[{{.*}}], %[[BT]][%c0, {{.*}}], 8 {bypassL1}
// CHECK: nvgpu.device_async_create_group
// CHECK-COUNT-6: nvgpu.device_async_copy {{.*}}[%c1,
// CHECK: nvgpu.device_async_create_group
// CHECK: scf.for %{{.*}} = %c0 to %c256 step %c32 iter_args(
// CHECK: nvvm.cp.async.wait.group 1
// CHECK-NEXT: gpu.barrier
// CHECK-COUNT-6: nvgpu.device_async_copy
// CHECK: nvgpu.device_async_create_group
// CHECK-COUNT-4: vector.load %[[AT]][{{.*}}] {alignment = 16 : i64} : memref<3x64x32xbf16, #gpu.address_space<workgroup>>, vector<8xbf16>
// CHECK-COUNT-8: vector.load %[[BT]][{{.*}}] {alignment = 16 : i64} : memref<3x128x32xbf16, #gpu.address_space<workgroup>>, vector<8xbf16>
// CHECK-NOT: arith.truncf
// CHECK-COUNT-32: nvvm.mma.sync
// CHECK-NOT: nvvm.mma.sync
// CHECK: scf.yield
func.func @prefill_bf16_activations(%x: memref<1x40x256xbf16>, %w: memref<200x256xbf16>, %y: memref<1x40x200xf32>) {
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

// A long loop: 2 x 200 blocks, unsplit, 96 slices each: four stages, three
// slices out before the loop, at most two groups in flight.

#x = affine_map<(s, n, k) -> (s, k)>
#w = affine_map<(s, n, k) -> (n, k)>
#y = affine_map<(s, n, k) -> (s, n)>
// CHECK-LABEL: func.func @long_loop
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c400, {{.*}} workgroup(%{{.*}} : memref<4x64x32xbf16, #gpu.address_space<workgroup>>, %{{.*}} : memref<4x128x32xbf16, #gpu.address_space<workgroup>>)
// CHECK-COUNT-3: nvgpu.device_async_create_group
// CHECK: scf.for
// CHECK: nvvm.cp.async.wait.group 2
func.func @long_loop(%x: memref<128x3072xbf16>, %w: memref<25600x3072xbf16>, %y: memref<128x25600xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<128x3072xbf16>, memref<25600x3072xbf16>) outs(%y : memref<128x25600xf32>) {
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

// A zero-filled temporary: the fill goes and the tiles are stored.

#x = affine_map<(b, n, s, k) -> (b, s, k)>
#w = affine_map<(b, n, s, k) -> (n, k)>
#y = affine_map<(b, n, s, k) -> (b, s, n)>
// CHECK-LABEL: func.func @prefill_stored
// CHECK-NOT: _fill
// CHECK: module(@prefill_stored_op_mma)
// CHECK: scf.yield
// CHECK-NOT: memref.load
// CHECK: memref.store %{{.*}}#0,
// CHECK: gpu.launch {{.*}}_copy
func.func @prefill_stored(%x: memref<1x16x64xf32>, %w: memref<128x64xbf16>, %out: memref<1x16x128xf32>) {
  %zero = arith.constant 0.0 : f32
  %y = memref.alloc() : memref<1x16x128xf32>
  linalg.fill ins(%zero : f32) outs(%y : memref<1x16x128xf32>)
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %w : memref<1x16x64xf32>, memref<128x64xbf16>) outs(%y : memref<1x16x128xf32>) {
  ^bb0(%a: f32, %b: bf16, %acc: f32):
    %e = arith.extf %b : bf16 to f32
    %p = arith.mulf %a, %e : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  memref.copy %y, %out : memref<1x16x128xf32> to memref<1x16x128xf32>
  return
}

// -----

// Where mma.sync does not apply, the warp-per-output dot stays: one token
// (decode), f32 weights (tensor cores would round them), a depth that is not
// a multiple of 32.

#x = affine_map<(b, n, s, k) -> (b, s, k)>
#w = affine_map<(b, n, s, k) -> (n, k)>
#y = affine_map<(b, n, s, k) -> (b, s, n)>
// CHECK-LABEL: func.func @no_mma
// CHECK-NOT: nvvm.mma.sync
// CHECK: module(@no_mma_op_dot)
// CHECK-NOT: nvvm.mma.sync
// CHECK: module(@no_mma_op_dot_1)
// CHECK-NOT: nvvm.mma.sync
// CHECK: module(@no_mma_op_dot_2)
// CHECK-NOT: nvvm.mma.sync
func.func @no_mma(%x1: memref<1x1x64xf32>, %w: memref<128x64xbf16>, %y1: memref<1x1x128xf32>,
                  %x: memref<1x16x64xf32>, %wf: memref<128x64xf32>, %y: memref<1x16x128xf32>,
                  %x48: memref<1x16x48xf32>, %w48: memref<128x48xbf16>) {
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x1, %w : memref<1x1x64xf32>, memref<128x64xbf16>) outs(%y1 : memref<1x1x128xf32>) {
  ^bb0(%a: f32, %b: bf16, %acc: f32):
    %e = arith.extf %b : bf16 to f32
    %p = arith.mulf %a, %e : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %wf : memref<1x16x64xf32>, memref<128x64xf32>) outs(%y : memref<1x16x128xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x48, %w48 : memref<1x16x48xf32>, memref<128x48xbf16>) outs(%y : memref<1x16x128xf32>) {
  ^bb0(%a: f32, %b: bf16, %acc: f32):
    %e = arith.extf %b : bf16 to f32
    %p = arith.mulf %a, %e : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// One block of tiles (16 x 128) over 512 of depth (16 slices of 32): split-k
// in 2 blocks of 8 slices each; their partial tiles go to a temporary and a
// second kernel, a thread per output element, adds them in split order.

#x = affine_map<(b, n, s, k) -> (b, s, k)>
#w = affine_map<(b, n, s, k) -> (n, k)>
#y = affine_map<(b, n, s, k) -> (b, s, n)>
// CHECK-LABEL: func.func @split_k
// CHECK: %[[PARTIAL:.*]], %{{.*}} = gpu.alloc async [%{{.*}}] () : memref<2x16x128xf32>
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c2, {{.*}} module(@split_k_op_mma)
// CHECK: %[[BEGIN:.*]] = arith.muli %[[SPLIT:.*]], %c256 : index
// CHECK: %[[END:.*]] = arith.addi %[[BEGIN]], %c256 : index
// CHECK: %[[ACC:.*]]:64 = scf.for %{{.*}} = %[[BEGIN]] to %[[END]] step %c32
// CHECK: memref.store %[[ACC]]#0, %[[PARTIAL]][%[[SPLIT]], %{{.*}}, %{{.*}}] : memref<2x16x128xf32>
// CHECK: gpu.launch {{.*}} module(@split_k_op_mma_sum)
// CHECK: %[[P0:.*]] = memref.load %[[PARTIAL]][%c0, %{{.*}}, %{{.*}}]
// CHECK: %[[P1:.*]] = memref.load %[[PARTIAL]][%c1, %{{.*}}, %{{.*}}]
// CHECK: %[[SUM:.*]] = arith.addf %[[P0]], %[[P1]] : f32
// CHECK: %[[OLD:.*]] = memref.load %arg2
// CHECK: %[[NEW:.*]] = arith.addf %[[OLD]], %[[SUM]] : f32
// CHECK: memref.store %[[NEW]], %arg2
// CHECK: gpu.dealloc async [%{{.*}}] %[[PARTIAL]]
func.func @split_k(%x: memref<1x16x512xf32>, %w: memref<128x512xbf16>, %y: memref<1x16x128xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %w : memref<1x16x512xf32>, memref<128x512xbf16>) outs(%y : memref<1x16x128xf32>) {
  ^bb0(%a: f32, %b: bf16, %acc: f32):
    %e = arith.extf %b : bf16 to f32
    %p = arith.mulf %a, %e : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// The 1B's gate and up projections over a 128-token chunk: 2 x 128 blocks
// of tiles, 256 (depth 2,048: 64 slices). Two splits would make 512 blocks,
// more than the ~400 that fit the GPU at once, so the depth is not split:
// no partial tiles, no sum kernel.

#x = affine_map<(s, n, k) -> (s, k)>
#w = affine_map<(s, n, k) -> (n, k)>
#y = affine_map<(s, n, k) -> (s, n)>
// CHECK-LABEL: func.func @one_wave_unsplit
// CHECK-NOT: gpu.alloc
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c256, {{.*}} module(@one_wave_unsplit_op_mma)
// CHECK-NOT: gpu.launch
func.func @one_wave_unsplit(%x: memref<128x2048xf32>, %w: memref<16384x2048xbf16>, %y: memref<128x16384xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<128x2048xf32>, memref<16384x2048xbf16>) outs(%y : memref<128x16384xf32>) {
  ^bb0(%a: f32, %b: bf16, %acc: f32):
    %e = arith.extf %b : bf16 to f32
    %p = arith.mulf %a, %e : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// The down projection over the same chunk: 2 x 16 blocks of tiles, 32;
// the depth (8,192: 256 slices) is split 8 ways (256 blocks; 16 would be
// 512), 32 slices a split.

#x = affine_map<(s, n, k) -> (s, k)>
#w = affine_map<(s, n, k) -> (n, k)>
#y = affine_map<(s, n, k) -> (s, n)>
// CHECK-LABEL: func.func @split_to_one_wave
// CHECK: gpu.alloc async [%{{.*}}] () : memref<8x128x2048xf32>
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c256, {{.*}} module(@split_to_one_wave_op_mma)
// CHECK: gpu.launch {{.*}} module(@split_to_one_wave_op_mma_sum)
func.func @split_to_one_wave(%x: memref<128x8192xf32>, %w: memref<2048x8192xbf16>, %y: memref<128x2048xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<128x8192xf32>, memref<2048x8192xbf16>) outs(%y : memref<128x2048xf32>) {
  ^bb0(%a: f32, %b: bf16, %acc: f32):
    %e = arith.extf %b : bf16 to f32
    %p = arith.mulf %a, %e : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}
