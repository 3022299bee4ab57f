// Verifier errors name the op and the dims that disagree.
// RUN: llamac-opt %s -split-input-file -verify-diagnostics

func.func @weight_of_missing_param() -> tensor<4x4xf32> {
  // expected-error @+1 {{'llama.weight' op names @nope, which is not a llama.param}}
  %w = llama.weight @nope : tensor<4x4xf32>
  return %w : tensor<4x4xf32>
}

// -----

module {
  llama.param @w : tensor<4x4xbf16>
  func.func @weight_type_mismatch() -> tensor<4x4xf32> {
    // expected-error @+1 {{'llama.weight' op result type 'tensor<4x4xf32>' differs from the declared type 'tensor<4x4xbf16>' of @w}}
    %w = llama.weight @w : tensor<4x4xf32>
    return %w : tensor<4x4xf32>
  }
}

// -----

func.func @param_outside_module() {
  // expected-error @+1 {{'llama.param' op expects parent op 'builtin.module'}}
  "llama.param"() <{sym_name = "w", type = tensor<4xf32>}> : () -> ()
  return
}

// -----

// expected-error @+1 {{'llama.param' op attribute 'type' failed to satisfy constraint: type attribute of statically shaped tensor of floating-point values}}
llama.param @dyn : tensor<?x4xf32>

// -----

func.func @embedding_hidden(%t: tensor<32x16xf32>, %ids: tensor<1x3xi32>) {
  // expected-error @+1 {{'llama.embedding' op result must be [batch, seq] of the tokens (1x3) by hidden of the table (16), got 1x3x8}}
  %x = llama.embedding %t[%ids] : tensor<32x16xf32>, tensor<1x3xi32> -> tensor<1x3x8xf32>
  return
}

// -----

