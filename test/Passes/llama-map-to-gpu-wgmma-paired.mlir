// RUN: llamac-opt %s -split-input-file --llama-map-to-gpu=wgmma=true --canonicalize --cse | FileCheck %s

// A wgmma GEMM whose output only an elementwise op reads, as two views of
// its column halves (SwiGLU after the merged gate+up projection): the
// GEMM's epilogue computes the op (one kernel, _mma_map, no split-k) and
// the f32 output goes. Each block's weight tile takes rows 0..127 from the
// gate half (block column / 2 on) and rows 128..255 from the up half (the
// same plus 256 - 128), so the staged 128 x 264 f32 tile holds a gate sum
// at column c and its up sum at c + 128: a thread's run of 4 gate sums and
// the run 128 columns on give 4 elements, stored as bf16 into the op's
// output at gate column block column / 2 + c.

#x = affine_map<(b, n, s, k) -> (b, s, k)>
#w = affine_map<(b, n, s, k) -> (n, k)>
#y = affine_map<(b, n, s, k) -> (b, s, n)>
#id = affine_map<(b, s, n) -> (b, s, n)>
// CHECK-LABEL: func.func @swiglu
// CHECK-NOT: gpu.alloc
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c2, %{{.*}} = %c1, %{{.*}} = %c1) threads({{.*}}) in (%{{.*}} = %c256, %{{.*}} = %c1, %{{.*}} = %c1) dynamic_shared_memory_size %c197632_i32 module(@swiglu_op_mma_map) function(@swiglu_op_mma_map) {
// CHECK: %[[BLOCKCOL:.*]] = arith.muli %{{.*}}, %c256 : index
// CHECK: %[[UP:.*]] = arith.cmpi ugt, %[[ROW:.*]], %c127 : index
// CHECK-NEXT: %[[SKIP:.*]] = arith.select %[[UP]], %c128, %c0 : index
// CHECK-NEXT: %[[HALFCOL:.*]] = arith.divui %[[BLOCKCOL]], %c2 : index
// CHECK-NEXT: %[[AT:.*]] = arith.addi %[[HALFCOL]], %[[ROW]] : index
// CHECK-NEXT: arith.addi %[[AT]], %[[SKIP]] : index
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: %[[OUT:.*]] = memref.view {{.*}} to memref<128x264xf32, #gpu.address_space<workgroup>>
// CHECK: gpu.barrier
// CHECK: %[[C:.*]] = arith.muli %{{.*}}, %c4 : index
// CHECK: %[[COL:.*]] = arith.addi %[[HALFCOL]], %[[C]] : index
// CHECK: arith.cmpi ult, %[[COL]], %c256 : index
// CHECK: scf.if
// CHECK-NEXT: %[[GATE:.*]] = vector.load %[[OUT]][%{{.*}}, %[[C]]] {{.*}} vector<4xf32>
// CHECK-NEXT: %[[C128:.*]] = arith.addi %[[C]], %c128 : index
// CHECK-NEXT: %[[UPSUMS:.*]] = vector.load %[[OUT]][%{{.*}}, %[[C128]]] {{.*}} vector<4xf32>
// CHECK: %[[G:.*]] = vector.extract %[[GATE]][0]
// CHECK-NEXT: %[[U:.*]] = vector.extract %[[UPSUMS]][0]
// CHECK-NEXT: arith.negf %[[G]]
// CHECK: math.exp
// CHECK: %[[SG:.*]] = arith.divf %[[G]]
// CHECK-NEXT: %[[H:.*]] = arith.mulf %[[SG]], %[[U]]
// CHECK-NEXT: %[[T:.*]] = arith.truncf %[[H]] : f32 to bf16
// CHECK-NEXT: memref.store %[[T]], %arg2[%c0, %{{.*}}, %{{.*}}] : memref<1x40x256xbf16>
// CHECK-COUNT-63: memref.store %{{.*}}, %arg2
// CHECK-NOT: memref.store
// CHECK-NOT: gpu.launch
// CHECK-NOT: gpu.dealloc
func.func @swiglu(%x: memref<1x40x256xbf16>, %w: memref<512x256xbf16>, %h: memref<1x40x256xbf16>) {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %y = memref.alloc() {alignment = 64 : i64} : memref<1x40x512xf32>
  linalg.fill ins(%zero : f32) outs(%y : memref<1x40x512xf32>)
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %w : memref<1x40x256xbf16>, memref<512x256xbf16>) outs(%y : memref<1x40x512xf32>) {
  ^bb0(%a: bf16, %b: bf16, %acc: f32):
    %ea = arith.extf %a : bf16 to f32
    %eb = arith.extf %b : bf16 to f32
    %p = arith.mulf %ea, %eb : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  %gate = memref.subview %y[0, 0, 0] [1, 40, 256] [1, 1, 1] : memref<1x40x512xf32> to memref<1x40x256xf32, strided<[20480, 512, 1]>>
  %up = memref.subview %y[0, 0, 256] [1, 40, 256] [1, 1, 1] : memref<1x40x512xf32> to memref<1x40x256xf32, strided<[20480, 512, 1], offset: 256>>
  linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%gate, %up : memref<1x40x256xf32, strided<[20480, 512, 1]>>, memref<1x40x256xf32, strided<[20480, 512, 1], offset: 256>>) outs(%h : memref<1x40x256xbf16>) {
  ^bb0(%g: f32, %u: f32, %o: bf16):
    %n = arith.negf %g : f32
    %e = math.exp %n : f32
    %d = arith.addf %e, %one : f32
    %sg = arith.divf %g, %d : f32
    %m = arith.mulf %sg, %u : f32
    %t = arith.truncf %m : f32 to bf16
    linalg.yield %t : bf16
  }
  memref.dealloc %y : memref<1x40x512xf32>
  return
}

