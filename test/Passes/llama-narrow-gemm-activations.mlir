// RUN: llamac-opt %s -split-input-file --llama-narrow-gemm-activations | FileCheck %s
// RUN: llamac-opt %s -split-input-file --llama-narrow-gemm-activations --llama-fuse-elementwise | FileCheck %s --check-prefix=FUSED
// RUN: llamac-opt %s -split-input-file --llama-narrow-gemm-activations=gemvs=true | FileCheck %s --check-prefix=GEMV

#x = affine_map<(b, n, s, k) -> (b, s, k)>
#w = affine_map<(b, n, s, k) -> (n, k)>
#y = affine_map<(b, n, s, k) -> (b, s, n)>
#id = affine_map<(b, s, k) -> (b, s, k)>

// A prefill chunk's linear layer (16 tokens, bf16 weights, depth 64): its
// activations rounded to bf16 by an elementwise op before it, widened back
// where its body reads them; the sum stays f32.
// CHECK-LABEL: func.func @prefill
// CHECK-SAME:    (%[[X:.*]]: tensor<1x16x64xf32>, %[[W:.*]]: tensor<128x64xbf16>
// CHECK:         %[[E:.*]] = tensor.empty() : tensor<1x16x64xbf16>
// CHECK:         %[[XB:.*]] = linalg.generic {{.*}} ins(%[[X]] : tensor<1x16x64xf32>) outs(%[[E]] : tensor<1x16x64xbf16>)
// CHECK-NEXT:    ^bb0(%[[IN:.*]]: f32, %{{.*}}: bf16):
// CHECK-NEXT:      %[[T:.*]] = arith.truncf %[[IN]] : f32 to bf16
// CHECK-NEXT:      linalg.yield %[[T]] : bf16
// CHECK:         linalg.generic {{.*}} ins(%[[XB]], %[[W]] : tensor<1x16x64xbf16>, tensor<128x64xbf16>) outs(%{{.*}} : tensor<1x16x128xf32>)
// CHECK-NEXT:    ^bb0(%[[A:.*]]: bf16, %[[B:.*]]: bf16, %[[ACC:.*]]: f32):
// CHECK-NEXT:      %[[WA:.*]] = arith.extf %[[A]] : bf16 to f32
// CHECK-NEXT:      %[[WB:.*]] = arith.extf %[[B]] : bf16 to f32
// CHECK-NEXT:      %[[P:.*]] = arith.mulf %[[WA]], %[[WB]] : f32
// CHECK-NEXT:      %[[S:.*]] = arith.addf %[[ACC]], %[[P]] : f32
func.func @prefill(%x: tensor<1x16x64xf32>, %w: tensor<128x64xbf16>, %out: tensor<1x16x128xf32>) -> tensor<1x16x128xf32> {
  %y = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<1x16x64xf32>, tensor<128x64xbf16>) outs(%out : tensor<1x16x128xf32>) {
  ^bb0(%a: f32, %b: bf16, %acc: f32):
    %e = arith.extf %b : bf16 to f32
    %p = arith.mulf %a, %e : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x16x128xf32>
  return %y : tensor<1x16x128xf32>
}

// -----

#x = affine_map<(b, n, s, k) -> (b, s, k)>
#w = affine_map<(b, n, s, k) -> (n, k)>
#y = affine_map<(b, n, s, k) -> (b, s, n)>

// What stays on the CUDA cores keeps f32 activations: a decode step's one
// token (a GEMV), f32 weights, a depth that is not a multiple of 32.
// CHECK-LABEL: func.func @not_tensor_core
// With gemvs too: the GEMV's activations are an argument, no op to fold the
// rounding into (its own kernel would cost more than it saves).
// GEMV-LABEL: func.func @not_tensor_core
// GEMV-NOT:     arith.truncf
// GEMV:         return
// CHECK-NOT:     arith.truncf
// CHECK-NOT:     tensor.empty
// CHECK:         return %{{.*}}, %{{.*}}, %{{.*}} :
func.func @not_tensor_core(%x1: tensor<1x1x64xf32>, %w: tensor<128x64xbf16>, %o1: tensor<1x1x128xf32>,
                           %x: tensor<1x16x64xf32>, %wf: tensor<128x64xf32>, %o: tensor<1x16x128xf32>,
                           %x48: tensor<1x16x48xf32>, %w48: tensor<128x48xbf16>)
    -> (tensor<1x1x128xf32>, tensor<1x16x128xf32>, tensor<1x16x128xf32>) {
  %r1 = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x1, %w : tensor<1x1x64xf32>, tensor<128x64xbf16>) outs(%o1 : tensor<1x1x128xf32>) {
  ^bb0(%in: f32, %b: bf16, %acc: f32):
    %e = arith.extf %b : bf16 to f32
    %p = arith.mulf %in, %e : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x1x128xf32>
  %r2 = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %wf : tensor<1x16x64xf32>, tensor<128x64xf32>) outs(%o : tensor<1x16x128xf32>) {
  ^bb0(%in: f32, %wt: f32, %acc: f32):
    %p = arith.mulf %in, %wt : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x16x128xf32>
  %r3 = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x48, %w48 : tensor<1x16x48xf32>, tensor<128x48xbf16>) outs(%o : tensor<1x16x128xf32>) {
  ^bb0(%in: f32, %b: bf16, %acc: f32):
    %e = arith.extf %b : bf16 to f32
    %p = arith.mulf %in, %e : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x16x128xf32>
  return %r1, %r2, %r3 : tensor<1x1x128xf32>, tensor<1x16x128xf32>, tensor<1x16x128xf32>
}

