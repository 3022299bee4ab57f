// Every llama op prints in a form that parses back to the same IR.
// RUN: llamac-opt %s | llamac-opt | FileCheck %s
// RUN: llamac-opt %s -mlir-print-op-generic | llamac-opt | FileCheck %s

// CHECK: module attributes {llama.config = #llama.config<hidden_size = 16, intermediate_size = 24, num_layers = 1, num_heads = 4, num_kv_heads = 2, head_dim = 4, vocab_size = 32, max_position_embeddings = 64, tie_word_embeddings = true, bos_token_id = 1, eos_token_ids = 2, 7>}
module attributes {llama.config = #llama.config<hidden_size = 16, intermediate_size = 24, num_layers = 1, num_heads = 4, num_kv_heads = 2, head_dim = 4, vocab_size = 32, max_position_embeddings = 64, tie_word_embeddings = true, bos_token_id = 1, eos_token_ids = 2, 7>} {
  // CHECK: llama.param @embed : tensor<32x16xbf16>
  llama.param @embed : tensor<32x16xbf16>
  // CHECK: llama.param @norm : tensor<16xf16>
  llama.param @norm : tensor<16xf16>
  llama.param @wq : tensor<16x16xf32>
  llama.param @wk : tensor<8x16xf32>
  llama.param @wv : tensor<8x16xf32>
  llama.param @wgate : tensor<24x16xf32>
  llama.param @wup : tensor<24x16xf32>

