// llama-plan-weights: every llama.param gets its byte offset in the packed
// weights blob (declaration order, each aligned), and the module the blob's
// size as llama.weights_bytes.
// RUN: llamac-opt %s -split-input-file --llama-plan-weights | FileCheck %s
// RUN: llamac-opt %s -split-input-file --llama-plan-weights="alignment=128" | FileCheck %s --check-prefix=A128
// RUN: llamac-opt %s -split-input-file --llama-plan-weights="alignment=1" | FileCheck %s --check-prefix=A1
// Planning twice gives the same layout as planning once.
// RUN: llamac-opt %s -split-input-file --llama-plan-weights --llama-plan-weights | FileCheck %s

// An alignment that is not a power of two is refused, naming the value.
// RUN: llamac-opt %s -split-input-file --llama-plan-weights="alignment=3" -verify-diagnostics
// RUN: echo 'module {}' | not llamac-opt --llama-plan-weights="alignment=0" 2>&1 | FileCheck %s --check-prefix=BAD0
// RUN: echo 'module {}' | not llamac-opt --llama-plan-weights="alignment=100" 2>&1 | FileCheck %s --check-prefix=BAD100
// RUN: echo 'module {}' | not llamac-opt --llama-plan-weights="alignment=-64" 2>&1 | FileCheck %s --check-prefix=BADNEG
// BAD0: error: llama-plan-weights: alignment must be a power of two, got 0{{$}}
// BAD100: error: llama-plan-weights: alignment must be a power of two, got 100{{$}}
// BADNEG: error: llama-plan-weights: alignment must be a power of two, got -64{{$}}

// Bytes per element: f32 4, bf16 2, f16 2. Sizes 12, 8, 10, 256 bytes.
// CHECK-LABEL: module @mixed attributes {llama.weights_bytes = 448 : i64}
// CHECK-NEXT:    llama.param @a : tensor<3xf32> {offset = 0 : i64}
// CHECK-NEXT:    llama.param @b : tensor<2x2xbf16> {offset = 64 : i64}
// CHECK-NEXT:    llama.param @c : tensor<5xf16> {offset = 128 : i64}
// CHECK-NEXT:    llama.param @d : tensor<64xf32> {offset = 192 : i64}
// CHECK-NEXT:  }
// A128-LABEL: module @mixed attributes {llama.weights_bytes = 640 : i64}
// A128-NEXT:    llama.param @a : tensor<3xf32> {offset = 0 : i64}
// A128-NEXT:    llama.param @b : tensor<2x2xbf16> {offset = 128 : i64}
// A128-NEXT:    llama.param @c : tensor<5xf16> {offset = 256 : i64}
// A128-NEXT:    llama.param @d : tensor<64xf32> {offset = 384 : i64}
// Alignment 1 packs them back to back: 12 + 8 + 10 + 256 bytes.
// A1-LABEL: module @mixed attributes {llama.weights_bytes = 286 : i64}
// A1-NEXT:    llama.param @a : tensor<3xf32> {offset = 0 : i64}
// A1-NEXT:    llama.param @b : tensor<2x2xbf16> {offset = 12 : i64}
// A1-NEXT:    llama.param @c : tensor<5xf16> {offset = 20 : i64}
// A1-NEXT:    llama.param @d : tensor<64xf32> {offset = 30 : i64}
// expected-error @below {{llama-plan-weights: alignment must be a power of two, got 3}}
module @mixed {
  llama.param @a : tensor<3xf32>
  llama.param @b : tensor<2x2xbf16>
  llama.param @c : tensor<5xf16>
  llama.param @d : tensor<64xf32>
}

// -----

// A param that fills its aligned slot exactly (64 bytes) leaves no gap; the
// blob ends where the last param ends, unpadded. Offsets already present are
// replaced. Functions are left alone.
// CHECK-LABEL: module @replan attributes {llama.weights_bytes = 130 : i64}
// CHECK-NEXT:    llama.param @x : tensor<4x4xf32> {offset = 0 : i64}
// CHECK-NEXT:    llama.param @y : tensor<16xbf16> {offset = 64 : i64}
// CHECK-NEXT:    llama.param @z : tensor<1xbf16> {offset = 128 : i64}
// CHECK-NEXT:    func.func @f() -> tensor<16xbf16>
// CHECK-NEXT:      llama.weight @y : tensor<16xbf16>
// A128-LABEL: module @replan attributes {llama.weights_bytes = 258 : i64}
// A128-NEXT:    llama.param @x : tensor<4x4xf32> {offset = 0 : i64}
// A128-NEXT:    llama.param @y : tensor<16xbf16> {offset = 128 : i64}
// A128-NEXT:    llama.param @z : tensor<1xbf16> {offset = 256 : i64}
// A1-LABEL: module @replan attributes {llama.weights_bytes = 98 : i64}
// A1-NEXT:    llama.param @x : tensor<4x4xf32> {offset = 0 : i64}
// A1-NEXT:    llama.param @y : tensor<16xbf16> {offset = 64 : i64}
// A1-NEXT:    llama.param @z : tensor<1xbf16> {offset = 96 : i64}
// expected-error @below {{llama-plan-weights: alignment must be a power of two, got 3}}
module @replan attributes {llama.weights_bytes = 7 : i64} {
  llama.param @x : tensor<4x4xf32> {offset = 640 : i64}
  llama.param @y : tensor<16xbf16> {offset = 5 : i64}
  llama.param @z : tensor<1xbf16>
  func.func @f() -> tensor<16xbf16> {
    %w = llama.weight @y : tensor<16xbf16>
    return %w : tensor<16xbf16>
  }
}

// -----

// No params: an empty blob.
// CHECK-LABEL: module @empty attributes {llama.weights_bytes = 0 : i64}
// A128-LABEL: module @empty attributes {llama.weights_bytes = 0 : i64}
// A1-LABEL: module @empty attributes {llama.weights_bytes = 0 : i64}
// expected-error @below {{llama-plan-weights: alignment must be a power of two, got 3}}
module @empty {
}
