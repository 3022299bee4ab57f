// RUN: llamac-opt %s --llama-merge-launches | FileCheck %s

// Two kernels writing different cache slots (disjoint static ranges of one
// argument) and a third writing a fresh allocation, reading what the others
// read: one launch of 2 + 1 + 1 blocks of the larger block size; each body
// sees its own block index, and the smaller block's body runs on its own
// threads only.
// CHECK-LABEL: func.func @independent
// CHECK:         gpu.launch blocks(%[[B:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c4{{.*}}, %{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}) threads(%[[T:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c256{{.*}},
// CHECK-SAME:      @first_second_third
// CHECK:           %[[IN12:.*]] = arith.cmpi ult, %[[B]], %c3
// CHECK:           scf.if %[[IN12]] {
// CHECK:             %[[IN1:.*]] = arith.cmpi ult, %[[B]], %c2
// CHECK:             scf.if %[[IN1]] {
// CHECK:               memref.store %{{.*}}, %{{.*}}[%c0{{.*}}, %[[B]], %[[T]]]
// CHECK:             } else {
// CHECK:               %[[B2:.*]] = arith.subi %[[B]], %c2
// CHECK:               memref.store %{{.*}}, %{{.*}}[%c0{{.*}}, %[[B2]], %[[T]]]
// CHECK:           } else {
// CHECK:             %[[B3:.*]] = arith.subi %[[B]], %c3
// CHECK:             %[[OWN:.*]] = arith.cmpi ult, %[[T]], %c128
// CHECK:             scf.if %[[OWN]] {
// CHECK:               memref.store %{{.*}}, %{{.*}}[%[[B3]], %[[T]]]
// CHECK-NOT:     gpu.launch
func.func @independent(%cache: memref<2x4x256xf32>, %x: memref<4x256xf32>) {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c128 = arith.constant 128 : index
  %c256 = arith.constant 256 : index
  %k = memref.subview %cache[0, 0, 0] [1, 4, 256] [1, 1, 1] : memref<2x4x256xf32> to memref<1x4x256xf32, strided<[1024, 256, 1]>>
  %v = memref.subview %cache[1, 0, 0] [1, 4, 256] [1, 1, 1] : memref<2x4x256xf32> to memref<1x4x256xf32, strided<[1024, 256, 1], offset: 1024>>
  gpu.launch blocks(%b, %by, %bz) in (%gx = %c2, %gy = %c1, %gz = %c1) threads(%t, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %c0 = arith.constant 0 : index
    %a = memref.load %x[%b, %t] : memref<4x256xf32>
    memref.store %a, %k[%c0, %b, %t] : memref<1x4x256xf32, strided<[1024, 256, 1]>>
    gpu.terminator
  } {function = @first, module = @first}
  gpu.launch blocks(%b, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%t, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %c0 = arith.constant 0 : index
    %a = memref.load %x[%b, %t] : memref<4x256xf32>
    memref.store %a, %v[%c0, %b, %t] : memref<1x4x256xf32, strided<[1024, 256, 1], offset: 1024>>
    gpu.terminator
  } {function = @second, module = @second}
  %fresh = memref.alloc() : memref<1x128xf32>
  gpu.launch blocks(%b, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%t, %ty, %tz) in (%sx = %c128, %sy = %c1, %sz = %c1) {
    %a = memref.load %x[%b, %t] : memref<4x256xf32>
    memref.store %a, %fresh[%b, %t] : memref<1x128xf32>
    gpu.terminator
  } {function = @third, module = @third}
  return
}

// The second kernel reads what the first writes: two launches.
// CHECK-LABEL: func.func @dependent
// CHECK-COUNT-2: gpu.launch
func.func @dependent(%x: memref<256xf32>, %y: memref<256xf32>) {
  %c1 = arith.constant 1 : index
  %c256 = arith.constant 256 : index
  gpu.launch blocks(%b, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%t, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %a = memref.load %x[%t] : memref<256xf32>
    memref.store %a, %y[%t] : memref<256xf32>
    gpu.terminator
  } {function = @write, module = @write}
  gpu.launch blocks(%b, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%t, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %a = memref.load %y[%t] : memref<256xf32>
    memref.store %a, %x[%t] : memref<256xf32>
    gpu.terminator
  } {function = @read, module = @read}
  return
}

