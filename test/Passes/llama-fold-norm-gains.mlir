// llama-fold-norm-gains: a norm's gains move into the weights of the linear
// layers that read it (the param's column_scale, which the packer applies)
// where those weights have no other reader; the norm loses its gains.
// RUN: llamac-opt %s -split-input-file --llama-fold-norm-gains | FileCheck %s

// q and k read one norm, in two functions (decode and prefill share the
// weights): both weights scaled by @g, both norms without gains.
// CHECK-LABEL: module @shared
// CHECK:   llama.param @g : tensor<64xbf16>
// CHECK-NEXT:   llama.param @wq : tensor<32x64xbf16> {column_scale = @g}
// CHECK-NEXT:   llama.param @wk : tensor<16x64xbf16> {column_scale = @g}
// CHECK-LABEL: func.func @decode
// CHECK-NOT:     llama.weight @g
// CHECK:         %[[N:.*]] = llama.rms_norm %arg0 eps 1.000000e-05 : tensor<1x1x64xf32>
// CHECK:         llama.linear %[[N]], %{{.*}} : tensor<1x1x64xf32>, tensor<32x64xbf16>
// CHECK:         llama.linear %[[N]], %{{.*}} : tensor<1x1x64xf32>, tensor<16x64xbf16>
// CHECK-LABEL: func.func @prefill
// CHECK:         llama.rms_norm %arg0 eps 1.000000e-05 : tensor<1x4x64xf32>
module @shared {
  llama.param @g : tensor<64xbf16>
  llama.param @wq : tensor<32x64xbf16>
  llama.param @wk : tensor<16x64xbf16>
  func.func @decode(%x: tensor<1x1x64xf32>) -> (tensor<1x1x32xf32>, tensor<1x1x16xf32>) {
    %g = llama.weight @g : tensor<64xbf16>
    %n = llama.rms_norm %x, %g eps 1.0e-05 : tensor<1x1x64xf32>, tensor<64xbf16>
    %wq = llama.weight @wq : tensor<32x64xbf16>
    %wk = llama.weight @wk : tensor<16x64xbf16>
    %q = llama.linear %n, %wq : tensor<1x1x64xf32>, tensor<32x64xbf16> -> tensor<1x1x32xf32>
    %k = llama.linear %n, %wk : tensor<1x1x64xf32>, tensor<16x64xbf16> -> tensor<1x1x16xf32>
    return %q, %k : tensor<1x1x32xf32>, tensor<1x1x16xf32>
  }
  func.func @prefill(%x: tensor<1x4x64xf32>) -> tensor<1x4x32xf32> {
    %g = llama.weight @g : tensor<64xbf16>
    %n = llama.rms_norm %x, %g eps 1.0e-05 : tensor<1x4x64xf32>, tensor<64xbf16>
    %wq = llama.weight @wq : tensor<32x64xbf16>
    %q = llama.linear %n, %wq : tensor<1x4x64xf32>, tensor<32x64xbf16> -> tensor<1x4x32xf32>
    return %q : tensor<1x4x32xf32>
  }
}

// -----

// A norm read by something other than a linear layer keeps its gains, and
// no weight is scaled.
// CHECK-LABEL: module @other_reader
// CHECK:   llama.param @wq : tensor<32x64xbf16>{{$}}
// CHECK:   llama.rms_norm %arg0, %{{.*}} eps
module @other_reader {
  llama.param @g : tensor<64xbf16>
  llama.param @wq : tensor<32x64xbf16>
  func.func @f(%x: tensor<1x1x64xf32>) -> (tensor<1x1x32xf32>, tensor<1x1x64xf32>) {
    %g = llama.weight @g : tensor<64xbf16>
    %n = llama.rms_norm %x, %g eps 1.0e-05 : tensor<1x1x64xf32>, tensor<64xbf16>
    %wq = llama.weight @wq : tensor<32x64xbf16>
    %q = llama.linear %n, %wq : tensor<1x1x64xf32>, tensor<32x64xbf16> -> tensor<1x1x32xf32>
    return %q, %n : tensor<1x1x32xf32>, tensor<1x1x64xf32>
  }
}

