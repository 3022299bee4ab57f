// RUN: llamac-opt %s --llama-to-linalg | FileCheck %s

// Each sequence's last real row: a gather whose row is lengths[b] - 1,
// clamped to the chunk (a bad length reads no memory outside it).
// CHECK-LABEL: func.func @last_rows
// CHECK:         linalg.generic {{.*}} ins(%arg1 : tensor<2xi64>) outs(%{{.*}} : tensor<2x1x16xf32>)
// CHECK:         ^bb0(%[[N:.*]]: i64, %{{.*}}: f32):
// CHECK:           %[[L:.*]] = arith.subi %[[N]], %c1_i64
// CHECK:           %[[LO:.*]] = arith.maxsi %[[L]], %c0_i64
// CHECK:           %[[HI:.*]] = arith.minsi %[[LO]], %c4_i64
// CHECK:           %[[ROW:.*]] = arith.index_cast %[[HI]] : i64 to index
// CHECK:           %[[B:.*]] = linalg.index 0
// CHECK:           %[[H:.*]] = linalg.index 2
// CHECK:           %[[V:.*]] = tensor.extract %arg0[%[[B]], %[[ROW]], %[[H]]] : tensor<2x5x16xf32>
// CHECK:           linalg.yield %[[V]]
func.func @last_rows(%x: tensor<2x5x16xf32>, %lengths: tensor<2xi64>) -> tensor<2x1x16xf32> {
  %y = llama.last_rows %x, %lengths : tensor<2x5x16xf32>, tensor<2xi64> -> tensor<2x1x16xf32>
  return %y : tensor<2x1x16xf32>
}
