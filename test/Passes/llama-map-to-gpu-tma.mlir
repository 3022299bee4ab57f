// RUN: llamac-opt %s -split-input-file --llama-map-to-gpu="wgmma=true tma=true" --canonicalize --cse | FileCheck %s

// wgmma with the tma option (experimental: wrong in a GEMM of more than one
// wave on an H200, KERNEL_NOTES session 21): before
// the launch, the host code asks the runtime for each operand's tensor map
// (a box of 128 rows of 64 bf16 for the activations, 256 for the weights);
// in the kernel, thread 0 sets up an mbarrier a stage (one arrival), the
// barriers' initialization is fenced and waited for by the block, and
// thread 0 (a branch: a predicate may fold to a constant, which the ops'
// inline assembly cannot take) loads the first two stages (their expected 48 KB, then one
// cp.async.bulk.tensor a tile at (depth, row, 0) of the operand's
// dimensions); each iteration waits for its stage's phase, whose parity is
// (slice / 4) % 2, then a barrier, then thread 0 loads the slice two ahead
// when it is inside the depth (4 slices here): no load left in flight at
// exit. After the loop a barrier (every thread past its last wait), then
// thread 0 invalidates the four barriers (the grid's next block on the SM
// initializes the same addresses; PTX leaves init on a valid barrier
// undefined). No cp.async.

#x = affine_map<(b, n, s, k) -> (b, s, k)>
#w = affine_map<(b, n, s, k) -> (n, k)>
#y = affine_map<(b, n, s, k) -> (b, s, n)>
// CHECK: func.func private @llamacTensorMapBf16(memref<*xbf16>, i64, i64) -> !llvm.ptr
// CHECK-LABEL: func.func @prefill_tma
// CHECK: %[[XU:.*]] = memref.cast %arg0 : memref<1x40x256xbf16> to memref<*xbf16>
// CHECK: %[[XMAP:.*]] = call @llamacTensorMapBf16(%[[XU]], %c128_i64, %c64_i64)
// CHECK: %[[WU:.*]] = memref.cast %arg1 : memref<200x256xbf16> to memref<*xbf16>
// CHECK: %[[WMAP:.*]] = call @llamacTensorMapBf16(%[[WU]], %c256_i64, %c64_i64)
// CHECK: gpu.launch
// CHECK-SAME: workgroup(%[[BARS:.*]] : memref<4xi64, #gpu.address_space<workgroup>>)
// CHECK: %[[FIRST:.*]] = arith.cmpi eq, %{{.*}}, %c0 : index
// CHECK-COUNT-4: nvvm.mbarrier.init %{{.*}}, %c1_i32, predicate = %[[FIRST]]
// CHECK-NEXT: nvvm.fence.mbarrier.init
// CHECK-NEXT: gpu.barrier
// CHECK: scf.if %[[FIRST]] {
// CHECK-NEXT: nvvm.mbarrier.arrive.expect_tx %[[BAR0:.*]], %c49152_i32 :
// CHECK: nvvm.cp.async.bulk.tensor.shared.cluster.global %{{.*}}, %[[XMAP]], %[[BAR0]], box[%c0_i32, %c0_i32, %c0_i32] :
// CHECK: nvvm.cp.async.bulk.tensor.shared.cluster.global %{{.*}}, %[[WMAP]], %[[BAR0]], box[%c0_i32, %c0_i32] :
// CHECK: scf.if %[[FIRST]] {
// CHECK-NEXT: nvvm.mbarrier.arrive.expect_tx %[[BAR1:.*]], %c49152_i32 :
// CHECK: nvvm.cp.async.bulk.tensor.shared.cluster.global %{{.*}}, %[[XMAP]], %[[BAR1]], box[%c64_i32, %c0_i32, %c0_i32]
// CHECK: nvvm.cp.async.bulk.tensor.shared.cluster.global %{{.*}}, %[[WMAP]], %[[BAR1]], box[%c64_i32, %c0_i32]
// CHECK: scf.for %{{.*}} = %c0 to %c256 step %c64
// CHECK: %[[ROUND:.*]] = arith.divui %[[SLICE:.*]], %c4 : index
// CHECK: %[[PARITY:.*]] = arith.remui %[[ROUND]], %c2 : index
// CHECK: %[[PARITY32:.*]] = arith.index_castui %[[PARITY]] : index to i32
// CHECK-NEXT: nvvm.mbarrier.try_wait.parity %{{.*}}, %[[PARITY32]], %{{.*}} : !llvm.ptr<3>, i32, i32
// CHECK-NEXT: gpu.barrier
// CHECK: %[[NEXT:.*]] = arith.addi %[[SLICE]], %c2 : index
// CHECK: %[[INSIDE:.*]] = arith.cmpi ult, %[[NEXT]], %c4 : index
// CHECK: %[[ISSUE:.*]] = arith.andi %[[FIRST]], %[[INSIDE]] : i1
// CHECK: scf.if %[[ISSUE]] {
// CHECK-NEXT: nvvm.mbarrier.arrive.expect_tx %{{.*}}, %c49152_i32 :
// CHECK: nvvm.cp.async.bulk.tensor.shared.cluster.global
// CHECK: nvvm.cp.async.bulk.tensor.shared.cluster.global
// CHECK-COUNT-4: nvvm.wgmma.mma_async
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: scf.if %[[FIRST]] {
// CHECK-COUNT-4: nvvm.mbarrier.inval
// CHECK-NOT: nvgpu.device_async_copy
// CHECK-NOT: nvvm.cp.async.wait.group
func.func @prefill_tma(%x: memref<1x40x256xbf16>, %w: memref<200x256xbf16>, %y: memref<1x40x200xf32>) {
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

// Two sequences (a batch of 2): a block's 128 rows may span both, which
// one box of the second-to-last dimension cannot load; cp.async stays.

#x = affine_map<(b, n, s, k) -> (b, s, k)>
#w = affine_map<(b, n, s, k) -> (n, k)>
#y = affine_map<(b, n, s, k) -> (b, s, n)>
// CHECK-LABEL: func.func @batch_of_two
// CHECK-NOT: call @llamacTensorMapBf16
// CHECK: nvgpu.device_async_copy
// CHECK-NOT: nvvm.cp.async.bulk.tensor
func.func @batch_of_two(%x: memref<2x40x256xbf16>, %w: memref<200x256xbf16>, %y: memref<2x40x200xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %w : memref<2x40x256xbf16>, memref<200x256xbf16>) outs(%y : memref<2x40x200xf32>) {
  ^bb0(%a: bf16, %b: bf16, %acc: f32):
    %ea = arith.extf %a : bf16 to f32
    %eb = arith.extf %b : bf16 to f32
    %p = arith.mulf %ea, %eb : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}