// -----

// Tied embeddings: the lm_head's weight is the embedding table, which the
// gather reads unscaled: the final norm keeps its gains.
// CHECK-LABEL: module @tied
// CHECK:   llama.param @embed : tensor<96x64xbf16>{{$}}
// CHECK:   llama.rms_norm %{{.*}}, %{{.*}} eps
module @tied {
  llama.param @embed : tensor<96x64xbf16>
  llama.param @g : tensor<64xbf16>
  func.func @f(%t: tensor<1x1xi32>) -> tensor<1x1x96xf32> {
    %e = llama.weight @embed : tensor<96x64xbf16>
    %x = llama.embedding %e[%t] : tensor<96x64xbf16>, tensor<1x1xi32> -> tensor<1x1x64xf32>
    %g = llama.weight @g : tensor<64xbf16>
    %n = llama.rms_norm %x, %g eps 1.0e-05 : tensor<1x1x64xf32>, tensor<64xbf16>
    %l = llama.linear %n, %e : tensor<1x1x64xf32>, tensor<96x64xbf16> -> tensor<1x1x96xf32>
    return %l : tensor<1x1x96xf32>
  }
}

// -----

// A weight read by linear layers of two norms with different gains (one
// shape of a shared projection) is scaled by neither.
// CHECK-LABEL: module @two_gains
// CHECK:   llama.param @w : tensor<32x64xbf16>{{$}}
// CHECK-COUNT-2: llama.rms_norm %arg{{.}}, %{{.*}} eps
module @two_gains {
  llama.param @g1 : tensor<64xbf16>
  llama.param @g2 : tensor<64xbf16>
  llama.param @w : tensor<32x64xbf16>
  func.func @f(%x: tensor<1x1x64xf32>, %y: tensor<1x1x64xf32>) -> (tensor<1x1x32xf32>, tensor<1x1x32xf32>) {
    %g1 = llama.weight @g1 : tensor<64xbf16>
    %g2 = llama.weight @g2 : tensor<64xbf16>
    %n1 = llama.rms_norm %x, %g1 eps 1.0e-05 : tensor<1x1x64xf32>, tensor<64xbf16>
    %n2 = llama.rms_norm %y, %g2 eps 1.0e-05 : tensor<1x1x64xf32>, tensor<64xbf16>
    %w = llama.weight @w : tensor<32x64xbf16>
    %a = llama.linear %n1, %w : tensor<1x1x64xf32>, tensor<32x64xbf16> -> tensor<1x1x32xf32>
    %b = llama.linear %n2, %w : tensor<1x1x64xf32>, tensor<32x64xbf16> -> tensor<1x1x32xf32>
    return %a, %b : tensor<1x1x32xf32>, tensor<1x1x32xf32>
  }
}

// -----

// f16 weights (their models compute in f32; W * g rounded to f16 would
// show in the logits): not scaled.
// CHECK-LABEL: module @f16
// CHECK:   llama.param @wq : tensor<32x64xf16>{{$}}
// CHECK:   llama.rms_norm %arg0, %{{.*}} eps
module @f16 {
  llama.param @g : tensor<64xf16>
  llama.param @wq : tensor<32x64xf16>
  func.func @f(%x: tensor<1x1x64xf32>) -> tensor<1x1x32xf32> {
    %g = llama.weight @g : tensor<64xf16>
    %n = llama.rms_norm %x, %g eps 1.0e-05 : tensor<1x1x64xf32>, tensor<64xf16>
    %wq = llama.weight @wq : tensor<32x64xf16>
    %q = llama.linear %n, %wq : tensor<1x1x64xf32>, tensor<32x64xf16> -> tensor<1x1x32xf32>
    return %q : tensor<1x1x32xf32>
  }
}
