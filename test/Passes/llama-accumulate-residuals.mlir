// RUN: llamac-opt %s --llama-accumulate-residuals | FileCheck %s

#x = affine_map<(b, s, n, k) -> (b, s, k)>
#w = affine_map<(b, s, n, k) -> (n, k)>
#y = affine_map<(b, s, n, k) -> (b, s, n)>
#id = affine_map<(b, s, n) -> (b, s, n)>

// The linear layer starts from the residual instead of zeros, and its result
// replaces the addition (either operand order).
// CHECK-LABEL: func.func @residual
// CHECK-SAME:    (%[[H:.*]]: tensor<1x1x8xf32>, %[[A:.*]]: tensor<1x1x4xf32>
// CHECK:         %[[Y:.*]] = linalg.generic {{.*}} ins(%[[A]], %{{.*}} : tensor<1x1x4xf32>, tensor<8x4xf32>) outs(%[[H]] : tensor<1x1x8xf32>)
// CHECK-NOT:     linalg.generic
// CHECK:         return %[[Y]]
func.func @residual(%h: tensor<1x1x8xf32>, %a: tensor<1x1x4xf32>, %w: tensor<8x4xf32>) -> tensor<1x1x8xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x1x8xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1x8xf32>) -> tensor<1x1x8xf32>
  %y = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<1x1x4xf32>, tensor<8x4xf32>) outs(%z : tensor<1x1x8xf32>) {
  ^bb0(%in: f32, %wt: f32, %out: f32):
    %p = arith.mulf %in, %wt : f32
    %s = arith.addf %out, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x1x8xf32>
  %sum = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%y, %h : tensor<1x1x8xf32>, tensor<1x1x8xf32>) outs(%e : tensor<1x1x8xf32>) {
  ^bb0(%l: f32, %r: f32, %o: f32):
    %s = arith.addf %l, %r : f32
    linalg.yield %s : f32
  } -> tensor<1x1x8xf32>
  return %sum : tensor<1x1x8xf32>
}

// Left alone: the linear layer's output is read again (it must stay as it
// is), and a product is not a sum.
// CHECK-LABEL: func.func @read_twice
// CHECK:         linalg.fill
// CHECK:         %[[Y:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<1x1x8xf32>)
// CHECK:         %[[SUM:.*]] = linalg.generic {{.*}} ins(%[[H:.*]], %[[Y]] :
// CHECK:         %[[PROD:.*]] = linalg.generic {{.*}} ins(%[[H]], %[[SUM]] :
// CHECK:           arith.mulf
// CHECK:         return %[[PROD]], %[[Y]]
func.func @read_twice(%h: tensor<1x1x8xf32>, %a: tensor<1x1x4xf32>, %w: tensor<8x4xf32>) -> (tensor<1x1x8xf32>, tensor<1x1x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x1x8xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1x8xf32>) -> tensor<1x1x8xf32>
  %y = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<1x1x4xf32>, tensor<8x4xf32>) outs(%z : tensor<1x1x8xf32>) {
  ^bb0(%in: f32, %wt: f32, %out: f32):
    %p = arith.mulf %in, %wt : f32
    %s = arith.addf %out, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x1x8xf32>
  %sum = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%h, %y : tensor<1x1x8xf32>, tensor<1x1x8xf32>) outs(%e : tensor<1x1x8xf32>) {
  ^bb0(%l: f32, %r: f32, %o: f32):
    %s = arith.addf %l, %r : f32
    linalg.yield %s : f32
  } -> tensor<1x1x8xf32>
  %prod = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%h, %sum : tensor<1x1x8xf32>, tensor<1x1x8xf32>) outs(%e : tensor<1x1x8xf32>) {
  ^bb0(%l: f32, %r: f32, %o: f32):
    %s = arith.mulf %l, %r : f32
    linalg.yield %s : f32
  } -> tensor<1x1x8xf32>
  return %prod, %y : tensor<1x1x8xf32>, tensor<1x1x8xf32>
}

// Left alone: a reduction that starts from something other than zeros.
// CHECK-LABEL: func.func @from_one
// CHECK:         %[[Y:.*]] = linalg.generic {{.*}}"reduction"
// CHECK:         linalg.generic {{.*}} ins(%[[Y]], %{{.*}} :
func.func @from_one(%h: tensor<1x1x8xf32>, %a: tensor<1x1x4xf32>, %w: tensor<8x4xf32>) -> tensor<1x1x8xf32> {
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<1x1x8xf32>
  %z = linalg.fill ins(%one : f32) outs(%e : tensor<1x1x8xf32>) -> tensor<1x1x8xf32>
  %y = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<1x1x4xf32>, tensor<8x4xf32>) outs(%z : tensor<1x1x8xf32>) {
  ^bb0(%in: f32, %wt: f32, %out: f32):
    %p = arith.mulf %in, %wt : f32
    %s = arith.addf %out, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x1x8xf32>
  %sum = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%y, %h : tensor<1x1x8xf32>, tensor<1x1x8xf32>) outs(%e : tensor<1x1x8xf32>) {
  ^bb0(%l: f32, %r: f32, %o: f32):
    %s = arith.addf %l, %r : f32
    linalg.yield %s : f32
  } -> tensor<1x1x8xf32>
  return %sum : tensor<1x1x8xf32>
}
