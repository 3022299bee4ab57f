// RUN: llamac-opt %s -split-input-file --llama-vectorize-linear --canonicalize --cse | FileCheck %s
// RUN: not llamac-opt %s -split-input-file --llama-vectorize-linear=lanes=0 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: llama-vectorize-linear: lanes and tile sizes must be positive

// A bf16 linear over 4 tokens, 8 rows, k = 20: blocks of 2 tokens x 4 rows,
// 8 vector<8xf32> accumulators over k in [0, 16) (each weight vector widened
// once and used for both tokens), one horizontal sum per output onto its
// old value, then the k remainder [16, 20) in scalars. Nothing is left for
// linalg.

#x = affine_map<(b, n, s, k) -> (b, s, k)>
#w = affine_map<(b, n, s, k) -> (n, k)>
#o = affine_map<(b, n, s, k) -> (b, s, n)>
// CHECK-LABEL: func.func @prefill_bf16
// CHECK-DAG:   %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG:   %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG:   %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG:   %[[C8:.*]] = arith.constant 8 : index
// CHECK-DAG:   %[[C16:.*]] = arith.constant 16 : index
// CHECK-DAG:   %[[C20:.*]] = arith.constant 20 : index
// CHECK:       scf.for %[[N:.*]] = %[[C0]] to %[[C8]] step %[[C4]] {
// CHECK-NEXT:    scf.for %[[S:.*]] = %[[C0]] to %[[C4]] step %[[C2]] {
// CHECK:           %[[ACC:.*]]:8 = scf.for %[[K:.*]] = %[[C0]] to %[[C16]] step %[[C8]] iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>) {
// CHECK-COUNT-2:     vector.load %arg0[%{{.*}}, %{{.*}}, %[[K]]] : memref<1x4x20xf32>, vector<8xf32>
// CHECK:             %[[W0:.*]] = vector.load %arg1[%[[N]], %[[K]]] : memref<8x20xbf16>, vector<8xbf16>
// CHECK-NEXT:        %[[W0F:.*]] = arith.extf %[[W0]] : vector<8xbf16> to vector<8xf32>
// CHECK-NEXT:        vector.fma %{{.*}}, %[[W0F]], %{{.*}} : vector<8xf32>
// CHECK-NEXT:        vector.fma %{{.*}}, %[[W0F]], %{{.*}} : vector<8xf32>
// CHECK-COUNT-6:     vector.fma
// CHECK-NOT:         vector.fma
// CHECK:             scf.yield
// CHECK:           %[[OLD:.*]] = memref.load %arg2[%{{.*}}, %[[S]], %[[N]]] : memref<1x4x8xf32>
// CHECK-NEXT:      vector.reduction <add>, %[[ACC]]#0, %[[OLD]] fastmath<reassoc,contract> : vector<8xf32> into f32
// CHECK-COUNT-7:   vector.reduction <add>
// CHECK:           %[[TAIL:.*]]:8 = scf.for %{{.*}} = %[[C16]] to %[[C20]] step %{{.*}} iter_args({{.*}}) -> (f32, f32, f32, f32, f32, f32, f32, f32) {
// CHECK:             arith.extf %{{.*}} : bf16 to f32
// CHECK:           memref.store %[[TAIL]]#0, %arg2[%{{.*}}, %[[S]], %[[N]]] : memref<1x4x8xf32>
// CHECK-COUNT-7:   memref.store
// CHECK-NOT:   linalg.generic
// CHECK:       return
func.func @prefill_bf16(%x: memref<1x4x20xf32>, %w: memref<8x20xbf16>, %out: memref<1x4x8xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %w : memref<1x4x20xf32>, memref<8x20xbf16>) outs(%out : memref<1x4x8xf32>) {
  ^bb0(%a: f32, %b: bf16, %c: f32):
    %e = arith.extf %b : bf16 to f32
    %m = arith.mulf %a, %e fastmath<reassoc, contract> : f32
    %s = arith.addf %c, %m fastmath<reassoc, contract> : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// 5 tokens, 10 rows (operands of the body in the other order): tokens 0-3
// in 2 x 4 blocks over rows 0-7; token 4 alone, 8 rows at once (decode's
// shape); rows 8-9 stay linalg.generic on subviews, for tokens 0-3 and for
// token 4.

#x = affine_map<(b, n, s, k) -> (b, s, k)>
#w = affine_map<(b, n, s, k) -> (n, k)>
#o = affine_map<(b, n, s, k) -> (b, s, n)>
// CHECK-LABEL: func.func @remainders
// CHECK:       scf.for {{.*}} {
// CHECK:         scf.for {{.*}} {
// CHECK:           scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// The single token: one activation load, 8 weight rows.
// CHECK:       scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>) {
// CHECK-NEXT:    vector.load %arg0[%{{.*}}, %[[C4:.*]], %{{.*}}] : memref<1x5x16xf32>, vector<8xf32>
// CHECK-NOT:     vector.load %arg0
// CHECK-COUNT-8: vector.load %arg1
// CHECK:       %[[X0:.*]] = memref.subview %arg0[0, 0, 0] [1, 4, 16] [1, 1, 1]
// CHECK:       %[[W8:.*]] = memref.subview %arg1[8, 0] [2, 16] [1, 1]
// CHECK:       %[[O0:.*]] = memref.subview %arg2[0, 0, 8] [1, 4, 2] [1, 1, 1]
// CHECK:       linalg.generic {{.*}} ins(%[[X0]], %[[W8]] : {{.*}}) outs(%[[O0]] : {{.*}})
// CHECK:       %[[X4:.*]] = memref.subview %arg0[0, 4, 0] [1, 1, 16] [1, 1, 1]
// CHECK:       %[[O4:.*]] = memref.subview %arg2[0, 4, 8] [1, 1, 2] [1, 1, 1]
// CHECK:       linalg.generic {{.*}} ins(%[[X4]], %[[W8]] : {{.*}}) outs(%[[O4]] : {{.*}})
// CHECK-NOT:   linalg.generic
func.func @remainders(%x: memref<1x5x16xf32>, %w: memref<10x16xf32>, %out: memref<1x5x10xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %w : memref<1x5x16xf32>, memref<10x16xf32>) outs(%out : memref<1x5x10xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %b, %a : f32
    %s = arith.addf %m, %c : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Left alone: a dynamic token count, an activation whose k is strided, and a
// body that is not out + x * w.

#x = affine_map<(b, n, s, k) -> (b, s, k)>
#w = affine_map<(b, n, s, k) -> (n, k)>
#o = affine_map<(b, n, s, k) -> (b, s, n)>
// CHECK-LABEL: func.func @not_linear
// CHECK-NOT:   vector.
// CHECK-COUNT-3: linalg.generic
func.func @not_linear(%x: memref<1x?x16xf32>, %w: memref<8x16xf32>, %out: memref<1x?x8xf32>,
                      %xs: memref<1x2x16xf32, strided<[64, 32, 2]>>, %out2: memref<1x2x8xf32>,
                      %x2: memref<1x2x16xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %w : memref<1x?x16xf32>, memref<8x16xf32>) outs(%out : memref<1x?x8xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %c, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%xs, %w : memref<1x2x16xf32, strided<[64, 32, 2]>>, memref<8x16xf32>) outs(%out2 : memref<1x2x8xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %c, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x2, %w : memref<1x2x16xf32>, memref<8x16xf32>) outs(%out2 : memref<1x2x8xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.subf %c, %m : f32
    linalg.yield %s : f32
  }
  return
}