func.func @rms_norm_weight(%x: tensor<1x3x16xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{'llama.rms_norm' op weight has 8 elements but the input's hidden dim is 16}}
  %y = llama.rms_norm %x, %w eps 1.0e-05 : tensor<1x3x16xf32>, tensor<8xf32>
  return
}

// -----

func.func @rms_norm_eps(%x: tensor<1x3x16xf32>, %w: tensor<16xf32>) {
  // expected-error @+1 {{'llama.rms_norm' op epsilon must be > 0}}
  %y = llama.rms_norm %x, %w eps 0.0 : tensor<1x3x16xf32>, tensor<16xf32>
  return
}

// -----

func.func @linear_in_features(%x: tensor<1x3x16xf32>, %w: tensor<8x12xf32>) {
  // expected-error @+1 {{'llama.linear' op weight is [out=8, in=12] but the input has 16 features}}
  %y = llama.linear %x, %w : tensor<1x3x16xf32>, tensor<8x12xf32> -> tensor<1x3x8xf32>
  return
}

// -----

func.func @linear_out_features(%x: tensor<1x3x16xf32>, %w: tensor<8x16xf32>) {
  // expected-error @+1 {{'llama.linear' op result has 9 features but the weight has out=8}}
  %y = llama.linear %x, %w : tensor<1x3x16xf32>, tensor<8x16xf32> -> tensor<1x3x9xf32>
  return
}

// -----

func.func @linear_batch_seq(%x: tensor<1x3x16xf32>, %w: tensor<8x16xf32>) {
  // expected-error @+1 {{'llama.linear' op result must be [batch=1, seq=3, ...], got 1x4x8}}
  %y = llama.linear %x, %w : tensor<1x3x16xf32>, tensor<8x16xf32> -> tensor<1x4x8xf32>
  return
}

// -----

func.func @linear_dynamic(%x: tensor<1x?x16xf32>, %w: tensor<8x16xf32>) {
  // expected-error @+1 {{'llama.linear' op operand #0 must be statically shaped 3-D tensor of floating-point values, but got 'tensor<1x?x16xf32>'}}
  %y = llama.linear %x, %w : tensor<1x?x16xf32>, tensor<8x16xf32> -> tensor<1x3x8xf32>
  return
}

// -----

func.func @rope_head_dim_odd(%x: tensor<1x3x15xf32>, %p: tensor<1xi64>) {
  // expected-error @+1 {{'llama.rope' op head_dim must be positive and even, got 5}}
  %y = llama.rope %x at %p head_dim 5 theta 1.0e+04 : tensor<1x3x15xf32>, tensor<1xi64>
  return
}

// -----

func.func @rope_not_multiple(%x: tensor<1x3x18xf32>, %p: tensor<1xi64>) {
  // expected-error @+1 {{'llama.rope' op input has 18 features, not a multiple of head_dim 4}}
  %y = llama.rope %x at %p head_dim 4 theta 1.0e+04 : tensor<1x3x18xf32>, tensor<1xi64>
  return
}

// -----

func.func @rope_positions(%x: tensor<2x3x16xf32>, %p: tensor<1xi64>) {
  // expected-error @+1 {{'llama.rope' op positions has 1 entries but the batch is 2}}
  %y = llama.rope %x at %p head_dim 4 theta 1.0e+04 : tensor<2x3x16xf32>, tensor<1xi64>
  return
}

// -----

func.func @rope_scaling_factor(%x: tensor<1x3x16xf32>, %p: tensor<1xi64>) {
  // expected-error @+1 {{rope_llama3 factor must be >= 1, got 5.000000e-01}}
  %y = llama.rope %x at %p head_dim 4 theta 1.0e+04 scaling <factor = 0.5, low_freq_factor = 1.0, high_freq_factor = 4.0, original_max_position = 8192> : tensor<1x3x16xf32>, tensor<1xi64>
  return
}

// -----

func.func @attention_gqa_ratio(%q: tensor<1x3x12xf32>, %k: tensor<1x3x8xf32>, %kv: tensor<1x2x1x2x8x4xf32>, %p: tensor<1xi64>) {
  // expected-error @+1 {{'llama.attention' op num_heads 3 is not a multiple of num_kv_heads 2}}
  %o, %kv1 = llama.attention %q, %k, %k cache %kv layer 0 at %p : tensor<1x3x12xf32>, tensor<1x3x8xf32>, tensor<1x2x1x2x8x4xf32>, tensor<1xi64>
  return
}

// -----

func.func @attention_kv_features(%q: tensor<1x3x16xf32>, %k: tensor<1x3x12xf32>, %kv: tensor<1x2x1x2x8x4xf32>, %p: tensor<1xi64>) {
  // expected-error @+1 {{'llama.attention' op k has 12 features but the cache holds kv_heads=2 x head_dim=4}}
  %o, %kv1 = llama.attention %q, %k, %k cache %kv layer 0 at %p : tensor<1x3x16xf32>, tensor<1x3x12xf32>, tensor<1x2x1x2x8x4xf32>, tensor<1xi64>
  return
}

// -----

func.func @attention_layer(%q: tensor<1x3x16xf32>, %k: tensor<1x3x8xf32>, %kv: tensor<1x2x1x2x8x4xf32>, %p: tensor<1xi64>) {
  // expected-error @+1 {{'llama.attention' op layer 1 is out of range for a cache of 1 layers}}
  %o, %kv1 = llama.attention %q, %k, %k cache %kv layer 1 at %p : tensor<1x3x16xf32>, tensor<1x3x8xf32>, tensor<1x2x1x2x8x4xf32>, tensor<1xi64>
  return
}

// -----

func.func @attention_cache_batch(%q: tensor<2x3x16xf32>, %k: tensor<2x3x8xf32>, %kv: tensor<1x2x1x2x8x4xf32>, %p: tensor<2xi64>) {
  // expected-error @+1 {{'llama.attention' op cache must be [layers, 2, batch=2, kv_heads, max_seq, head_dim], got 1x2x1x2x8x4}}
  %o, %kv1 = llama.attention %q, %k, %k cache %kv layer 0 at %p : tensor<2x3x16xf32>, tensor<2x3x8xf32>, tensor<1x2x1x2x8x4xf32>, tensor<2xi64>
  return
}

// -----

func.func @attention_seq_too_long(%q: tensor<1x9x16xf32>, %k: tensor<1x9x8xf32>, %kv: tensor<1x2x1x2x8x4xf32>, %p: tensor<1xi64>) {
  // expected-error @+1 {{'llama.attention' op seq 9 exceeds the cache's max_seq 8}}
  %o, %kv1 = llama.attention %q, %k, %k cache %kv layer 0 at %p : tensor<1x9x16xf32>, tensor<1x9x8xf32>, tensor<1x2x1x2x8x4xf32>, tensor<1xi64>
  return
}

// -----

func.func @attention_k_seq(%q: tensor<1x3x16xf32>, %k: tensor<1x2x8xf32>, %kv: tensor<1x2x1x2x8x4xf32>, %p: tensor<1xi64>) {
  // expected-error @+1 {{'llama.attention' op k must be [batch=1, seq=3, ...], got 1x2x8}}
  %o, %kv1 = llama.attention %q, %k, %k cache %kv layer 0 at %p : tensor<1x3x16xf32>, tensor<1x2x8xf32>, tensor<1x2x1x2x8x4xf32>, tensor<1xi64>
  return
}

// -----

func.func @swiglu_types(%a: tensor<1x3x16xf32>, %b: tensor<1x3x8xf32>) {
  // expected-error @+1 {{'llama.swiglu' op requires the same type for all operands and results}}
  %y = "llama.swiglu"(%a, %b) : (tensor<1x3x16xf32>, tensor<1x3x8xf32>) -> tensor<1x3x16xf32>
  return
}

// -----

func.func @flash_heads(%q: tensor<1x3x8xf32>, %k: tensor<2x?x8xf32>, %o: tensor<1x3x8xf32>) {
  // expected-error @+1 {{'llama.flash_attention' op heads 3 is not a multiple of kv_heads 2}}
  %r = llama.flash_attention ins(%q, %k, %k : tensor<1x3x8xf32>, tensor<2x?x8xf32>, tensor<2x?x8xf32>) outs(%o : tensor<1x3x8xf32>) scale 0.5 -> tensor<1x3x8xf32>
  return
}

// -----

func.func @flash_head_dim(%q: tensor<1x4x8xf32>, %k: tensor<2x?x4xf32>, %o: tensor<1x4x8xf32>) {
  // expected-error @+1 {{'llama.flash_attention' op keys have head_dim 4 but q has 8}}
  %r = llama.flash_attention ins(%q, %k, %k : tensor<1x4x8xf32>, tensor<2x?x4xf32>, tensor<2x?x4xf32>) outs(%o : tensor<1x4x8xf32>) scale 0.5 -> tensor<1x4x8xf32>
  return
}

// -----

func.func @flash_mixed(%q: tensor<1x4x8xf32>, %k: tensor<2x?x8xf32>, %o: memref<1x4x8xf32>) {
  // expected-error @+1 {{'llama.flash_attention' op takes tensors and returns its inits' types, or takes buffers and returns nothing}}
  llama.flash_attention ins(%q, %k, %k : tensor<1x4x8xf32>, tensor<2x?x8xf32>, tensor<2x?x8xf32>) outs(%o : memref<1x4x8xf32>) scale 0.5
  return
}

// -----

func.func @flash_shape(%q: tensor<1x4x8xf32>, %k: tensor<2x?x8xf32>, %o: tensor<2x4x8xf32>) {
  // expected-error @+1 {{'llama.flash_attention' op q and init must be [seq, heads, head_dim] of one static shape, got 1x4x8 and 2x4x8}}
  %r = llama.flash_attention ins(%q, %k, %k : tensor<1x4x8xf32>, tensor<2x?x8xf32>, tensor<2x?x8xf32>) outs(%o : tensor<2x4x8xf32>) scale 0.5 -> tensor<2x4x8xf32>
  return
}

// -----

func.func @top_k_shape(%logits: tensor<1x4x32xf32>) {
  // expected-error @+1 {{'llama.top_k' op ids must be [batch, seq, k=2], got 1x4x3}}
  %v, %i = llama.top_k %logits {k = 2} : tensor<1x4x32xf32> -> tensor<1x4x2xf32>, tensor<1x4x3xi32>
  return
}

// -----

func.func @top_k_rows_batch(%logits: tensor<1x4x32xf32>) {
  // expected-error @+1 {{'llama.top_k' op values must be [batch=1, seq=4, ...], got 1x3x2}}
  %v, %i = llama.top_k %logits {k = 2} : tensor<1x4x32xf32> -> tensor<1x3x2xf32>, tensor<1x4x2xi32>
  return
}

// -----

func.func @top_k_too_many(%logits: tensor<1x4x32xf32>) {
  // expected-error @+1 {{'llama.top_k' op k = 33 exceeds the row's 32 logits}}
  %v, %i = llama.top_k %logits {k = 33} : tensor<1x4x32xf32> -> tensor<1x4x33xf32>, tensor<1x4x33xi32>
  return
}

// -----

func.func @top_k_zero(%logits: tensor<1x4x32xf32>) {
  // expected-error @+1 {{'llama.top_k' op attribute 'k' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %v, %i = llama.top_k %logits {k = 0} : tensor<1x4x32xf32> -> tensor<1x4x0xf32>, tensor<1x4x0xi32>
  return
}

// -----

func.func @top_k_rows_inits(%logits: memref<1x4x32xf32>, %v: memref<1x4x2xf32>, %ids: memref<1x4x2xf32>) {
  // expected-error @+1 {{'llama.top_k_rows' op inits must be [batch, seq, k] of f32 and of i32, 1 <= k <= 32, for the input 1x4x32, got 1x4x2 and 1x4x2}}
  llama.top_k_rows ins(%logits : memref<1x4x32xf32>) outs(%v, %ids : memref<1x4x2xf32>, memref<1x4x2xf32>)
  return
}

// -----

func.func @top_k_rows_mixed(%logits: tensor<1x4x32xf32>, %v: memref<1x4x2xf32>, %ids: memref<1x4x2xi32>) {
  // expected-error @+1 {{'llama.top_k_rows' op takes tensors and returns its inits' types, or takes buffers and returns nothing}}
  llama.top_k_rows ins(%logits : tensor<1x4x32xf32>) outs(%v, %ids : memref<1x4x2xf32>, memref<1x4x2xi32>)
  return
}

// -----

func.func @last_rows_lengths(%x: tensor<2x3x16xf32>, %n: tensor<1xi64>) {
  // expected-error @+1 {{'llama.last_rows' op lengths must have one entry a sequence (2), got 1}}
  %y = llama.last_rows %x, %n : tensor<2x3x16xf32>, tensor<1xi64> -> tensor<2x1x16xf32>
  return
}

// -----

func.func @last_rows_result(%x: tensor<2x3x16xf32>, %n: tensor<2xi64>) {
  // expected-error @+1 {{'llama.last_rows' op result must be [batch, 1, features] of the input's type 2x3x16, got 2x3x16}}
  %y = llama.last_rows %x, %n : tensor<2x3x16xf32>, tensor<2xi64> -> tensor<2x3x16xf32>
  return
}

// -----

func.func @sample_ids(%l: tensor<1x1x32xf32>, %v: tensor<1x1x8xf32>, %i: tensor<1x1x4xi32>, %s: tensor<1x4xf64>) {
  // expected-error @+1 {{'llama.sample' op ids must have the values' shape 1x1x8, got 1x1x4}}
  %n = llama.sample %l, %v, %i, %s : tensor<1x1x32xf32>, tensor<1x1x8xf32>, tensor<1x1x4xi32>, tensor<1x4xf64> -> tensor<1x1xi32>
  return
}

// -----

func.func @sample_settings(%l: tensor<2x1x32xf32>, %v: tensor<2x1x8xf32>, %i: tensor<2x1x8xi32>, %s: tensor<2x3xf64>) {
  // expected-error @+1 {{'llama.sample' op settings must be [batch=2, 4] (temperature, top-k, top-p, uniform), got 2x3}}
  %n = llama.sample %l, %v, %i, %s : tensor<2x1x32xf32>, tensor<2x1x8xf32>, tensor<2x1x8xi32>, tensor<2x3xf64> -> tensor<2x1xi32>
  return
}

// -----

func.func @sample_next(%l: tensor<1x2x32xf32>, %v: tensor<1x2x8xf32>, %i: tensor<1x2x8xi32>, %s: tensor<1x4xf64>) {
  // expected-error @+1 {{'llama.sample' op next must be [batch=1, seq=2], got 1x1}}
  %n = llama.sample %l, %v, %i, %s : tensor<1x2x32xf32>, tensor<1x2x8xf32>, tensor<1x2x8xi32>, tensor<1x4xf64> -> tensor<1x1xi32>
  return
}

// -----

func.func @sample_logits(%l: tensor<1x2x4xf32>, %v: tensor<1x2x8xf32>, %i: tensor<1x2x8xi32>, %s: tensor<1x4xf64>) {
  // expected-error @+1 {{'llama.sample' op logits must be [batch=1, seq=2, vocab >= 8], got 1x2x4}}
  %n = llama.sample %l, %v, %i, %s : tensor<1x2x4xf32>, tensor<1x2x8xf32>, tensor<1x2x8xi32>, tensor<1x4xf64> -> tensor<1x2xi32>
  return
}

// -----

func.func @sample_settings_type(%l: tensor<1x1x32xf32>, %v: tensor<1x1x8xf32>, %i: tensor<1x1x8xi32>, %s: tensor<1x4xf32>) {
  // expected-error @+1 {{'llama.sample' op operand #3 must be statically shaped 2-D tensor of 64-bit float values}}
  %n = llama.sample %l, %v, %i, %s : tensor<1x1x32xf32>, tensor<1x1x8xf32>, tensor<1x1x8xi32>, tensor<1x4xf32> -> tensor<1x1xi32>
  return
}

// -----

func.func @sample_rows_init(%l: memref<1x2x32xf32>, %v: memref<1x2x8xf32>, %i: memref<1x2x8xi32>, %s: memref<1x4xf64>, %n: memref<1x1xi32>) {
  // expected-error @+1 {{'llama.sample_rows' op takes [batch, seq, vocab] f32 logits, their [batch, seq, k] f32 values and i32 ids, [batch, 4] f64 settings and a [batch, seq] i32 init, got 'memref<1x2x32xf32>', 'memref<1x2x8xf32>', 'memref<1x2x8xi32>', 'memref<1x4xf64>' and 'memref<1x1xi32>'}}
  llama.sample_rows ins(%l, %v, %i, %s : memref<1x2x32xf32>, memref<1x2x8xf32>, memref<1x2x8xi32>, memref<1x4xf64>) outs(%n : memref<1x1xi32>)
  return
}

// -----

func.func @sample_rows_logits(%l: memref<1x1x4xf32>, %v: memref<1x1x8xf32>, %i: memref<1x1x8xi32>, %s: memref<1x4xf64>, %n: memref<1x1xi32>) {
  // expected-error @+1 {{'llama.sample_rows' op takes [batch, seq, vocab] f32 logits, their [batch, seq, k] f32 values and i32 ids, [batch, 4] f64 settings and a [batch, seq] i32 init, got 'memref<1x1x4xf32>', 'memref<1x1x8xf32>', 'memref<1x1x8xi32>', 'memref<1x4xf64>' and 'memref<1x1xi32>'}}
  llama.sample_rows ins(%l, %v, %i, %s : memref<1x1x4xf32>, memref<1x1x8xf32>, memref<1x1x8xi32>, memref<1x4xf64>) outs(%n : memref<1x1xi32>)
  return
}

// -----

func.func @sample_rows_mixed(%l: tensor<1x1x32xf32>, %v: tensor<1x1x8xf32>, %i: tensor<1x1x8xi32>, %s: tensor<1x4xf64>, %n: memref<1x1xi32>) {
  // expected-error @+1 {{'llama.sample_rows' op takes tensors and returns its inits' types, or takes buffers and returns nothing}}
  llama.sample_rows ins(%l, %v, %i, %s : tensor<1x1x32xf32>, tensor<1x1x8xf32>, tensor<1x1x8xi32>, tensor<1x4xf64>) outs(%n : memref<1x1xi32>)
  return
}