  // CHECK-LABEL: func.func @forward
  // CHECK-SAME: (%[[TOK:.*]]: tensor<2x3xi32>, %[[POS:.*]]: tensor<2xi64>, %[[KV:.*]]: tensor<1x2x2x2x8x4xf32>)
  func.func @forward(%tokens: tensor<2x3xi32>, %pos: tensor<2xi64>, %kv: tensor<1x2x2x2x8x4xf32>)
      -> (tensor<2x3x32xf32>, tensor<2x3x4xf32>, tensor<2x3x4xi32>, tensor<1x2x2x2x8x4xf32>) {
    // CHECK: %[[E:.*]] = llama.weight @embed : tensor<32x16xbf16>
    %e = llama.weight @embed : tensor<32x16xbf16>
    // CHECK: %[[X:.*]] = llama.embedding %[[E]][%[[TOK]]] : tensor<32x16xbf16>, tensor<2x3xi32> -> tensor<2x3x16xf32>
    %x = llama.embedding %e[%tokens] : tensor<32x16xbf16>, tensor<2x3xi32> -> tensor<2x3x16xf32>
    %n = llama.weight @norm : tensor<16xf16>
    // CHECK: %[[H:.*]] = llama.rms_norm %[[X]], %{{.*}} eps 1.000000e-05 : tensor<2x3x16xf32>, tensor<16xf16>
    %h = llama.rms_norm %x, %n eps 1.0e-05 : tensor<2x3x16xf32>, tensor<16xf16>
    %wq = llama.weight @wq : tensor<16x16xf32>
    %wk = llama.weight @wk : tensor<8x16xf32>
    %wv = llama.weight @wv : tensor<8x16xf32>
    // CHECK: %[[Q:.*]] = llama.linear %[[H]], %{{.*}} : tensor<2x3x16xf32>, tensor<16x16xf32> -> tensor<2x3x16xf32>
    %q = llama.linear %h, %wq : tensor<2x3x16xf32>, tensor<16x16xf32> -> tensor<2x3x16xf32>
    %k = llama.linear %h, %wk : tensor<2x3x16xf32>, tensor<8x16xf32> -> tensor<2x3x8xf32>
    %v = llama.linear %h, %wv : tensor<2x3x16xf32>, tensor<8x16xf32> -> tensor<2x3x8xf32>
    // CHECK: %[[QR:.*]] = llama.rope %[[Q]] at %[[POS]] head_dim 4 theta 5.000000e+05 scaling <factor = 8.000000e+00, low_freq_factor = 1.000000e+00, high_freq_factor = 4.000000e+00, original_max_position = 8192> : tensor<2x3x16xf32>, tensor<2xi64>
    %qr = llama.rope %q at %pos head_dim 4 theta 5.0e+05 scaling <factor = 8.0, low_freq_factor = 1.0, high_freq_factor = 4.0, original_max_position = 8192> : tensor<2x3x16xf32>, tensor<2xi64>
    // CHECK: %[[KR:.*]] = llama.rope %{{.*}} at %[[POS]] head_dim 4 theta 1.000000e+04 : tensor<2x3x8xf32>, tensor<2xi64>
    %kr = llama.rope %k at %pos head_dim 4 theta 1.0e+04 : tensor<2x3x8xf32>, tensor<2xi64>
    // CHECK: %[[O:.*]], %[[KV1:.*]] = llama.attention %[[QR]], %[[KR]], %{{.*}} cache %[[KV]] layer 0 at %[[POS]] : tensor<2x3x16xf32>, tensor<2x3x8xf32>, tensor<1x2x2x2x8x4xf32>, tensor<2xi64>
    %o, %kv1 = llama.attention %qr, %kr, %v cache %kv layer 0 at %pos : tensor<2x3x16xf32>, tensor<2x3x8xf32>, tensor<1x2x2x2x8x4xf32>, tensor<2xi64>
    // CHECK: %[[R:.*]] = llama.add %[[X]], %[[O]] : tensor<2x3x16xf32>
    %r = llama.add %x, %o : tensor<2x3x16xf32>
    %wg = llama.weight @wgate : tensor<24x16xf32>
    %wu = llama.weight @wup : tensor<24x16xf32>
    %g = llama.linear %r, %wg : tensor<2x3x16xf32>, tensor<24x16xf32> -> tensor<2x3x24xf32>
    %u = llama.linear %r, %wu : tensor<2x3x16xf32>, tensor<24x16xf32> -> tensor<2x3x24xf32>
    // CHECK: llama.swiglu %{{.*}}, %{{.*}} : tensor<2x3x24xf32>
    %s = llama.swiglu %g, %u : tensor<2x3x24xf32>
    // Tied embeddings: the logits reuse the embedding table.
    // CHECK: %[[L:.*]] = llama.linear %[[R]], %[[E]] : tensor<2x3x16xf32>, tensor<32x16xbf16> -> tensor<2x3x32xf32>
    %logits = llama.linear %r, %e : tensor<2x3x16xf32>, tensor<32x16xbf16> -> tensor<2x3x32xf32>
    // Each row's 4 largest logits and their ids.
    // CHECK: %[[TV:.*]], %[[TI:.*]] = llama.top_k %[[L]] {k = 4 : i64} : tensor<2x3x32xf32> -> tensor<2x3x4xf32>, tensor<2x3x4xi32>
    %top:2 = llama.top_k %logits {k = 4} : tensor<2x3x32xf32> -> tensor<2x3x4xf32>, tensor<2x3x4xi32>
    // Each sequence's last real row (a prefill chunk without --logits-all).
    // CHECK: llama.last_rows %[[R]], %[[POS]] : tensor<2x3x16xf32>, tensor<2xi64> -> tensor<2x1x16xf32>
    %last = llama.last_rows %r, %pos : tensor<2x3x16xf32>, tensor<2xi64> -> tensor<2x1x16xf32>
    // CHECK: return %[[L]], %[[TV]], %[[TI]], %[[KV1]]
    return %logits, %top#0, %top#1, %kv1 : tensor<2x3x32xf32>, tensor<2x3x4xf32>, tensor<2x3x4xi32>, tensor<1x2x2x2x8x4xf32>
  }
  // Each row's next token, drawn from its top list or its row with each
  // sequence's (temperature, top-k, top-p, uniform).
  // CHECK-LABEL: func.func @draw
  func.func @draw(%l: tensor<2x3x32xf32>, %v: tensor<2x3x8xf32>, %i: tensor<2x3x8xi32>, %s: tensor<2x4xf64>) -> tensor<2x3xi32> {
    // CHECK: %[[NEXT:.*]] = llama.sample %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x3x32xf32>, tensor<2x3x8xf32>, tensor<2x3x8xi32>, tensor<2x4xf64> -> tensor<2x3xi32>
    %next = llama.sample %l, %v, %i, %s : tensor<2x3x32xf32>, tensor<2x3x8xf32>, tensor<2x3x8xi32>, tensor<2x4xf64> -> tensor<2x3xi32>
    // CHECK: return %[[NEXT]]
    return %next : tensor<2x3xi32>
  }
}