// -----

#x = affine_map<(b, n, s, k) -> (b, s, k)>
#w = affine_map<(b, n, s, k) -> (n, k)>
#y = affine_map<(b, n, s, k) -> (b, s, n)>
#id = affine_map<(b, s, k) -> (b, s, k)>

// An RMSNorm's scaling computes the activations: with llama-fuse-elementwise
// after, the rounding folds into it and it writes bf16 itself (one kernel,
// half the bytes).
// FUSED-LABEL: func.func @fused_into_norm
// FUSED:         %[[N:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x16x64xf32>, tensor<64xbf16>) outs(%{{.*}} : tensor<1x16x64xbf16>)
// FUSED:           arith.mulf
// FUSED:           %[[T:.*]] = arith.truncf %{{.*}} : f32 to bf16
// FUSED-NEXT:      linalg.yield %[[T]] : bf16
// FUSED:         linalg.generic {{.*}} ins(%[[N]], %{{.*}} : tensor<1x16x64xbf16>, tensor<128x64xbf16>)
// FUSED-NOT:     linalg.generic
#g = affine_map<(b, s, k) -> (k)>
func.func @fused_into_norm(%h: tensor<1x16x64xf32>, %g: tensor<64xbf16>, %w: tensor<128x64xbf16>, %out: tensor<1x16x128xf32>) -> tensor<1x16x128xf32> {
  %e = tensor.empty() : tensor<1x16x64xf32>
  %n = linalg.generic {indexing_maps = [#id, #g, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%h, %g : tensor<1x16x64xf32>, tensor<64xbf16>) outs(%e : tensor<1x16x64xf32>) {
  ^bb0(%in: f32, %gain: bf16, %o: f32):
    %wide = arith.extf %gain : bf16 to f32
    %p = arith.mulf %in, %wide : f32
    linalg.yield %p : f32
  } -> tensor<1x16x64xf32>
  %y = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%n, %w : tensor<1x16x64xf32>, tensor<128x64xbf16>) outs(%out : tensor<1x16x128xf32>) {
  ^bb0(%a: f32, %b: bf16, %acc: f32):
    %x = arith.extf %b : bf16 to f32
    %p = arith.mulf %a, %x : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x16x128xf32>
  return %y : tensor<1x16x128xf32>
}

// -----

#x = affine_map<(b, n, s, k) -> (b, s, k)>
#w = affine_map<(b, n, s, k) -> (n, k)>
#y = affine_map<(b, n, s, k) -> (b, s, n)>
#id = affine_map<(b, s, k) -> (b, s, k)>
#g = affine_map<(b, s, k) -> (k)>

// gemvs=true: a decode GEMV whose activations an RMSNorm-like scaling
// computes reads them rounded to bf16, the rounding placed right after the
// scaling (before the fill of the GEMV's output, which would otherwise
// stand between the norm's parts once bufferized); without the option the
// GEMV keeps f32 (the CHECK prefix: the default run).
// GEMV-LABEL: func.func @decode_gemv
// GEMV:         %[[N:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<1x1x64xf32>)
// GEMV:         %[[XB:.*]] = linalg.generic {{.*}} ins(%[[N]] : tensor<1x1x64xf32>) outs(%{{.*}} : tensor<1x1x64xbf16>)
// GEMV:           arith.truncf
// GEMV:         linalg.fill
// GEMV:         linalg.generic {{.*}} ins(%[[XB]], %{{.*}} : tensor<1x1x64xbf16>, tensor<128x64xbf16>)
// CHECK-LABEL: func.func @decode_gemv
// CHECK-NOT:     arith.truncf
// FUSED-LABEL: func.func @decode_gemv
func.func @decode_gemv(%h: tensor<1x1x64xf32>, %g: tensor<64xbf16>, %w: tensor<128x64xbf16>) -> tensor<1x1x128xf32> {
  %e = tensor.empty() : tensor<1x1x64xf32>
  %n = linalg.generic {indexing_maps = [#id, #g, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%h, %g : tensor<1x1x64xf32>, tensor<64xbf16>) outs(%e : tensor<1x1x64xf32>) {
  ^bb0(%in: f32, %gain: bf16, %o: f32):
    %wide = arith.extf %gain : bf16 to f32
    %p = arith.mulf %in, %wide : f32
    linalg.yield %p : f32
  } -> tensor<1x1x64xf32>
  %zero = arith.constant 0.0 : f32
  %oe = tensor.empty() : tensor<1x1x128xf32>
  %out = linalg.fill ins(%zero : f32) outs(%oe : tensor<1x1x128xf32>) -> tensor<1x1x128xf32>
  %y = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%n, %w : tensor<1x1x64xf32>, tensor<128x64xbf16>) outs(%out : tensor<1x1x128xf32>) {
  ^bb0(%a: f32, %b: bf16, %acc: f32):
    %x = arith.extf %b : bf16 to f32
    %p = arith.mulf %a, %x : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x1x128xf32>
  return %y : tensor<1x1x128xf32>
}
