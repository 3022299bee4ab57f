// RUN: llamac-opt %s -split-input-file --llama-map-to-gpu --canonicalize --cse | FileCheck %s

// An RMSNorm without gains (llama-fold-norm-gains moved them into the
// weights) before a decode GEMV, as llama-to-linalg, narrowing to bf16 and
// bufferization leave it: x (the residual stream) written by a GEMV (o),
// s = sum(x^2) over the row, x * rsqrt(s / n + eps) rounded to bf16, then
// the GEMV of that. The o GEMV also stores x rounded to bf16 in a new
// buffer; the GEMV after the norm reads that copy (same indices), each
// lane adds up the squares of what it loads in the dot's loop, and lane 0
// multiplies the row's dot by rsqrt(s / n + eps) of the warp's sum of
// squares. Two launches, neither the norm's kernels nor its temporaries;
// the GEMV asks ptxas for 3 blocks an SM (its registers, with the squares).

#x3 = affine_map<(b, s, k) -> (b, s, k)>
#r3 = affine_map<(b, s, k) -> (b, s)>
#sx = affine_map<(b, n, s, k) -> (b, s, k)>
#sw = affine_map<(b, n, s, k) -> (n, k)>
#sy = affine_map<(b, n, s, k) -> (b, s, n)>
// CHECK-LABEL: func.func @norm_gemv
// CHECK: %[[COPY:[a-z_0-9]+]], %{{.*}} = gpu.alloc {{.*}} : memref<1x1x512xbf16>
// CHECK: gpu.launch {{.*}} module(@norm_gemv_op_dot) function(@norm_gemv_op_dot)
// CHECK:   memref.store %[[X:.*]], %arg1[%c0, %c0, %[[N:.*]]] : memref<1x1x512xf32>
// CHECK:   %[[XB:.*]] = arith.truncf %[[X]] : f32 to bf16
// CHECK:   memref.store %[[XB]], %[[COPY]][%c0, %c0, %[[N]]] : memref<1x1x512xbf16>
// CHECK: gpu.launch {{.*}} module(@norm_gemv_op_dot_1) function(@norm_gemv_op_dot_1)
// CHECK: llama.await_earlier_kernels {min_blocks_per_sm = 3 : i32}
// CHECK-NEXT: %[[X0:.*]] = vector.load %[[COPY]][%c0, %c0, %{{.*}}] {alignment = 16 : i64} : memref<1x1x512xbf16>, vector<8xbf16>
// CHECK-NEXT: %[[X1:.*]] = vector.load %[[COPY]][%c0, %c0, %{{.*}}] {alignment = 16 : i64} : memref<1x1x512xbf16>, vector<8xbf16>
// CHECK: %[[F0:.*]] = arith.extf %[[X0]]
// CHECK: %[[DOT0:.*]] = vector.fma %[[F0]], %{{.*}}, %cst
// CHECK: %[[F1:.*]] = arith.extf %[[X1]]
// CHECK: %[[DOT:.*]] = vector.fma %[[F1]], %{{.*}}, %[[DOT0]]
// CHECK: %[[SQ0:.*]] = arith.mulf %[[F0]], %[[F0]]
// CHECK: vector.reduction <add>, %[[SQ0]]
// CHECK: %[[SQ1:.*]] = arith.mulf %[[F1]], %[[F1]]
// CHECK: vector.reduction <add>, %[[SQ1]]
// CHECK: %[[SUMS:.*]]:2 = scf.if %{{.*}} -> (f32, f32) {
// CHECK:   vector.reduction <add>, %[[DOT]]
// CHECK-COUNT-10: gpu.shuffle  xor
// CHECK: scf.if
// CHECK:   %[[MEAN:.*]] = arith.divf %[[SUMS]]#1, %cst
// CHECK:   %[[VAR:.*]] = arith.addf %[[MEAN]], %cst
// CHECK:   %[[R:.*]] = math.rsqrt %[[VAR]] : f32
// CHECK:   %[[Y:.*]] = arith.mulf %[[SUMS]]#0, %[[R]] : f32
// CHECK:   memref.store %[[Y]], %arg2[%c0, %c0, %{{.*}}] : memref<1x1x4096xf32>
// CHECK-NOT: gpu.launch
// CHECK: gpu.dealloc {{.*}} %[[COPY]]
// CHECK-NOT: gpu.launch
// CHECK: return
func.func @norm_gemv(%h: memref<1x1x512xf32>, %x: memref<1x1x512xf32>, %out: memref<1x1x4096xf32>, %blob: memref<4194304xi8> {llama.weights}) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %n = arith.constant 512.0 : f32
  %eps = arith.constant 1.0e-5 : f32
  %wo = memref.view %blob[%c0][] : memref<4194304xi8> to memref<512x512xbf16>
  linalg.generic {indexing_maps = [#sx, #sw, #sy], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%h, %wo : memref<1x1x512xf32>, memref<512x512xbf16>) outs(%x : memref<1x1x512xf32>) {
  ^bb0(%a: f32, %b: bf16, %acc: f32):
    %eb = arith.extf %b : bf16 to f32
    %m = arith.mulf %a, %eb : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  %ss = memref.alloc() : memref<1x1xf32>
  linalg.fill ins(%zero : f32) outs(%ss : memref<1x1xf32>)
  linalg.generic {indexing_maps = [#x3, #r3], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x : memref<1x1x512xf32>) outs(%ss : memref<1x1xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %sq = arith.mulf %a, %a : f32
    %s = arith.addf %acc, %sq : f32
    linalg.yield %s : f32
  }
  %xn = memref.alloc() : memref<1x1x512xbf16>
  linalg.generic {indexing_maps = [#x3, #r3, #x3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x, %ss : memref<1x1x512xf32>, memref<1x1xf32>) outs(%xn : memref<1x1x512xbf16>) {
  ^bb0(%a: f32, %s: f32, %o: bf16):
    %mean = arith.divf %s, %n : f32
    %v = arith.addf %mean, %eps : f32
    %r = math.rsqrt %v : f32
    %y = arith.mulf %a, %r : f32
    %t = arith.truncf %y : f32 to bf16
    linalg.yield %t : bf16
  }
  %w = memref.view %blob[%c0][] : memref<4194304xi8> to memref<4096x512xbf16>
  linalg.fill ins(%zero : f32) outs(%out : memref<1x1x4096xf32>)
  linalg.generic {indexing_maps = [#sx, #sw, #sy], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%xn, %w : memref<1x1x512xbf16>, memref<4096x512xbf16>) outs(%out : memref<1x1x4096xf32>) {
  ^bb0(%a: bf16, %b: bf16, %acc: f32):
    %ea = arith.extf %a : bf16 to f32
    %eb = arith.extf %b : bf16 to f32
    %m = arith.mulf %ea, %eb : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  memref.dealloc %xn : memref<1x1x512xbf16>
  memref.dealloc %ss : memref<1x1xf32>
  return
}

// -----

// Fewer rows (1,024): each row's dot split over 2 warps of a block
// (split-k, a trip of 256 elements each). The warps' dots and their sums of
// squares meet in shared memory (two buffers), the row's first warp adds
// each in order, then scales.

#x3 = affine_map<(b, s, k) -> (b, s, k)>
#r3 = affine_map<(b, s, k) -> (b, s)>
#sx = affine_map<(b, n, s, k) -> (b, s, k)>
#sw = affine_map<(b, n, s, k) -> (n, k)>
#sy = affine_map<(b, n, s, k) -> (b, s, n)>
// CHECK-LABEL: func.func @norm_split
// CHECK: gpu.launch {{.*}} module(@norm_split_op_dot)
// CHECK: gpu.launch {{.*}} module(@norm_split_op_dot_1) function(@norm_split_op_dot_1) workgroup(%[[DOTS:.*]] : memref<8xf32, #gpu.address_space<workgroup>>, %[[SQUARES:.*]] : memref<8xf32, #gpu.address_space<workgroup>>)
// CHECK: memref.store %{{.*}}, %[[DOTS]]
// CHECK: memref.store %{{.*}}, %[[SQUARES]]
// CHECK: gpu.barrier
// CHECK: scf.if
// CHECK:   %[[D1:.*]] = memref.load %[[DOTS]]
// CHECK:   %[[DOT:.*]] = arith.addf %{{.*}}, %[[D1]]
// CHECK:   %[[S1:.*]] = memref.load %[[SQUARES]]
// CHECK:   %[[SUM:.*]] = arith.addf %{{.*}}, %[[S1]]
// CHECK:   %[[MEAN:.*]] = arith.divf %[[SUM]], %cst
// CHECK:   %[[R:.*]] = math.rsqrt
// CHECK:   arith.mulf %[[DOT]], %[[R]]
// CHECK-NOT: gpu.launch
func.func @norm_split(%h: memref<1x1x512xf32>, %x: memref<1x1x512xf32>, %out: memref<1x1x1024xf32>, %blob: memref<1048576xi8> {llama.weights}) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %n = arith.constant 512.0 : f32
  %eps = arith.constant 1.0e-5 : f32
  %wo = memref.view %blob[%c0][] : memref<1048576xi8> to memref<512x512xbf16>
  linalg.generic {indexing_maps = [#sx, #sw, #sy], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%h, %wo : memref<1x1x512xf32>, memref<512x512xbf16>) outs(%x : memref<1x1x512xf32>) {
  ^bb0(%a: f32, %b: bf16, %acc: f32):
    %eb = arith.extf %b : bf16 to f32
    %m = arith.mulf %a, %eb : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  %ss = memref.alloc() : memref<1x1xf32>
  linalg.fill ins(%zero : f32) outs(%ss : memref<1x1xf32>)
  linalg.generic {indexing_maps = [#x3, #r3], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x : memref<1x1x512xf32>) outs(%ss : memref<1x1xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %sq = arith.mulf %a, %a : f32
    %s = arith.addf %acc, %sq : f32
    linalg.yield %s : f32
  }
  %xn = memref.alloc() : memref<1x1x512xbf16>
  linalg.generic {indexing_maps = [#x3, #r3, #x3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x, %ss : memref<1x1x512xf32>, memref<1x1xf32>) outs(%xn : memref<1x1x512xbf16>) {
  ^bb0(%a: f32, %s: f32, %o: bf16):
    %mean = arith.divf %s, %n : f32
    %v = arith.addf %mean, %eps : f32
    %r = math.rsqrt %v : f32
    %y = arith.mulf %a, %r : f32
    %t = arith.truncf %y : f32 to bf16
    linalg.yield %t : bf16
  }
  %w = memref.view %blob[%c0][] : memref<1048576xi8> to memref<1024x512xbf16>
  linalg.fill ins(%zero : f32) outs(%out : memref<1x1x1024xf32>)
  linalg.generic {indexing_maps = [#sx, #sw, #sy], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%xn, %w : memref<1x1x512xbf16>, memref<1024x512xbf16>) outs(%out : memref<1x1x1024xf32>) {
  ^bb0(%a: bf16, %b: bf16, %acc: f32):
    %ea = arith.extf %a : bf16 to f32
    %eb = arith.extf %b : bf16 to f32
    %m = arith.mulf %ea, %eb : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  memref.dealloc %xn : memref<1x1x512xbf16>
  memref.dealloc %ss : memref<1x1xf32>
  return
}

// -----

// The normed activations read again after the GEMV (a second GEMV of the
// same norm, not merged): the norm keeps its kernel (one: the scaling's
// blocks compute the row's sum of squares) and both GEMVs read its output;
// the o GEMV writes no copy.

#x3 = affine_map<(b, s, k) -> (b, s, k)>
#r3 = affine_map<(b, s, k) -> (b, s)>
#sx = affine_map<(b, n, s, k) -> (b, s, k)>
#sw = affine_map<(b, n, s, k) -> (n, k)>
#sy = affine_map<(b, n, s, k) -> (b, s, n)>
// CHECK-LABEL: func.func @norm_read_twice
// CHECK: gpu.launch {{.*}} module(@norm_read_twice_op_dot)
// CHECK-NOT: arith.truncf
// CHECK: %[[XN:[a-z_0-9]+]], %{{.*}} = gpu.alloc
// CHECK: gpu.launch {{.*}} module(@norm_read_twice_op_reduce_map)
// CHECK: gpu.launch {{.*}} module(@norm_read_twice_op_dot_1)
// CHECK: vector.load %[[XN]]
// CHECK: gpu.launch {{.*}} module(@norm_read_twice_op_dot_2)
// CHECK: vector.load %[[XN]]
func.func @norm_read_twice(%h: memref<1x1x512xf32>, %x: memref<1x1x512xf32>, %out: memref<1x1x4096xf32>, %out2: memref<1x1x4096xf32>, %blob: memref<4194304xi8> {llama.weights}) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %n = arith.constant 512.0 : f32
  %eps = arith.constant 1.0e-5 : f32
  %wo = memref.view %blob[%c0][] : memref<4194304xi8> to memref<512x512xbf16>
  linalg.generic {indexing_maps = [#sx, #sw, #sy], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%h, %wo : memref<1x1x512xf32>, memref<512x512xbf16>) outs(%x : memref<1x1x512xf32>) {
  ^bb0(%a: f32, %b: bf16, %acc: f32):
    %eb = arith.extf %b : bf16 to f32
    %m = arith.mulf %a, %eb : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  %ss = memref.alloc() : memref<1x1xf32>
  linalg.fill ins(%zero : f32) outs(%ss : memref<1x1xf32>)
  linalg.generic {indexing_maps = [#x3, #r3], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x : memref<1x1x512xf32>) outs(%ss : memref<1x1xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %sq = arith.mulf %a, %a : f32
    %s = arith.addf %acc, %sq : f32
    linalg.yield %s : f32
  }
  %xn = memref.alloc() : memref<1x1x512xbf16>
  linalg.generic {indexing_maps = [#x3, #r3, #x3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x, %ss : memref<1x1x512xf32>, memref<1x1xf32>) outs(%xn : memref<1x1x512xbf16>) {
  ^bb0(%a: f32, %s: f32, %o: bf16):
    %mean = arith.divf %s, %n : f32
    %v = arith.addf %mean, %eps : f32
    %r = math.rsqrt %v : f32
    %y = arith.mulf %a, %r : f32
    %t = arith.truncf %y : f32 to bf16
    linalg.yield %t : bf16
  }
  %w = memref.view %blob[%c0][] : memref<4194304xi8> to memref<4096x512xbf16>
  linalg.fill ins(%zero : f32) outs(%out : memref<1x1x4096xf32>)
  linalg.generic {indexing_maps = [#sx, #sw, #sy], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%xn, %w : memref<1x1x512xbf16>, memref<4096x512xbf16>) outs(%out : memref<1x1x4096xf32>) {
  ^bb0(%a: bf16, %b: bf16, %acc: f32):
    %ea = arith.extf %a : bf16 to f32
    %eb = arith.extf %b : bf16 to f32
    %m = arith.mulf %ea, %eb : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  linalg.fill ins(%zero : f32) outs(%out2 : memref<1x1x4096xf32>)
  linalg.generic {indexing_maps = [#sx, #sw, #sy], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%xn, %w : memref<1x1x512xbf16>, memref<4096x512xbf16>) outs(%out2 : memref<1x1x4096xf32>) {
  ^bb0(%a: bf16, %b: bf16, %acc: f32):
    %ea = arith.extf %a : bf16 to f32
    %eb = arith.extf %b : bf16 to f32
    %m = arith.mulf %ea, %eb : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  memref.dealloc %xn : memref<1x1x512xbf16>
  memref.dealloc %ss : memref<1x1xf32>
  return
}

// -----

// The norm before the merged gate+up GEMV whose rows SwiGLU's warps compute
// themselves (a DotEpilogue): those warps read the copy of x, add up its
// squares with the two rows' dots, and lane 0 scales both sums before the
// activation; the copy is freed after that kernel.

#x3 = affine_map<(b, s, k) -> (b, s, k)>
#r3 = affine_map<(b, s, k) -> (b, s)>
#sx = affine_map<(b, n, s, k) -> (b, s, k)>
#sw = affine_map<(b, n, s, k) -> (n, k)>
#sy = affine_map<(b, n, s, k) -> (b, s, n)>
#se = affine_map<(b, s, n) -> (b, s, n)>
// CHECK-LABEL: func.func @norm_swiglu
// CHECK: %[[COPY:[a-z_0-9]+]], %{{.*}} = gpu.alloc {{.*}} : memref<1x1x512xbf16>
// CHECK-NOT: gpu.alloc
// CHECK: gpu.launch {{.*}} module(@norm_swiglu_op_dot)
// CHECK: gpu.launch {{.*}} module(@norm_swiglu_op_dot_map)
// CHECK: llama.await_earlier_kernels {min_blocks_per_sm = 3 : i32}
// CHECK-NEXT: %[[X0:.*]] = vector.load %[[COPY]]
// CHECK: %[[F0:.*]] = arith.extf %[[X0]]
// CHECK: arith.mulf %[[F0]], %[[F0]]
// CHECK: %[[SUMS:.*]]:3 = scf.if %{{.*}} -> (f32, f32, f32) {
// CHECK-COUNT-15: gpu.shuffle  xor
// CHECK: scf.if
// CHECK:   %[[MEAN:.*]] = arith.divf %[[SUMS]]#2, %cst
// CHECK:   %[[VAR:.*]] = arith.addf %[[MEAN]], %cst
// CHECK:   %[[R:.*]] = math.rsqrt %[[VAR]] : f32
// CHECK-DAG:   %[[GATE:.*]] = arith.mulf %[[SUMS]]#0, %[[R]] : f32
// CHECK-DAG:   %[[UP:.*]] = arith.mulf %[[SUMS]]#1, %[[R]] : f32
// CHECK:   arith.negf %[[GATE]]
// CHECK:   arith.mulf %{{.*}}, %[[UP]]
// CHECK-NOT: gpu.launch
// CHECK: gpu.dealloc {{.*}} %[[COPY]]
// CHECK-NOT: gpu.launch
// CHECK: return
func.func @norm_swiglu(%h: memref<1x1x512xf32>, %x: memref<1x1x512xf32>, %out: memref<1x1x4096xf32>, %blob: memref<8388608xi8> {llama.weights}) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %n = arith.constant 512.0 : f32
  %eps = arith.constant 1.0e-5 : f32
  %wo = memref.view %blob[%c0][] : memref<8388608xi8> to memref<512x512xbf16>
  linalg.generic {indexing_maps = [#sx, #sw, #sy], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%h, %wo : memref<1x1x512xf32>, memref<512x512xbf16>) outs(%x : memref<1x1x512xf32>) {
  ^bb0(%a: f32, %b: bf16, %acc: f32):
    %eb = arith.extf %b : bf16 to f32
    %m = arith.mulf %a, %eb : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  %ss = memref.alloc() : memref<1x1xf32>
  linalg.fill ins(%zero : f32) outs(%ss : memref<1x1xf32>)
  linalg.generic {indexing_maps = [#x3, #r3], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x : memref<1x1x512xf32>) outs(%ss : memref<1x1xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %sq = arith.mulf %a, %a : f32
    %s = arith.addf %acc, %sq : f32
    linalg.yield %s : f32
  }
  %xn = memref.alloc() : memref<1x1x512xbf16>
  linalg.generic {indexing_maps = [#x3, #r3, #x3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x, %ss : memref<1x1x512xf32>, memref<1x1xf32>) outs(%xn : memref<1x1x512xbf16>) {
  ^bb0(%a: f32, %s: f32, %o: bf16):
    %mean = arith.divf %s, %n : f32
    %v = arith.addf %mean, %eps : f32
    %r = math.rsqrt %v : f32
    %y = arith.mulf %a, %r : f32
    %t = arith.truncf %y : f32 to bf16
    linalg.yield %t : bf16
  }
  %w = memref.view %blob[%c0][] : memref<8388608xi8> to memref<8192x512xbf16>
  %gu = memref.alloc() : memref<1x1x8192xf32>
  linalg.fill ins(%zero : f32) outs(%gu : memref<1x1x8192xf32>)
  linalg.generic {indexing_maps = [#sx, #sw, #sy], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%xn, %w : memref<1x1x512xbf16>, memref<8192x512xbf16>) outs(%gu : memref<1x1x8192xf32>) {
  ^bb0(%a: bf16, %b: bf16, %acc: f32):
    %ea = arith.extf %a : bf16 to f32
    %eb = arith.extf %b : bf16 to f32
    %m = arith.mulf %ea, %eb : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  %g = memref.subview %gu[0, 0, 0] [1, 1, 4096] [1, 1, 1] : memref<1x1x8192xf32> to memref<1x1x4096xf32, strided<[8192, 8192, 1]>>
  %u = memref.subview %gu[0, 0, 4096] [1, 1, 4096] [1, 1, 1] : memref<1x1x8192xf32> to memref<1x1x4096xf32, strided<[8192, 8192, 1], offset: 4096>>
  linalg.generic {indexing_maps = [#se, #se, #se], iterator_types = ["parallel", "parallel", "parallel"]} ins(%g, %u : memref<1x1x4096xf32, strided<[8192, 8192, 1]>>, memref<1x1x4096xf32, strided<[8192, 8192, 1], offset: 4096>>) outs(%out : memref<1x1x4096xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %ng = arith.negf %a : f32
    %ex = math.exp %ng : f32
    %d = arith.addf %one, %ex : f32
    %sg = arith.divf %a, %d : f32
    %p = arith.mulf %sg, %b : f32
    linalg.yield %p : f32
  }
  memref.dealloc %gu : memref<1x1x8192xf32>
  memref.dealloc %xn : memref<1x1x512xbf16>
  memref.dealloc %ss : memref<1x1xf32>
  return
}

// -----

// x not written by a GEMV here (an entry argument; in a model, the first
// layer's embedding rows): no copy to read, the norm keeps its kernel.

#x3 = affine_map<(b, s, k) -> (b, s, k)>
#r3 = affine_map<(b, s, k) -> (b, s)>
#sx = affine_map<(b, n, s, k) -> (b, s, k)>
#sw = affine_map<(b, n, s, k) -> (n, k)>
#sy = affine_map<(b, n, s, k) -> (b, s, n)>
// CHECK-LABEL: func.func @norm_no_producer
// CHECK: gpu.launch {{.*}} module(@norm_no_producer_op_reduce_map)
// CHECK: gpu.launch {{.*}} module(@norm_no_producer_op_dot)
// CHECK-NOT: min_blocks_per_sm
// CHECK: return
func.func @norm_no_producer(%x: memref<1x1x512xf32>, %out: memref<1x1x4096xf32>, %blob: memref<4194304xi8> {llama.weights}) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %n = arith.constant 512.0 : f32
  %eps = arith.constant 1.0e-5 : f32
  %ss = memref.alloc() : memref<1x1xf32>
  linalg.fill ins(%zero : f32) outs(%ss : memref<1x1xf32>)
  linalg.generic {indexing_maps = [#x3, #r3], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x : memref<1x1x512xf32>) outs(%ss : memref<1x1xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %sq = arith.mulf %a, %a : f32
    %s = arith.addf %acc, %sq : f32
    linalg.yield %s : f32
  }
  %xn = memref.alloc() : memref<1x1x512xbf16>
  linalg.generic {indexing_maps = [#x3, #r3, #x3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x, %ss : memref<1x1x512xf32>, memref<1x1xf32>) outs(%xn : memref<1x1x512xbf16>) {
  ^bb0(%a: f32, %s: f32, %o: bf16):
    %mean = arith.divf %s, %n : f32
    %v = arith.addf %mean, %eps : f32
    %r = math.rsqrt %v : f32
    %y = arith.mulf %a, %r : f32
    %t = arith.truncf %y : f32 to bf16
    linalg.yield %t : bf16
  }
  %w = memref.view %blob[%c0][] : memref<4194304xi8> to memref<4096x512xbf16>
  linalg.fill ins(%zero : f32) outs(%out : memref<1x1x4096xf32>)
  linalg.generic {indexing_maps = [#sx, #sw, #sy], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%xn, %w : memref<1x1x512xbf16>, memref<4096x512xbf16>) outs(%out : memref<1x1x4096xf32>) {
  ^bb0(%a: bf16, %b: bf16, %acc: f32):
    %ea = arith.extf %a : bf16 to f32
    %eb = arith.extf %b : bf16 to f32
    %m = arith.mulf %ea, %eb : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  memref.dealloc %xn : memref<1x1x512xbf16>
  memref.dealloc %ss : memref<1x1xf32>
  return
}
