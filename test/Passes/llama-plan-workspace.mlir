// RUN: llamac-opt %s --llama-plan-workspace | FileCheck %s
// RUN: not llamac-opt %s --llama-plan-workspace=alignment=96 2>&1 \
// RUN:   | FileCheck %s --check-prefix=ALIGN

// ALIGN: llama-plan-workspace: alignment must be a power of two, got 96

// The module records the larger entry point's workspace.
// CHECK: module attributes {llama.workspace_bytes = 4096 : i64}

// Host form (calls to kernels). %a (1 KiB) is dead after the call that
// reads a view of it, so %b reuses its bytes; %c is live beside %b, so it
// goes after %b, at the next 256-byte boundary. The dynamic allocation is
// left as it is; the frees of the planned ones go.
// CHECK-LABEL: func.func @host(
// CHECK-SAME:      %[[X:.*]]: memref<4xf32>, %[[WS:.*]]: memref<1024xi8>)
// CHECK-SAME:      llama.entry_memrefs = [memref<4xf32>, memref<1024xi8>]
// CHECK:         %[[A:.*]] = memref.view %[[WS]][%c0{{.*}}][] : memref<1024xi8> to memref<256xf32>
// CHECK:         call @fill256(%[[A]])
// CHECK:         memref.subview %[[A]]
// CHECK:         %[[B:.*]] = memref.view %[[WS]][%c0{{.*}}][] : memref<1024xi8> to memref<128xf32>
// CHECK:         %[[C512:.*]] = arith.constant 512 : index
// CHECK:         %[[C:.*]] = memref.view %[[WS]][%[[C512]]][] : memref<1024xi8> to memref<16xf32>
// CHECK:         call @pair(%[[B]], %[[C]])
// CHECK:         %[[D:.*]] = memref.alloc(%{{.*}}) : memref<?xf32>
// CHECK-NOT:     memref.dealloc %[[A]]
// CHECK:         memref.dealloc %[[D]]
// CHECK-NOT:     memref.dealloc
// CHECK:         return
func.func private @fill256(memref<256xf32>)
func.func private @read128(memref<128xf32, strided<[1]>>)
func.func private @fill128(memref<128xf32>)
func.func private @pair(memref<128xf32>, memref<16xf32>)
func.func private @use16(memref<16xf32>)
func.func private @useDynamic(memref<?xf32>)

func.func @host(%x: memref<4xf32>)
    attributes {llama.entry_memrefs = [memref<4xf32>]} {
  %a = memref.alloc() : memref<256xf32>
  call @fill256(%a) : (memref<256xf32>) -> ()
  %sv = memref.subview %a[0] [128] [1] : memref<256xf32> to memref<128xf32, strided<[1]>>
  call @read128(%sv) : (memref<128xf32, strided<[1]>>) -> ()
  %b = memref.alloc() : memref<128xf32>
  call @fill128(%b) : (memref<128xf32>) -> ()
  %c = memref.alloc() : memref<16xf32>
  call @pair(%b, %c) : (memref<128xf32>, memref<16xf32>) -> ()
  call @use16(%c) : (memref<16xf32>) -> ()
  %n = arith.constant 8 : index
  %d = memref.alloc(%n) : memref<?xf32>
  call @useDynamic(%d) : (memref<?xf32>) -> ()
  memref.dealloc %a : memref<256xf32>
  memref.dealloc %b : memref<128xf32>
  memref.dealloc %c : memref<16xf32>
  memref.dealloc %d : memref<?xf32>
  return
}

// GPU form: a use inside a kernel counts at its launch; the allocation's
// and the free's async tokens become what they waited for; an allocation
// that nothing uses is dropped (it takes no bytes).
// CHECK-LABEL: func.func @device(
// CHECK-SAME:      %[[X:.*]]: memref<64xf32>, %[[WS:.*]]: memref<4096xi8>)
// CHECK:         %[[T0:.*]] = gpu.wait async
// CHECK:         %[[M:.*]] = memref.view %[[WS]][%c0{{.*}}][] : memref<4096xi8> to memref<1024xf32>
// CHECK-NEXT:    gpu.wait [%[[T0]]]
// CHECK:         gpu.launch
// CHECK:           memref.store %{{.*}}, %[[M]]
// CHECK:         %[[T2:.*]] = gpu.wait async
// CHECK-NEXT:    gpu.wait [%[[T2]]]
// CHECK-NOT:     gpu.alloc
// CHECK-NOT:     gpu.dealloc
// CHECK-NOT:     memref.alloc
// CHECK-NOT:     memref.dealloc
// CHECK:         return
func.func @device(%x: memref<64xf32>)
    attributes {llama.entry_memrefs = [memref<64xf32>]} {
  %t0 = gpu.wait async
  %m, %t1 = gpu.alloc async [%t0] () : memref<1024xf32>
  gpu.wait [%t1]
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    %v = memref.load %x[%c0] : memref<64xf32>
    memref.store %v, %m[%tx] : memref<1024xf32>
    gpu.terminator
  }
  %unused = memref.alloc() : memref<8xf32>
  %t2 = gpu.wait async
  %t3 = gpu.dealloc async [%t2] %m : memref<1024xf32>
  gpu.wait [%t3]
  memref.dealloc %unused : memref<8xf32>
  return
}

// A tensor map holds its buffer's address: %a stays live until the call
// that takes its map (the --tma GEMMs' launches), so the GEMM's output %y
// does not reuse %a's bytes (it did, and overwrote the GEMM's input).
// CHECK-LABEL: func.func @tensor_map(
// CHECK-SAME:      %[[WS:.*]]: memref<1024xi8>)
// CHECK:         %[[A:.*]] = memref.view %[[WS]][%c0{{.*}}][] : memref<1024xi8> to memref<256xbf16>
// CHECK:         %[[CAST:.*]] = memref.cast %[[A]]
// CHECK:         %[[MAP:.*]] = call @llamacTensorMapBf16(%[[CAST]]
// CHECK:         %[[C512:.*]] = arith.constant 512 : index
// CHECK:         %[[Y:.*]] = memref.view %[[WS]][%[[C512]]][] : memref<1024xi8> to memref<128xf32>
// CHECK:         call @gemm(%[[MAP]], %[[Y]])
func.func private @fillBf16(memref<256xbf16>)
func.func private @llamacTensorMapBf16(memref<*xbf16>, i64, i64) -> !llvm.ptr
func.func private @gemm(!llvm.ptr, memref<128xf32>)

func.func @tensor_map()
    attributes {llama.entry_memrefs = []} {
  %a = memref.alloc() : memref<256xbf16>
  call @fillBf16(%a) : (memref<256xbf16>) -> ()
  %cast = memref.cast %a : memref<256xbf16> to memref<*xbf16>
  %rows = arith.constant 128 : i64
  %depth = arith.constant 64 : i64
  %map = call @llamacTensorMapBf16(%cast, %rows, %depth) : (memref<*xbf16>, i64, i64) -> !llvm.ptr
  %y = memref.alloc() : memref<128xf32>
  call @gemm(%map, %y) : (!llvm.ptr, memref<128xf32>) -> ()
  call @use128(%y) : (memref<128xf32>) -> ()
  return
}
func.func private @use128(memref<128xf32>)

// Not an entry point: left alone.
// CHECK-LABEL: func.func private @helper()
// CHECK:         memref.alloc() : memref<4xf32>
// CHECK:         memref.dealloc
func.func private @helper() {
  %a = memref.alloc() : memref<4xf32>
  memref.dealloc %a : memref<4xf32>
  return
}
