// RUN: llamac-opt %s --llama-to-linalg | FileCheck %s --check-prefix=HOST
// RUN: llamac-opt %s --llama-to-linalg=flash-attention=true | FileCheck %s --check-prefix=KERNEL

// The host: k reductions over the vocabulary, one a place of the list, each
// with two outputs, the running maximum (from -inf) and its index (from -1,
// "none yet": the first eligible element is taken whatever its value, so a
// row of -inf still answers its lowest id). NaN counts as -inf and only a
// strictly greater value moves the index, so the scan's order keeps the
// lowest index of equal maxima. Pass j > 0 sees only what comes after pass
// j - 1's answer: a smaller value, or an equal one at a higher index.
// HOST-LABEL: func.func @top2
// HOST:         %[[NONE:.*]] = arith.constant -1 : i32
// HOST:         %[[NEGINF:.*]] = linalg.fill ins(%cst : f32) outs(%{{.*}} : tensor<1x2xf32>)
// HOST:         %[[NOIDS:.*]] = linalg.fill ins(%[[NONE]] : i32) outs(%{{.*}} : tensor<1x2xi32>)
// HOST:         %[[R0:.*]]:2 = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%arg0 : tensor<1x2x10xf32>) outs(%[[NEGINF]], %[[NOIDS]] : tensor<1x2xf32>, tensor<1x2xi32>)
// HOST:         ^bb0(%[[X:.*]]: f32, %[[MAX:.*]]: f32, %[[ID:.*]]: i32):
// HOST:           %[[NAN:.*]] = arith.cmpf uno, %[[X]], %[[X]]
// HOST:           %[[V:.*]] = arith.select %[[NAN]], %{{.*}}, %[[X]]
// HOST:           %[[I:.*]] = linalg.index 2
// HOST:           %[[I32:.*]] = arith.index_cast %[[I]] : index to i32
// HOST:           %[[FIRST:.*]] = arith.cmpi eq, %[[ID]], %[[NONE]]
// HOST:           %[[GT:.*]] = arith.cmpf ogt, %[[V]], %[[MAX]]
// HOST:           %[[TAKE:.*]] = arith.ori %[[FIRST]], %[[GT]]
// HOST:           %[[M:.*]] = arith.select %[[TAKE]], %[[V]], %[[MAX]]
// HOST:           %[[N:.*]] = arith.select %[[TAKE]], %[[I32]], %[[ID]]
// HOST:           linalg.yield %[[M]], %[[N]]
// HOST:         %[[V0:.*]] = tensor.insert_slice %[[R0]]#0 into %{{.*}}[0, 0, 0] [1, 2, 1] [1, 1, 1] : tensor<1x2xf32> into tensor<1x2x2xf32>
// HOST:         %[[I0:.*]] = tensor.insert_slice %[[R0]]#1 into %{{.*}}[0, 0, 0] [1, 2, 1] [1, 1, 1] : tensor<1x2xi32> into tensor<1x2x2xi32>
// HOST:         %[[R1:.*]]:2 = linalg.generic {{.*}} ins(%arg0, %[[R0]]#0, %[[R0]]#1 : tensor<1x2x10xf32>, tensor<1x2xf32>, tensor<1x2xi32>)
// HOST:         ^bb0(%{{.*}}: f32, %[[PV:.*]]: f32, %[[PID:.*]]: i32, %{{.*}}: f32, %{{.*}}: i32):
// HOST:           %[[BELOW:.*]] = arith.cmpf olt, %{{.*}}, %[[PV]]
// HOST:           %[[EQUAL:.*]] = arith.cmpf oeq, %{{.*}}, %[[PV]]
// HOST:           %[[LATER:.*]] = arith.cmpi sgt, %{{.*}}, %[[PID]]
// HOST:         %[[V1:.*]] = tensor.insert_slice %[[R1]]#0 into %[[V0]][0, 0, 1] [1, 2, 1] [1, 1, 1]
// HOST:         %[[I1:.*]] = tensor.insert_slice %[[R1]]#1 into %[[I0]][0, 0, 1] [1, 2, 1] [1, 1, 1]
// HOST:         return %[[V1]], %[[I1]]

// A GPU target: the kernel op, on empty inits.
// KERNEL-LABEL: func.func @top2
// KERNEL:         %[[VINIT:.*]] = tensor.empty() : tensor<1x2x2xf32>
// KERNEL:         %[[IINIT:.*]] = tensor.empty() : tensor<1x2x2xi32>
// KERNEL:         %[[TOP:.*]]:2 = llama.top_k_rows ins(%arg0 : tensor<1x2x10xf32>) outs(%[[VINIT]], %[[IINIT]] : tensor<1x2x2xf32>, tensor<1x2x2xi32>) -> tensor<1x2x2xf32>, tensor<1x2x2xi32>
// KERNEL:         return %[[TOP]]#0, %[[TOP]]#1
func.func @top2(%logits: tensor<1x2x10xf32>) -> (tensor<1x2x2xf32>, tensor<1x2x2xi32>) {
  %v, %i = llama.top_k %logits {k = 2} : tensor<1x2x10xf32> -> tensor<1x2x2xf32>, tensor<1x2x2xi32>
  return %v, %i : tensor<1x2x2xf32>, tensor<1x2x2xi32>
}
