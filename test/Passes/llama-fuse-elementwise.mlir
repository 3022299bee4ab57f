// RUN: llamac-opt %s --llama-fuse-elementwise | FileCheck %s
// RUN: llamac-opt %s --llama-fuse-elementwise | FileCheck %s --check-prefix=MAPS

// The reindexing maps of @heads_split_out and @tokens_heads_split_out: head
// h (d0), element e (d2) of token s (d1) at h * 4 + e of row s, with no
// div or mod left (the loops' ranges bound each term).
// MAPS-DAG: affine_map<(d0, d1, d2) -> (0, 0, d0 * 4 + d2)>
// MAPS-DAG: affine_map<(d0, d1, d2) -> (0, d1, d0 * 4 + d2)>

#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#row = affine_map<(d0, d1, d2) -> (d2)>
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

// A producer read twice, and one read by a reduction alone (a linear
// layer, which would recompute it for every output): all stay separate.
// CHECK-LABEL: func.func @left_alone
// CHECK-COUNT-4: linalg.generic
// CHECK-NOT:     linalg.generic
func.func @left_alone(%x: tensor<1x1x4xf32>, %w: tensor<2x4xf32>, %acc: tensor<1x1x2xf32>) -> (tensor<1x1x4xf32>, tensor<1x1x2xf32>, tensor<1x1x2xf32>) {
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
    %n = math.exp %a : f32
    linalg.yield %n : f32
  } -> tensor<1x1x4xf32>
  %sq = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%twice : tensor<1x1x4xf32>) outs(%e : tensor<1x1x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %n = arith.mulf %a, %a : f32
    linalg.yield %n : f32
  } -> tensor<1x1x4xf32>
  %lin = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%sq, %w : tensor<1x1x4xf32>, tensor<2x4xf32>) outs(%acc : tensor<1x1x2xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x1x2xf32>
  return %u1, %lin, %acc : tensor<1x1x4xf32>, tensor<1x1x2xf32>, tensor<1x1x2xf32>
}

// Several kv heads: the key's RoPE-like op over the merged row of two
// heads, the heads split out (extract_slice + expand_shape, not a round
// trip) for the transpose into the cache layout. The transpose reads the
// producer's row itself through a reindexing map (head h, element d at
// h * 4 + d), and the two fuse: the producer's own index (linalg.index 2)
// becomes that expression.
// CHECK-LABEL: func.func @heads_split_out
// CHECK-SAME:    (%[[K:.*]]: tensor<1x1x8xf32>, %[[C:.*]]: tensor<4xf32>)
// CHECK-NOT:     linalg.transpose
// CHECK-NOT:     tensor.expand_shape
// CHECK:         %[[T:.*]] = linalg.generic {indexing_maps = [#[[READ:.*]], #[[COS:.*]], #{{.*}}], {{.*}} ins(%[[K]], %[[C]] : tensor<1x1x8xf32>, tensor<4xf32>) outs(%{{.*}} : tensor<2x1x4xf32>)
// CHECK:           %[[H:.*]] = linalg.index 0
// CHECK:           %[[D:.*]] = linalg.index 2
// CHECK:           affine.apply #{{.*}}(%[[H]], %{{.*}}, %[[D]])
// CHECK-NOT:     linalg.generic
// CHECK:         return %[[T]]
func.func @heads_split_out(%k: tensor<1x1x8xf32>, %c: tensor<4xf32>) -> tensor<2x1x4xf32> {
  %e = tensor.empty() : tensor<1x1x8xf32>
  %r = linalg.generic {indexing_maps = [#id, affine_map<(d0, d1, d2) -> (d2 mod 4)>, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%k, %c : tensor<1x1x8xf32>, tensor<4xf32>) outs(%e : tensor<1x1x8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %i = linalg.index 2 : index
    %ii = arith.index_cast %i : index to i32
    %f = arith.sitofp %ii : i32 to f32
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %m, %f : f32
    linalg.yield %s : f32
  } -> tensor<1x1x8xf32>
  %s = tensor.extract_slice %r[0, 0, 0] [1, 1, 8] [1, 1, 1] : tensor<1x1x8xf32> to tensor<1x8xf32>
  %x = tensor.expand_shape %s [[0], [1, 2]] output_shape [1, 2, 4] : tensor<1x8xf32> into tensor<1x2x4xf32>
  %t0 = tensor.empty() : tensor<2x1x4xf32>
  %t = linalg.transpose ins(%x : tensor<1x2x4xf32>) outs(%t0 : tensor<2x1x4xf32>) permutation = [1, 0, 2]
  return %t : tensor<2x1x4xf32>
}

// The same for a prefill chunk of three tokens: the reshape splits the
// merged row of each token ([1, 3, 2 * 4] -> [3, 2, 4]), the transpose
// puts heads first.
// CHECK-LABEL: func.func @tokens_heads_split_out
// CHECK-SAME:    (%[[K:.*]]: tensor<1x3x8xf32>)
// CHECK-NOT:     linalg.transpose
// CHECK:         %[[T:.*]] = linalg.generic {{.*}} ins(%[[K]] : tensor<1x3x8xf32>) outs(%{{.*}} : tensor<2x3x4xf32>)
// CHECK:           math.exp
// CHECK-NOT:     linalg.generic
// CHECK:         return %[[T]]
func.func @tokens_heads_split_out(%k: tensor<1x3x8xf32>) -> tensor<2x3x4xf32> {
  %e = tensor.empty() : tensor<1x3x8xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%k : tensor<1x3x8xf32>) outs(%e : tensor<1x3x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %x = math.exp %a : f32
    linalg.yield %x : f32
  } -> tensor<1x3x8xf32>
  %s = tensor.extract_slice %r[0, 0, 0] [1, 3, 8] [1, 1, 1] : tensor<1x3x8xf32> to tensor<3x8xf32>
  %x = tensor.expand_shape %s [[0], [1, 2]] output_shape [3, 2, 4] : tensor<3x8xf32> into tensor<3x2x4xf32>
  %t0 = tensor.empty() : tensor<2x3x4xf32>
  %t = linalg.transpose ins(%x : tensor<3x2x4xf32>) outs(%t0 : tensor<2x3x4xf32>) permutation = [1, 0, 2]
  return %t : tensor<2x3x4xf32>
}
