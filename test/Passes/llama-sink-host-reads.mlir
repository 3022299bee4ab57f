// RUN: llamac-opt %s --llama-sink-host-reads | FileCheck %s

// Only @sunk and @llvm_constant make the same launches on every call once its read moved.
// CHECK: module attributes {llama.replayable_entries = ["sunk", "llvm_constant"]}

// The position read, its cast and the cache-row view move into the launch
// that writes the row; the host keeps nothing of them.
// CHECK-LABEL: func.func @sunk
// CHECK-NOT:   memref.load
// CHECK-NOT:   memref.subview
// CHECK:       gpu.launch
// CHECK-NEXT:    %[[P:.*]] = memref.load %arg0[%c0] : memref<1xi64>
// CHECK-NEXT:    %[[I:.*]] = arith.index_cast %[[P]] : i64 to index
// CHECK-NEXT:    %[[ROW:.*]] = memref.subview %arg1[%[[I]], 0] [1, 8] [1, 1]
// CHECK:         memref.store %{{.*}}, %[[ROW]][%c0, %{{.*}}]
// The attention's keys, sized by position + 1, likewise.
// CHECK:       gpu.launch
// CHECK-NEXT:    memref.load %arg0[%c0]
// CHECK-NEXT:    arith.index_cast
// CHECK-NEXT:    %[[LEN:.*]] = arith.addi %{{.*}}, %c1 : index
// CHECK-NEXT:    %[[KEYS:.*]] = memref.subview %arg1[0, 0] [%[[LEN]], 8] [1, 1]
// CHECK:         memref.dim %[[KEYS]], %c0
func.func @sunk(%positions: memref<1xi64>, %cache: memref<16x8xf32>, %x: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %p = memref.load %positions[%c0] : memref<1xi64>
  %i = arith.index_cast %p : i64 to index
  %row = memref.subview %cache[%i, 0] [1, 8] [1, 1] : memref<16x8xf32> to memref<1x8xf32, strided<[8, 1], offset: ?>>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c8, %sy = %c1, %sz = %c1) {
    %v = memref.load %x[%tx] : memref<8xf32>
    memref.store %v, %row[%c0, %tx] : memref<1x8xf32, strided<[8, 1], offset: ?>>
    gpu.terminator
  }
  %len = arith.addi %i, %c1 : index
  %keys = memref.subview %cache[0, 0] [%len, 8] [1, 1] : memref<16x8xf32> to memref<?x8xf32, strided<[8, 1]>>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c8, %sy = %c1, %sz = %c1) {
    %n = memref.dim %keys, %c0 : memref<?x8xf32, strided<[8, 1]>>
    %last = arith.subi %n, %c1 : index
    %v = memref.load %keys[%last, %tx] : memref<?x8xf32, strided<[8, 1]>>
    memref.store %v, %x[%tx] : memref<8xf32>
    gpu.terminator
  }
  return
}

// A grid sized by the position cannot move into the kernel: the read stays
// on the host, and the entry is not replayable.
// CHECK-LABEL: func.func @grid_from_position
// CHECK:       %[[P:.*]] = memref.load %arg0[%c0]
// CHECK:       %[[N:.*]] = arith.index_cast %[[P]]
// CHECK:       gpu.launch blocks({{.*}}) in ({{.*}} = %[[N]],
func.func @grid_from_position(%positions: memref<1xi64>, %x: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %f = arith.constant 1.0 : f32
  %p = memref.load %positions[%c0] : memref<1xi64>
  %n = arith.index_cast %p : i64 to index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %n, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    memref.store %f, %x[%bx] : memref<8xf32>
    gpu.terminator
  }
  return
}

// A buffer sized at run time is not the same on every call either.
// CHECK-LABEL: func.func @dynamic_buffer
// CHECK:       gpu.alloc (%{{.*}})
func.func @dynamic_buffer(%positions: memref<1xi64>) {
  %c0 = arith.constant 0 : index
  %p = memref.load %positions[%c0] : memref<1xi64>
  %n = arith.index_cast %p : i64 to index
  %t = gpu.alloc (%n) : memref<?xf32>
  gpu.dealloc %t : memref<?xf32>
  return
}

// A constant of another dialect on the host (CSE hoists the wgmma kernels'
// zero accumulator, an llvm.mlir.zero, out of their launches) is the same
// on every call: the entry stays replayable. (Session 14's wgmma prefill was
// not, so its kernels read the tokens from pinned host memory.)
// CHECK-LABEL: func.func @llvm_constant
// CHECK:       llvm.mlir.zero
func.func @llvm_constant(%x: memref<8xf32>) {
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = llvm.mlir.zero : !llvm.struct<(f32, f32)>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c8, %sy = %c1, %sz = %c1) {
    %v = llvm.extractvalue %zero[0] : !llvm.struct<(f32, f32)>
    memref.store %v, %x[%tx] : memref<8xf32>
    gpu.terminator
  }
  return
}
