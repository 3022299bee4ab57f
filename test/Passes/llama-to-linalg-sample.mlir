// RUN: llamac-opt %s --llama-to-linalg --canonicalize --cse | FileCheck %s --check-prefix=HOST
// RUN: llamac-opt %s --llama-to-linalg=flash-attention=true | FileCheck %s --check-prefix=KERNEL

// The host: a thread per row (a linalg.generic over [batch, seq] whose body
// reads the lists where it needs them). Greedy (temperature not > 0) or a
// first value that is not finite takes the first id. Else, where top-k is
// in [1, 8], from the list: n = top-k; three passes over the weights
// f32(exp((f64(v_i) - f64(v_0)) / t)), each summed in f64 in order: the
// total, the nucleus' end (the first sum >= p * total, where p < 1 and
// n > 1) with the sum there, and the draw (the first sum above u times the
// nucleus' sum; its last id if rounding leaves none).
// HOST-LABEL: func.func @draw
// The row regime's histogram (1,024 bins), hoisted out of the body by
// canonicalization: one a call, the rows drawn one after another.
// HOST:         %[[HIST:.*]] = memref.alloca() : memref<1024xi64>
// HOST:         linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} outs(%{{.*}} : tensor<1x2xi32>)
// HOST:           %[[ROW:.*]] = linalg.index 1 : index
// HOST-DAG:       %[[T:.*]] = tensor.extract %arg3[%c0, %c0] : tensor<1x4xf64>
// HOST-DAG:       %[[K:.*]] = tensor.extract %arg3[%c0, %c1] : tensor<1x4xf64>
// HOST-DAG:       %[[P:.*]] = tensor.extract %arg3[%c0, %c2] : tensor<1x4xf64>
// HOST-DAG:       %[[U:.*]] = tensor.extract %arg3[%c0, %c3] : tensor<1x4xf64>
// HOST-DAG:       %[[FIRSTID:.*]] = tensor.extract %arg2[%c0, %[[ROW]], %c0] : tensor<1x2x8xi32>
// HOST-DAG:       %[[FIRST:.*]] = tensor.extract %arg1[%c0, %[[ROW]], %c0] : tensor<1x2x8xf32>
// HOST:           %[[ABS:.*]] = math.absf %[[FIRST]]
// HOST:           %[[FINITE:.*]] = arith.cmpf olt, %[[ABS]], %{{.*}} : f32
// HOST:           %[[TEMPERED:.*]] = arith.cmpf ogt, %[[T]], %{{.*}} : f64
// HOST:           %[[KMIN:.*]] = arith.cmpf oge, %[[K]], %{{.*}} : f64
// HOST:           %[[KMAX:.*]] = arith.cmpf ole, %[[K]], %{{.*}} : f64
// HOST:           %[[LISTED:.*]] = arith.andi %[[KMIN]], %[[KMAX]]
// HOST:           %[[DRAWS:.*]] = arith.andi %[[TEMPERED]], %[[FINITE]]
// HOST:           %[[TOKEN:.*]] = scf.if %[[DRAWS]] -> (i32) {
// HOST:             %[[FROMLIST:.*]] = scf.if %[[LISTED]] -> (i32) {
// HOST:             %[[INVT:.*]] = arith.divf %{{.*}}, %[[T]] : f64
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
// HOST:             tensor.extract %arg2[%c0, %[[ROW]], %{{.*}}] : tensor<1x2x8xi32>
// From the row (top-k off or past 8), in fixed point: weights in f32 (0 for
// NaN, 1 at the maximum), their keys (bit patterns) and masses (times 2^57:
// 32 entries' sum stays below 2^63). Top-k's count threshold where
// 8 < k < 32 and top-p's mass threshold where p < 1, each three 10-bit
// digits of the keys from the top: the bins cleared, a pass over the row
// adding each entry whose key has the digits found so far into its next
// digit's bin (the first digit: bits 29-20, every key below 2^30), a
// search from bin 1023 down for the first digit where the entries above
// and the bins from it reach the target; then the nucleus' mass, r, and
// the first id whose running mass exceeds r.
// HOST:           } else {
// HOST:             %[[S:.*]] = arith.truncf %{{.*}} : f64 to f32
// HOST:             arith.cmpf ogt, %[[K]], %{{.*}} : f64
// HOST:             arith.cmpf olt, %[[K]], %{{.*}} : f64
// HOST:             %[[KAPPA:.*]] = scf.if %{{.*}} -> (i32) {
// HOST:               %[[TARGETK:.*]] = arith.select %{{.*}}, %{{.*}}, %c0_i64 : i64
// HOST:               scf.for %{{.*}} = %c0 to %c1024 step %c1 {
// HOST:                 memref.store %c0_i64, %[[HIST]][%{{.*}}] : memref<1024xi64>
// HOST:               scf.for %{{.*}} = %c0 to %c32 step %c1 {
// HOST:                 %[[X:.*]] = tensor.extract %arg0[%c0, %[[ROW]], %{{.*}}] : tensor<1x2x32xf32>
// HOST:                 %[[D:.*]] = arith.subf %[[X]], %[[FIRST]] : f32
// HOST:                 %[[SD:.*]] = arith.mulf %[[D]], %[[S]] : f32
// HOST:                 %[[E:.*]] = math.exp %[[SD]] : f32
// HOST:                 %[[ATMAX:.*]] = arith.cmpf oeq, %[[X]], %[[FIRST]] : f32
// HOST:                 %[[NAN:.*]] = arith.cmpf uno, %[[X]], %[[X]] : f32
// HOST:                 %[[W1:.*]] = arith.select %[[ATMAX]], %cst{{.*}}, %[[E]] : f32
// HOST:                 %[[W:.*]] = arith.select %[[NAN]], %cst{{.*}}, %[[W1]] : f32
// HOST:                 %[[KEY:.*]] = arith.bitcast %[[W]] : f32 to i32
// HOST:                 %[[TOP:.*]] = arith.shrui %[[KEY]], %c30_i32 : i32
// HOST:                 %[[MATCH:.*]] = arith.cmpi eq, %[[TOP]], %c0_i32 : i32
// HOST:                 scf.if %[[MATCH]] {
// HOST:                   %[[HIGH:.*]] = arith.shrui %[[KEY]], %c20_i32 : i32
// HOST:                   %[[DIGIT:.*]] = arith.andi %[[HIGH]], %c1023_i32 : i32
// HOST:                   %[[BIN:.*]] = arith.index_castui %[[DIGIT]] : i32 to index
// HOST:                   %[[OLD:.*]] = memref.load %[[HIST]][%[[BIN]]] : memref<1024xi64>
// HOST:                   %[[NEW:.*]] = arith.addi %[[OLD]], %c1_i64 : i64
// HOST:                   memref.store %[[NEW]], %[[HIST]][%[[BIN]]] : memref<1024xi64>
// HOST:               %[[FIRSTDIGIT:.*]]:3 = scf.for %{{.*}} = %c0 to %c1024 step %c1 iter_args(%[[SUFFIX:.*]] = %c0_i64, %[[FOUND:.*]] = %c-1_i32, %{{.*}} = %c0_i64) -> (i64, i32, i64) {
// HOST:                 %[[FROMTOP:.*]] = arith.subi %c1023, %{{.*}} : index
// HOST:                 memref.load %[[HIST]][%[[FROMTOP]]] : memref<1024xi64>
// HOST:                 arith.cmpi eq, %[[FOUND]], %c-1_i32 : i32
// HOST:                 arith.cmpi uge, %{{.*}}, %[[TARGETK]] : i64
// HOST:               arith.maxsi %[[FIRSTDIGIT]]#1, %c0_i32 : i32
// The second digit: keys whose bits 29-20 are the first digit, bits 19-10
// binned, the search starting from what the entries above held.
// HOST:               arith.shrui %{{.*}}, %c20_i32 : i32
// HOST:               scf.for %{{.*}} = %c0 to %c32 step %c1 {
// HOST:                 arith.shrui %{{.*}}, %c10_i32 : i32
// HOST:               scf.for %{{.*}} = %c0 to %c1024 step %c1 iter_args(%{{.*}} = %c0_i64, %{{.*}} = %c-1_i32, %{{.*}} = %[[FIRSTDIGIT]]#2) -> (i64, i32, i64) {
// HOST:               scf.for %{{.*}} = %c0 to %c32 step %c1 {
// HOST:                 arith.andi %{{.*}}, %c1023_i32 : i32
// HOST:               scf.for %{{.*}} = %c0 to %c1024 step %c1 iter_args
// HOST:             } else {
// HOST:               scf.yield %c0_i32 : i32
// HOST:             arith.cmpf olt, %[[P]], %{{.*}} : f64
// HOST:             %[[PI:.*]] = scf.if %{{.*}} -> (i32) {
// HOST:               arith.fptoui %{{.*}} : f64 to i64
// HOST:               arith.maxui %{{.*}}, %c1_i64 : i64
// HOST:             } else {
// HOST:               scf.yield %[[KAPPA]] : i32
// HOST:             arith.mulf %[[U]], %{{.*}} : f64
// HOST:             arith.minui
// HOST:             %[[PICK2:.*]]:2 = scf.for %{{.*}} = %c0 to %c32 step %c1 iter_args(%{{.*}} = %c0_i64, %{{.*}} = %c-1_i32) -> (i64, i32) {
// HOST:               arith.cmpi uge, %{{.*}}, %[[PI]] : i32
// HOST:               arith.cmpi ugt
// HOST:             scf.yield %[[PICK2]]#1 : i32
// HOST:           } else {
// HOST:             scf.yield %[[FIRSTID]] : i32
// HOST:           linalg.yield %[[TOKEN]] : i32

// A GPU target: the kernel op, on an empty init.
// KERNEL-LABEL: func.func @draw
// KERNEL:         %[[INIT:.*]] = tensor.empty() : tensor<1x2xi32>
// KERNEL:         %[[NEXT:.*]] = llama.sample_rows ins(%arg0, %arg1, %arg2, %arg3 : tensor<1x2x32xf32>, tensor<1x2x8xf32>, tensor<1x2x8xi32>, tensor<1x4xf64>) outs(%[[INIT]] : tensor<1x2xi32>) -> tensor<1x2xi32>
// KERNEL:         return %[[NEXT]]
func.func @draw(%l: tensor<1x2x32xf32>, %v: tensor<1x2x8xf32>, %i: tensor<1x2x8xi32>, %s: tensor<1x4xf64>) -> tensor<1x2xi32> {
  %next = llama.sample %l, %v, %i, %s : tensor<1x2x32xf32>, tensor<1x2x8xf32>, tensor<1x2x8xi32>, tensor<1x4xf64> -> tensor<1x2xi32>
  return %next : tensor<1x2xi32>
}
