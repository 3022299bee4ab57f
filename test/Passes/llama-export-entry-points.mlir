// RUN: llamac-opt %s -split-input-file --llama-outline-kernels --convert-linalg-to-loops --convert-scf-to-cf --convert-arith-to-llvm --finalize-memref-to-llvm --convert-func-to-llvm --convert-cf-to-llvm --reconcile-unrealized-casts --llama-export-entry-points -verify-diagnostics | FileCheck %s

// An entry point keeps its name with one pointer per memref, and calls the
// original (now internal) function with every descriptor field filled in:
// pointer twice, offset 0, the static sizes, the row-major strides. Kernels
// become internal and no_inline.

#id = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: llvm.func @entry(%arg0: !llvm.ptr, %arg1: !llvm.ptr)
// CHECK-DAG: %[[C0:.*]] = llvm.mlir.constant(0 : i64) : i64
// CHECK-DAG: %[[C1:.*]] = llvm.mlir.constant(1 : i64) : i64
// CHECK-DAG: %[[C2:.*]] = llvm.mlir.constant(2 : i64) : i64
// CHECK-DAG: %[[C3:.*]] = llvm.mlir.constant(3 : i64) : i64
// CHECK-DAG: %[[C5:.*]] = llvm.mlir.constant(5 : i64) : i64
// CHECK: llvm.call @entry_impl(%arg0, %arg0, %[[C0]], %[[C2]], %[[C3]], %[[C3]], %[[C1]], %arg1, %arg1, %[[C0]], %[[C5]], %[[C1]])
// CHECK-NEXT: llvm.return
// CHECK: llvm.func internal @entry_impl(
// CHECK-NOT: llama.entry_memrefs
// CHECK: llvm.func internal @kernel_generic_0({{.*}}) attributes {no_inline
func.func @entry(%a: memref<2x3xf32>, %b: memref<5xf32>) {
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%a : memref<2x3xf32>) outs(%a : memref<2x3xf32>) {
  ^bb0(%x: f32, %y: f32):
    %m = arith.mulf %x, %x : f32
    linalg.yield %m : f32
  }
  return
}

// -----

// An entry point whose buffers are not static row-major cannot have the
// bare-pointer ABI.
// expected-error @below {{entry point argument #0 must be a static row-major memref, got 'memref<?xf32>'}}
func.func @dynamic(%a: memref<?xf32>) {
  return
}
