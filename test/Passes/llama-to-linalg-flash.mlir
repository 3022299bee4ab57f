// RUN: llamac-opt %s --llama-to-linalg=flash-attention=true | FileCheck %s

// With flash-attention (the CUDA targets): the cache update is the same
// (insert_slice at the position), the attention one llama.flash_attention
// over the keys and values 0 .. position + 3 (a dynamically sized slice),
// q as [seq, heads, head_dim], scale 1/sqrt(4); no scores, softmax or
// weighted-sum ops.
// CHECK-LABEL: func.func @attention
// CHECK:         %[[UPD:.*]] = scf.for
// CHECK:           tensor.insert_slice
// CHECK:           tensor.insert_slice
// CHECK:         scf.for
// CHECK:           %[[LEN:.*]] = arith.addi %{{.*}}, %c3 : index
// CHECK:           %[[KEYS:.*]] = tensor.extract_slice %[[UPD]][1, 0, %{{.*}}, 0, 0, 0] [1, 1, 1, 2, %[[LEN]], 4] [1, 1, 1, 1, 1, 1] : tensor<2x2x1x2x32x4xf32> to tensor<2x?x4xf32>
// CHECK:           %[[VALS:.*]] = tensor.extract_slice %[[UPD]][1, 1, %{{.*}}, 0, 0, 0] [1, 1, 1, 2, %[[LEN]], 4]
// CHECK:           %[[QH:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0], [1, 2]] output_shape [3, 4, 4] : tensor<3x16xf32> into tensor<3x4x4xf32>
// CHECK-NOT:       linalg.generic
// CHECK:           %[[O:.*]] = llama.flash_attention ins(%[[QH]], %[[KEYS]], %[[VALS]] : tensor<3x4x4xf32>, tensor<2x?x4xf32>, tensor<2x?x4xf32>) outs(%{{.*}} : tensor<3x4x4xf32>) scale 5.000000e-01 -> tensor<3x4x4xf32>
// CHECK:           tensor.collapse_shape %[[O]] {{\[}}[0], [1, 2]] : tensor<3x4x4xf32> into tensor<3x16xf32>
// CHECK-NOT:       math.exp
// CHECK:           scf.yield
func.func @attention(%q: tensor<1x3x16xf32>, %k: tensor<1x3x8xf32>, %v: tensor<1x3x8xf32>, %cache: tensor<2x2x1x2x32x4xf32>, %pos: tensor<1xi64>) -> (tensor<1x3x16xf32>, tensor<2x2x1x2x32x4xf32>) {
  %o, %c1 = llama.attention %q, %k, %v cache %cache layer 1 at %pos : tensor<1x3x16xf32>, tensor<1x3x8xf32>, tensor<2x2x1x2x32x4xf32>, tensor<1xi64>
  return %o, %c1 : tensor<1x3x16xf32>, tensor<2x2x1x2x32x4xf32>
}
