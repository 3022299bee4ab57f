// RUN: llamac-opt %s --llama-to-linalg --canonicalize --cse | FileCheck %s --check-prefix=HOST
// RUN: llamac-opt %s --llama-to-linalg=flash-attention=true | FileCheck %s --check-prefix=KERNEL

// The host: a thread per row (a linalg.generic over [batch, seq] whose body
// reads the lists where it needs them). Greedy (temperature not > 0) or a
// first value that is not finite takes the first id. Else n = top-k where
// it is in [1, 8], else 8; three passes over the weights
// f32(exp((f64(v_i) - f64(v_0)) / t)), each summed in f64 in order: the
// total, the nucleus' end (the first sum >= p * total, where p < 1 and
// n > 1) with the sum there, and the draw (the first sum above u times the
// nucleus' sum; its last id if rounding leaves none).
// HOST-LABEL: func.func @draw
// HOST:         linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} outs(%{{.*}} : tensor<1x2xi32>)
// HOST:           %[[ROW:.*]] = linalg.index 1 : index
// HOST-DAG:       %[[T:.*]] = tensor.extract %arg2[%c0, %c0] : tensor<1x4xf64>
// HOST-DAG:       %[[K:.*]] = tensor.extract %arg2[%c0, %c1] : tensor<1x4xf64>
// HOST-DAG:       %[[P:.*]] = tensor.extract %arg2[%c0, %c2] : tensor<1x4xf64>
// HOST-DAG:       %[[U:.*]] = tensor.extract %arg2[%c0, %c3] : tensor<1x4xf64>
// HOST-DAG:       %[[FIRSTID:.*]] = tensor.extract %arg1[%c0, %[[ROW]], %c0] : tensor<1x2x8xi32>
// HOST-DAG:       %[[FIRST:.*]] = tensor.extract %arg0[%c0, %[[ROW]], %c0] : tensor<1x2x8xf32>
// HOST:           %[[ABS:.*]] = math.absf %[[FIRST]]
// HOST:           %[[FINITE:.*]] = arith.cmpf olt, %[[ABS]], %{{.*}} : f32
// HOST:           %[[TEMPERED:.*]] = arith.cmpf ogt, %[[T]], %{{.*}} : f64
// HOST:           %[[DRAWS:.*]] = arith.andi %[[TEMPERED]], %[[FINITE]]
// HOST:           %[[TOKEN:.*]] = scf.if %[[DRAWS]] -> (i32) {
// HOST:             %[[INVT:.*]] = arith.divf %{{.*}}, %[[T]] : f64
// HOST:             arith.cmpf oge, %[[K]]
// HOST:             arith.cmpf ole, %[[K]]
// HOST:             %[[N:.*]] = arith.index_cast %{{.*}} : i64 to index
// HOST:             %[[SUM:.*]] = scf.for %{{.*}} = %c0 to %[[N]] step %c1 iter_args(%{{.*}} = %{{.*}}) -> (f64) {
// HOST:               arith.subf
// HOST:               arith.mulf %{{.*}}, %[[INVT]] : f64
// HOST:               math.exp %{{.*}} : f64
// HOST:               arith.truncf %{{.*}} : f64 to f32
// HOST:               arith.extf %{{.*}} : f32 to f64
// HOST:               arith.addf
// HOST:             arith.cmpf olt, %[[P]]
// HOST:             %[[TARGET:.*]] = arith.mulf %[[P]], %[[SUM]] : f64
// HOST:             %[[KEPT:.*]]:4 = scf.for %{{.*}} = %c0 to %[[N]] step %c1 iter_args({{.*}}) -> (f64, index, f64, i1) {
// HOST:               arith.cmpf oge, %{{.*}}, %[[TARGET]] : f64
// HOST:             %[[R:.*]] = arith.mulf %[[U]], %[[KEPT]]#2 : f64
// HOST:             %[[PICK:.*]]:2 = scf.for %{{.*}} = %c0 to %[[KEPT]]#1 step %c1 iter_args({{.*}}) -> (f64, index) {
// HOST:               arith.cmpf olt, %[[R]], %{{.*}} : f64
// HOST:             tensor.extract %arg1[%c0, %[[ROW]], %{{.*}}] : tensor<1x2x8xi32>
// HOST:           } else {
// HOST:             scf.yield %[[FIRSTID]] : i32
// HOST:           linalg.yield %[[TOKEN]] : i32

// A GPU target: the kernel op, on an empty init.
// KERNEL-LABEL: func.func @draw
// KERNEL:         %[[INIT:.*]] = tensor.empty() : tensor<1x2xi32>
// KERNEL:         %[[NEXT:.*]] = llama.sample_rows ins(%arg0, %arg1, %arg2 : tensor<1x2x8xf32>, tensor<1x2x8xi32>, tensor<1x4xf64>) outs(%[[INIT]] : tensor<1x2xi32>) -> tensor<1x2xi32>
// KERNEL:         return %[[NEXT]]
func.func @draw(%v: tensor<1x2x8xf32>, %i: tensor<1x2x8xi32>, %s: tensor<1x4xf64>) -> tensor<1x2xi32> {
  %next = llama.sample %v, %i, %s : tensor<1x2x8xf32>, tensor<1x2x8xi32>, tensor<1x4xf64> -> tensor<1x2xi32>
  return %next : tensor<1x2xi32>
}
