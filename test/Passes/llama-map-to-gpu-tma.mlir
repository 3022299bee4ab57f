// RUN: llamac-opt %s -split-input-file --llama-map-to-gpu="wgmma=true tma=true" --canonicalize --cse | FileCheck %s

// wgmma with the tma option (experimental: the same results as cp.async,
// no faster on an H200, KERNEL_NOTES session 22): before the launch, the
// host code asks the runtime for each operand's tensor map (a box of 128
// rows of 64 bf16 for the activations, 256 for the weights). The block is
// the two consumer warpgroups plus a producer warp (288 threads). Thread 0
// sets up a "full" (one arrival) and an "empty" (8 arrivals: a consumer
// warp each) mbarrier a stage, fenced and waited for by the whole block;
// then the roles split on the warp index as lane 0 holds it (a shuffle:
// ptxas then sees a warp-uniform branch and keeps the wgmmas
// asynchronous). Consumers: each slice waits for its stage's full phase,
// parity (slice / 4) % 2, with no block barrier; after the slice's wgmma
// group, the wait for the one before, whose stage each warp's lane 0 then
// releases (from the second slice on). After the loop a named barrier of
// the 256 consumers (every wait and release done), thread 0 invalidates
// the eight barriers (the grid's next block on the SM initializes the same
// addresses), and the output tile leaves through shared memory between
// named barriers too. Producer: its first thread loads the 4 slices of the
// depth, each after the empty phase of the stage's previous slice (none
// in the first round): the expected 48 KB, then one cp.async.bulk.tensor
// a tile at (depth, row, 0) of the operand's dimensions. No cp.async.

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
// CHECK-SAME: threads(%[[TID:[^,]*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c288,
// CHECK-SAME: workgroup(%{{.*}} : memref<8xi64, #gpu.address_space<workgroup>>)
// CHECK: %[[LANE:.*]] = arith.remui %[[TID]], %c32 : index
// CHECK: %[[FIRST:.*]] = arith.cmpi eq, %[[TID]], %c0 : index
// CHECK: nvvm.mbarrier.init %{{.*}}, %c1_i32, predicate = %[[FIRST]]
// CHECK: nvvm.mbarrier.init %{{.*}}, %c8_i32, predicate = %[[FIRST]]
// CHECK: nvvm.mbarrier.init %{{.*}}, %c1_i32, predicate = %[[FIRST]]
// CHECK: nvvm.mbarrier.init %{{.*}}, %c8_i32, predicate = %[[FIRST]]
// CHECK: nvvm.mbarrier.init %{{.*}}, %c1_i32, predicate = %[[FIRST]]
// CHECK: nvvm.mbarrier.init %{{.*}}, %c8_i32, predicate = %[[FIRST]]
// CHECK: nvvm.mbarrier.init %{{.*}}, %c1_i32, predicate = %[[FIRST]]
// CHECK: nvvm.mbarrier.init %{{.*}}, %c8_i32, predicate = %[[FIRST]]
// CHECK-NEXT: nvvm.fence.mbarrier.init
// CHECK-NEXT: gpu.barrier
// CHECK: %[[WARP:.*]], %{{.*}} = gpu.shuffle  idx %{{.*}}, %c0_i32, %c32_i32 : i32
// CHECK: %[[CONSUMER:.*]] = arith.cmpi ult, %[[WARP]], %c8_i32 : i32
// CHECK: scf.if %[[CONSUMER]] {
// CHECK: scf.for %[[DEPTH:[^ ]*]] = %c0 to %c256 step %c64
// CHECK: %[[SLICE:.*]] = arith.divui %[[DEPTH]], %c64 : index
// CHECK: %[[ROUND:.*]] = arith.divui %[[SLICE]], %c4 : index
// CHECK: %[[PARITY:.*]] = arith.remui %[[ROUND]], %c2 : index
// CHECK: %[[PARITY32:.*]] = arith.index_castui %[[PARITY]] : index to i32
// CHECK-NEXT: nvvm.mbarrier.try_wait.parity %{{.*}}, %[[PARITY32]], %{{.*}} : !llvm.ptr<3>, i32, i32
// CHECK-NOT: gpu.barrier
// CHECK-COUNT-4: nvvm.wgmma.mma_async
// CHECK: nvvm.wgmma.wait.group.sync.aligned 1
// CHECK: %[[LANE0:.*]] = arith.cmpi eq, %[[LANE]], %c0 : index
// CHECK: %[[LATER:.*]] = arith.cmpi ugt, %[[SLICE]], %c0 : index
// CHECK: %[[RELEASE:.*]] = arith.andi %[[LANE0]], %[[LATER]] : i1
// CHECK: scf.if %[[RELEASE]] {
// CHECK: nvvm.mbarrier.arrive %{{.*}} : !llvm.ptr<3>
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-NEXT: nvvm.barrier id = %c1_i32 number_of_threads = %c256_i32
// CHECK-NEXT: scf.if %[[FIRST]] {
// CHECK-COUNT-8: nvvm.mbarrier.inval
// CHECK: nvvm.barrier id = %c1_i32 number_of_threads = %c256_i32
// CHECK: nvvm.barrier id = %c1_i32 number_of_threads = %c256_i32
// CHECK: } else {
// CHECK: %[[PRODUCER:.*]] = arith.cmpi eq, %[[TID]], %c256 : index
// CHECK-NEXT: scf.if %[[PRODUCER]] {
// CHECK-NEXT: scf.for %[[K:[^ ]*]] = %c0 to %c4 step %c1 {
// CHECK: %[[KROUND:.*]] = arith.divui %[[K]], %c4 : index
// CHECK: %[[REUSE:.*]] = arith.cmpi ugt, %[[KROUND]], %c0 : index
// CHECK: scf.if %[[REUSE]] {
// CHECK: nvvm.mbarrier.try_wait.parity
// CHECK: nvvm.mbarrier.arrive.expect_tx %[[BAR:.*]], %c49152_i32 :
// CHECK: nvvm.cp.async.bulk.tensor.shared.cluster.global %{{.*}}, %[[XMAP]], %[[BAR]], box[%{{.*}}, %c0_i32, %c0_i32] :
// CHECK: nvvm.cp.async.bulk.tensor.shared.cluster.global %{{.*}}, %[[WMAP]], %[[BAR]], box[%{{.*}}, %c0_i32] :
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
