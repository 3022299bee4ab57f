// RUN: llamac-opt %s --llama-fuse-elementwise | FileCheck %s

#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#row = affine_map<(d0, d1, d2) -> (d2)>
#sum = affine_map<(d0, d1, d2) -> (d0, d1)>
#x = affine_map<(b, s, n, k) -> (b, s, k)>
#w = affine_map<(b, s, n, k) -> (n, k)>
#y = affine_map<(b, s, n, k) -> (b, s, n)>

// The key's RoPE-like scaling and its transpose into the cache layout, with
// the attention's reshape round trip between them: one generic that reads
// the key through the transposed map and scales it.
// CHECK-LABEL: func.func @into_transpose
// CHECK-SAME:    (%[[K:.*]]: tensor<1x2x4xf32>, %[[C:.*]]: tensor<4xf32>)
// CHECK-NOT:     linalg.transpose
// CHECK:         %[[T:.*]] = linalg.generic {{.*}} ins(%[[K]], %[[C]] : tensor<1x2x4xf32>, tensor<4xf32>) outs(%{{.*}} : tensor<2x1x4xf32>)
// CHECK:           arith.mulf
// CHECK-NOT:     linalg.generic
// CHECK:         return %[[T]]
func.func @into_transpose(%k: tensor<1x2x4xf32>, %c: tensor<4xf32>) -> tensor<2x1x4xf32> {
  %e = tensor.empty() : tensor<1x2x4xf32>
  %r = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%k, %c : tensor<1x2x4xf32>, tensor<4xf32>) outs(%e : tensor<1x2x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  } -> tensor<1x2x4xf32>
  %s = tensor.extract_slice %r[0, 0, 0] [1, 2, 4] [1, 1, 1] : tensor<1x2x4xf32> to tensor<2x4xf32>
  %x = tensor.expand_shape %s [[0, 1], [2]] output_shape [1, 2, 4] : tensor<2x4xf32> into tensor<1x2x4xf32>
  %t0 = tensor.empty() : tensor<2x1x4xf32>
  %t = linalg.transpose ins(%x : tensor<1x2x4xf32>) outs(%t0 : tensor<2x1x4xf32>) permutation = [1, 0, 2]
  return %t : tensor<2x1x4xf32>
}

// Decode's RMSNorm scaling into the one-row linear layer that alone reads
// it: the GEMV reads the norm's input, sum of squares and weights itself
// (the rsqrt is of the row's sum, the same for every step along k).
// CHECK-LABEL: func.func @norm_into_gemv
// CHECK-SAME:    (%[[X:.*]]: tensor<1x1x4xf32>, %[[SS:.*]]: tensor<1x1xf32>, %[[G:.*]]: tensor<4xf32>, %[[W:.*]]: tensor<2x4xf32>
// CHECK:         %[[Y:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[X]], %[[SS]], %[[G]], %[[W]] :
// CHECK:           math.rsqrt
// CHECK-NOT:     linalg.generic
// CHECK:         return %[[Y]]
func.func @norm_into_gemv(%x: tensor<1x1x4xf32>, %ss: tensor<1x1xf32>, %g: tensor<4xf32>, %w: tensor<2x4xf32>, %acc: tensor<1x1x2xf32>) -> tensor<1x1x2xf32> {
  %e = tensor.empty() : tensor<1x1x4xf32>
  %n = linalg.generic {indexing_maps = [#id, #sum, #row, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x, %ss, %g : tensor<1x1x4xf32>, tensor<1x1xf32>, tensor<4xf32>) outs(%e : tensor<1x1x4xf32>) {
  ^bb0(%a: f32, %s: f32, %b: f32, %o: f32):
    %r = math.rsqrt %s : f32
    %m = arith.mulf %a, %r : f32
    %v = arith.mulf %m, %b : f32
    linalg.yield %v : f32
  } -> tensor<1x1x4xf32>
  %lin = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%n, %w : tensor<1x1x4xf32>, tensor<2x4xf32>) outs(%acc : tensor<1x1x2xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x1x2xf32>
  return %lin : tensor<1x1x2xf32>
}

// Left alone: a producer read twice; one with an exp per element along the
// row (SwiGLU's: the GEMV would take an exp per weight); a linear layer
// over two rows (the tensor cores' GEMM).
// CHECK-LABEL: func.func @left_alone
// CHECK-COUNT-6: linalg.generic
// CHECK-NOT:     linalg.generic
func.func @left_alone(%x: tensor<1x1x4xf32>, %x2: tensor<1x2x4xf32>, %w: tensor<2x4xf32>, %acc: tensor<1x1x2xf32>, %acc2: tensor<1x2x2xf32>) -> (tensor<1x1x4xf32>, tensor<1x1x2xf32>, tensor<1x2x2xf32>) {
  %e = tensor.empty() : tensor<1x1x4xf32>
  %twice = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x : tensor<1x1x4xf32>) outs(%e : tensor<1x1x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %n = arith.negf %a : f32
    linalg.yield %n : f32
  } -> tensor<1x1x4xf32>
  %u1 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%twice : tensor<1x1x4xf32>) outs(%e : tensor<1x1x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %n = arith.mulf %a, %a : f32
    linalg.yield %n : f32
  } -> tensor<1x1x4xf32>
  %exp = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%twice : tensor<1x1x4xf32>) outs(%e : tensor<1x1x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %n = math.exp %a : f32
    linalg.yield %n : f32
  } -> tensor<1x1x4xf32>
  %lin = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%exp, %w : tensor<1x1x4xf32>, tensor<2x4xf32>) outs(%acc : tensor<1x1x2xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x1x2xf32>
  %e2 = tensor.empty() : tensor<1x2x4xf32>
  %neg2 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x2 : tensor<1x2x4xf32>) outs(%e2 : tensor<1x2x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %n = arith.negf %a : f32
    linalg.yield %n : f32
  } -> tensor<1x2x4xf32>
  %lin2 = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%neg2, %w : tensor<1x2x4xf32>, tensor<2x4xf32>) outs(%acc2 : tensor<1x2x2xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x2x2xf32>
  return %u1, %lin, %lin2 : tensor<1x1x4xf32>, tensor<1x1x2xf32>, tensor<1x2x2xf32>
}