// -----

// The GEMM's output read by another op too (a copy of the whole): the
// GEMM stores it, and the elementwise op is a kernel of its own.

#x = affine_map<(b, n, s, k) -> (b, s, k)>
#w = affine_map<(b, n, s, k) -> (n, k)>
#y = affine_map<(b, n, s, k) -> (b, s, n)>
#id = affine_map<(b, s, n) -> (b, s, n)>
// CHECK-LABEL: func.func @also_read
// CHECK: gpu.alloc async {{.*}} : memref<1x40x512xf32>
// CHECK: module(@also_read_op_mma) function(@also_read_op_mma)
// CHECK: module(@also_read_op_map) function(@also_read_op_map)
func.func @also_read(%x: memref<1x40x256xbf16>, %w: memref<512x256xbf16>, %h: memref<1x40x256xbf16>, %z: memref<1x40x512xf32>) {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %y = memref.alloc() {alignment = 64 : i64} : memref<1x40x512xf32>
  linalg.fill ins(%zero : f32) outs(%y : memref<1x40x512xf32>)
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %w : memref<1x40x256xbf16>, memref<512x256xbf16>) outs(%y : memref<1x40x512xf32>) {
  ^bb0(%a: bf16, %b: bf16, %acc: f32):
    %ea = arith.extf %a : bf16 to f32
    %eb = arith.extf %b : bf16 to f32
    %p = arith.mulf %ea, %eb : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  %gate = memref.subview %y[0, 0, 0] [1, 40, 256] [1, 1, 1] : memref<1x40x512xf32> to memref<1x40x256xf32, strided<[20480, 512, 1]>>
  %up = memref.subview %y[0, 0, 256] [1, 40, 256] [1, 1, 1] : memref<1x40x512xf32> to memref<1x40x256xf32, strided<[20480, 512, 1], offset: 256>>
  linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%gate, %up : memref<1x40x256xf32, strided<[20480, 512, 1]>>, memref<1x40x256xf32, strided<[20480, 512, 1], offset: 256>>) outs(%h : memref<1x40x256xbf16>) {
  ^bb0(%g: f32, %u: f32, %o: bf16):
    %n = arith.negf %g : f32
    %e = math.exp %n : f32
    %d = arith.addf %e, %one : f32
    %sg = arith.divf %g, %d : f32
    %m = arith.mulf %sg, %u : f32
    %t = arith.truncf %m : f32 to bf16
    linalg.yield %t : bf16
  }
  memref.copy %y, %z : memref<1x40x512xf32> to memref<1x40x512xf32>
  memref.dealloc %y : memref<1x40x512xf32>
  return
}

// -----

// Halves of 192 columns: a block's 128 + 128 weight rows would straddle
// them, so the GEMM stores its output and the op reads it.

#x = affine_map<(b, n, s, k) -> (b, s, k)>
#w = affine_map<(b, n, s, k) -> (n, k)>
#y = affine_map<(b, n, s, k) -> (b, s, n)>
#id = affine_map<(b, s, n) -> (b, s, n)>
// CHECK-LABEL: func.func @uneven_halves
// CHECK: module(@uneven_halves_op_mma) function(@uneven_halves_op_mma)
// CHECK: module(@uneven_halves_op_map) function(@uneven_halves_op_map)
func.func @uneven_halves(%x: memref<1x40x256xbf16>, %w: memref<384x256xbf16>, %h: memref<1x40x192xbf16>) {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %y = memref.alloc() {alignment = 64 : i64} : memref<1x40x384xf32>
  linalg.fill ins(%zero : f32) outs(%y : memref<1x40x384xf32>)
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %w : memref<1x40x256xbf16>, memref<384x256xbf16>) outs(%y : memref<1x40x384xf32>) {
  ^bb0(%a: bf16, %b: bf16, %acc: f32):
    %ea = arith.extf %a : bf16 to f32
    %eb = arith.extf %b : bf16 to f32
    %p = arith.mulf %ea, %eb : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  %gate = memref.subview %y[0, 0, 0] [1, 40, 192] [1, 1, 1] : memref<1x40x384xf32> to memref<1x40x192xf32, strided<[15360, 384, 1]>>
  %up = memref.subview %y[0, 0, 192] [1, 40, 192] [1, 1, 1] : memref<1x40x384xf32> to memref<1x40x192xf32, strided<[15360, 384, 1], offset: 192>>
  linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%gate, %up : memref<1x40x192xf32, strided<[15360, 384, 1]>>, memref<1x40x192xf32, strided<[15360, 384, 1], offset: 192>>) outs(%h : memref<1x40x192xbf16>) {
  ^bb0(%g: f32, %u: f32, %o: bf16):
    %n = arith.negf %g : f32
    %e = math.exp %n : f32
    %d = arith.addf %e, %one : f32
    %sg = arith.divf %g, %d : f32
    %m = arith.mulf %sg, %u : f32
    %t = arith.truncf %m : f32 to bf16
    linalg.yield %t : bf16
  }
  memref.dealloc %y : memref<1x40x384xf32>
  return
}
