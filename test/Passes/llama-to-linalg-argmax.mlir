// RUN: llamac-opt %s --llama-to-linalg | FileCheck %s --check-prefix=HOST
// RUN: llamac-opt %s --llama-to-linalg=flash-attention=true | FileCheck %s --check-prefix=KERNEL

// The host: one reduction over the vocabulary with two outputs, the running
// maximum (from -inf) and its index (from 0); NaN counts as -inf and only a
// strictly greater value moves the index, so the scan's order keeps the
// lowest index of equal maxima. The maximum itself is not returned.
// HOST-LABEL: func.func @greedy
// HOST:         %[[ZERO:.*]] = linalg.fill ins(%c0_i32 : i32) outs(%{{.*}} : tensor<1x2xi32>)
// HOST:         %[[NEGINF:.*]] = linalg.fill ins(%cst : f32) outs(%{{.*}} : tensor<1x2xf32>)
// HOST:         %[[R:.*]]:2 = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%arg0 : tensor<1x2x10xf32>) outs(%[[NEGINF]], %[[ZERO]] : tensor<1x2xf32>, tensor<1x2xi32>)
// HOST:         ^bb0(%[[X:.*]]: f32, %[[MAX:.*]]: f32, %[[ID:.*]]: i32):
// HOST:           %[[NAN:.*]] = arith.cmpf uno, %[[X]], %[[X]]
// HOST:           %[[V:.*]] = arith.select %[[NAN]], %{{.*}}, %[[X]]
// HOST:           %[[GT:.*]] = arith.cmpf ogt, %[[V]], %[[MAX]]
// HOST:           %[[I:.*]] = linalg.index 2
// HOST:           %[[I32:.*]] = arith.index_cast %[[I]] : index to i32
// HOST:           %[[M:.*]] = arith.select %[[GT]], %[[V]], %[[MAX]]
// HOST:           %[[N:.*]] = arith.select %[[GT]], %[[I32]], %[[ID]]
// HOST:           linalg.yield %[[M]], %[[N]]
// HOST:         return %[[R]]#1

// A GPU target: the kernel op, on an empty init.
// KERNEL-LABEL: func.func @greedy
// KERNEL:         %[[INIT:.*]] = tensor.empty() : tensor<1x2xi32>
// KERNEL:         %[[IDS:.*]] = llama.argmax_rows ins(%arg0 : tensor<1x2x10xf32>) outs(%[[INIT]] : tensor<1x2xi32>) -> tensor<1x2xi32>
// KERNEL:         return %[[IDS]]
func.func @greedy(%logits: tensor<1x2x10xf32>) -> tensor<1x2xi32> {
  %ids = llama.argmax %logits : tensor<1x2x10xf32> -> tensor<1x2xi32>
  return %ids : tensor<1x2xi32>
}