// A write through a dynamic offset overlaps any row of its buffer; a free
// between two launches keeps them apart; a smaller block whose body has a
// barrier cannot skip threads. Only the two independent reads of fixed
// rows merge.
// CHECK-LABEL: func.func @unmergeable
// CHECK:         gpu.launch {{.*}} function(@row)
// CHECK:         gpu.launch {{.*}} function(@first_row_to_tmp)
// CHECK:         memref.dealloc
// CHECK:         gpu.launch {{.*}} function(@after_free)
// CHECK:         gpu.launch {{.*}} function(@barrier)
func.func @unmergeable(%cache: memref<8x256xf32>, %x: memref<256xf32>, %y: memref<256xf32>, %i: index) {
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %c256 = arith.constant 256 : index
  %row = memref.subview %cache[%i, 0] [1, 256] [1, 1] : memref<8x256xf32> to memref<1x256xf32, strided<[256, 1], offset: ?>>
  %first = memref.subview %cache[0, 0] [1, 256] [1, 1] : memref<8x256xf32> to memref<1x256xf32, strided<[256, 1]>>
  gpu.launch blocks(%b, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%t, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %c0 = arith.constant 0 : index
    %a = memref.load %x[%t] : memref<256xf32>
    memref.store %a, %row[%c0, %t] : memref<1x256xf32, strided<[256, 1], offset: ?>>
    gpu.terminator
  } {function = @row, module = @row}
  gpu.launch blocks(%b, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%t, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %c0 = arith.constant 0 : index
    %a = memref.load %first[%c0, %t] : memref<1x256xf32, strided<[256, 1]>>
    memref.store %a, %x[%t] : memref<256xf32>
    gpu.terminator
  } {function = @first_row, module = @first_row}
  %tmp = memref.alloc() : memref<256xf32>
  gpu.launch blocks(%b, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%t, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %a = memref.load %cache[%c1, %t] : memref<8x256xf32>
    memref.store %a, %tmp[%t] : memref<256xf32>
    gpu.terminator
  } {function = @to_tmp, module = @to_tmp}
  memref.dealloc %tmp : memref<256xf32>
  gpu.launch blocks(%b, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%t, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %a = memref.load %cache[%c1, %t] : memref<8x256xf32>
    memref.store %a, %y[%t] : memref<256xf32>
    gpu.terminator
  } {function = @after_free, module = @after_free}
  gpu.launch blocks(%b, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%t, %ty, %tz) in (%sx = %c128, %sy = %c1, %sz = %c1) {
    gpu.barrier
    gpu.terminator
  } {function = @barrier, module = @barrier}
  return
}

// Row 1 of the buffer, written once through a subview of the buffer and
// once through a subview of its collapsed view: the ranges of the two are
// in different index spaces ([1, 1] in rows, [256, 511] in elements) and
// are not compared: the writes overlap, two launches.
// CHECK-LABEL: func.func @reshaped
// CHECK-COUNT-2: gpu.launch
func.func @reshaped(%cache: memref<8x256xf32>, %x: memref<256xf32>) {
  %c1 = arith.constant 1 : index
  %c256 = arith.constant 256 : index
  %row = memref.subview %cache[1, 0] [1, 256] [1, 1] : memref<8x256xf32> to memref<1x256xf32, strided<[256, 1], offset: 256>>
  %flat = memref.collapse_shape %cache [[0, 1]] : memref<8x256xf32> into memref<2048xf32>
  %part = memref.subview %flat[256] [256] [1] : memref<2048xf32> to memref<256xf32, strided<[1], offset: 256>>
  gpu.launch blocks(%b, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%t, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %c0 = arith.constant 0 : index
    %a = memref.load %x[%t] : memref<256xf32>
    memref.store %a, %row[%c0, %t] : memref<1x256xf32, strided<[256, 1], offset: 256>>
    gpu.terminator
  } {function = @by_row, module = @by_row}
  gpu.launch blocks(%b, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%t, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %a = memref.load %x[%t] : memref<256xf32>
    memref.store %a, %part[%t] : memref<256xf32, strided<[1], offset: 256>>
    gpu.terminator
  } {function = @by_element, module = @by_element}
  return
}
