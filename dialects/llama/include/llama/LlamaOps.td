//===- LlamaOps.td - llama dialect operations -----------------*- tablegen -*-===//
//
// One op per building block of a LLaMA decoder. Activations are
// [batch, seq, features] tensors; shapes are static and verified.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMA_OPS_TD
#define LLAMA_OPS_TD

include "llama/LlamaDialect.td"
include "llama/LlamaAttrs.td"
include "mlir/IR/OpBase.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/DestinationStyleOpInterface.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

// Every shape in the dialect is static: the compiler specializes kernels to it.
class Llama_StaticTensorOf<list<Type> types, int rank>
    : RankedTensorOf<types, [HasAnyRankOfPred<[rank]>, HasStaticShapePred],
                     "statically shaped " # rank # "-D tensor">;

def Llama_FloatTensor : StaticShapeTensorOf<[AnyFloat]>;
def Llama_Activation : Llama_StaticTensorOf<[AnyFloat], 3>;
def Llama_Vector : Llama_StaticTensorOf<[AnyFloat], 1>;
def Llama_Matrix : Llama_StaticTensorOf<[AnyFloat], 2>;
def Llama_KVCache : Llama_StaticTensorOf<[AnyFloat], 6>;
def Llama_TokenIds : Llama_StaticTensorOf<[I32], 2>;
def Llama_Positions : Llama_StaticTensorOf<[I64], 1>;

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

def Llama_ParamOp : Llama_Op<"param", [Symbol, HasParent<"::mlir::ModuleOp">]> {
  let summary = "Declares one checkpoint tensor";
  let description = [{
    Names a tensor of the checkpoint (the symbol is the tensor's name in the
    safetensors files) together with its shape and stored element type. No
    data is attached: the weight packer streams the bytes from the mmapped
    checkpoint when the executable is written.

    ```mlir
    llama.param @model.layers.0.self_attn.q_proj.weight : tensor<4096x4096xbf16>
    ```

    `offset`, set by `llama-plan-weights`, is the byte offset of the tensor
    in the packed weights blob that the executable carries.

    `column_scale`, set by `llama-fold-norm-gains`, names a `[in_features]`
    param by which the packer multiplies each row of this `[out, in]`
    matrix elementwise (an RMSNorm's gains, `W * diag(g)`), rounding to the
    stored type.
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       TypeAttrOf<Llama_FloatTensor>:$type,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntNonNegative]>>:$offset,
                       OptionalAttr<FlatSymbolRefAttr>:$column_scale);
  let assemblyFormat = "$sym_name `:` $type attr-dict";
  let extraClassDeclaration = [{
    ::mlir::RankedTensorType getTensorType() {
      return ::llvm::cast<::mlir::RankedTensorType>(getType());
    }
  }];
}

def Llama_WeightOp : Llama_Op<"weight",
    [Pure, DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "The value of a declared parameter";
  let description = [{
    Makes the tensor declared by a `llama.param` available as an SSA value.
    The result type must equal the declared type.

    ```mlir
    %wq = llama.weight @model.layers.0.self_attn.q_proj.weight : tensor<4096x4096xbf16>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$param);
  let results = (outs Llama_FloatTensor:$result);
  let assemblyFormat = "$param attr-dict `:` type($result)";
}

//===----------------------------------------------------------------------===//
// Layers
//===----------------------------------------------------------------------===//

def Llama_EmbeddingOp : Llama_Op<"embedding", [Pure]> {
  let summary = "Token embedding lookup";
  let description = [{
    `result[b, s, :] = table[tokens[b, s], :]`, converted to the result's
    element type. The table is `[vocab, hidden]`.

    ```mlir
    %x = llama.embedding %table[%tokens] : tensor<32000x4096xbf16>, tensor<1x8xi32> -> tensor<1x8x4096xf32>
    ```
  }];
  let arguments = (ins Llama_Matrix:$table, Llama_TokenIds:$tokens);
  let results = (outs Llama_Activation:$result);
  let assemblyFormat = [{
    $table `[` $tokens `]` attr-dict `:` type($table) `,` type($tokens) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Llama_RMSNormOp : Llama_Op<"rms_norm", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "Root-mean-square layer normalization";
  let description = [{
    `result = input / sqrt(mean(input^2, last dim) + epsilon) * weight`,
    with the weight of shape `[hidden]`. Without a weight (its gains moved
    into the next linear layers' weights by `llama-fold-norm-gains`), the
    gain is 1.

    ```mlir
    %y = llama.rms_norm %x, %w eps 1.0e-05 : tensor<1x8x4096xf32>, tensor<4096xbf16>
    %z = llama.rms_norm %x eps 1.0e-05 : tensor<1x8x4096xf32>
    ```
  }];
  let arguments = (ins Llama_Activation:$input, Optional<Llama_Vector>:$weight,
                       F64Attr:$epsilon);
  let results = (outs Llama_Activation:$result);
  let assemblyFormat = [{
    $input (`,` $weight^)? `eps` $epsilon attr-dict `:` type($input) (`,` type($weight)^)?
  }];
  let hasVerifier = 1;
}

def Llama_LinearOp : Llama_Op<"linear", [Pure]> {
  let summary = "Activations times a weight matrix (no bias)";
  let description = [{
    `result[b, s, n] = sum_k input[b, s, k] * weight[n, k]`: the weight is
    `[out_features, in_features]`, as stored by Hugging Face.

    ```mlir
    %q = llama.linear %x, %wq : tensor<1x8x4096xf32>, tensor<4096x4096xbf16> -> tensor<1x8x4096xf32>
    ```
  }];
  let arguments = (ins Llama_Activation:$input, Llama_Matrix:$weight);
  let results = (outs Llama_Activation:$result);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` type($input) `,` type($weight) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Llama_RoPEOp : Llama_Op<"rope", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "Rotary position embedding";
  let description = [{
    Rotates each `head_dim`-wide head of `input` (`[batch, seq, heads *
    head_dim]`) by the angle `(positions[b] + s) * inv_freq[i]` with
    `inv_freq[i] = theta^(-2i / head_dim)`, pairing element `i` with element
    `i + head_dim/2` (the Hugging Face layout). `scaling`, when present,
    rescales `inv_freq` as Llama 3's `rope_scaling` does.

    ```mlir
    %qr = llama.rope %q at %pos head_dim 128 theta 5.0e+05 : tensor<1x8x4096xf32>, tensor<1xi64>
    ```
  }];
  let arguments = (ins Llama_Activation:$input, Llama_Positions:$positions,
                       I64Attr:$head_dim, F64Attr:$theta,
                       OptionalAttr<Llama_RopeLlama3ScalingAttr>:$scaling);
  let results = (outs Llama_Activation:$result);
  let assemblyFormat = [{
    $input `at` $positions `head_dim` $head_dim `theta` $theta (`scaling` $scaling^)?
    attr-dict `:` type($input) `,` type($positions)
  }];
  let hasVerifier = 1;
}

def Llama_AttentionOp : Llama_Op<"attention",
    [Pure, AllTypesMatch<["q", "result"]>, AllTypesMatch<["k", "v"]>,
     AllTypesMatch<["cache", "new_cache"]>]> {
  let summary = "Causal grouped-query attention over a KV cache";
  let description = [{
    Writes this step's keys and values into layer `layer` of the cache at
    positions `positions[b] .. positions[b] + seq - 1`, then attends each
    query at position `p` to the cached keys `0 .. p` with scale
    `1/sqrt(head_dim)`. Query head `h` reads key/value head
    `h / (num_heads / num_kv_heads)`: GQA, with MQA (`num_kv_heads = 1`) and
    plain multi-head attention as the two ends.

    The cache is `[layers, 2 (k, v), batch, num_kv_heads, max_seq, head_dim]`;
    `head_dim`, `num_kv_heads` and `num_heads` are read off the types, so they
    cannot disagree. `q` is `[batch, seq, num_heads * head_dim]`, `k` and `v`
    are `[batch, seq, num_kv_heads * head_dim]`.

    ```mlir
    %o, %kv1 = llama.attention %q, %k, %v cache %kv0 layer 0 at %pos
        : tensor<1x8x4096xf32>, tensor<1x8x1024xf32>, tensor<32x2x1x8x2048x128xf32>, tensor<1xi64>
    ```
  }];
  let arguments = (ins Llama_Activation:$q, Llama_Activation:$k,
                       Llama_Activation:$v,
                       Llama_KVCache:$cache,
                       Llama_Positions:$positions, I64Attr:$layer);
  let results = (outs Llama_Activation:$result,
                      Llama_KVCache:$new_cache);
  let assemblyFormat = [{
    $q `,` $k `,` $v `cache` $cache `layer` $layer `at` $positions attr-dict
    `:` type($q) `,` type($k) `,` type($cache) `,` type($positions)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    int64_t getHeadDim() { return getCache().getType().getDimSize(5); }
    int64_t getNumKVHeads() { return getCache().getType().getDimSize(3); }
    int64_t getMaxSeqLen() { return getCache().getType().getDimSize(4); }
    int64_t getNumHeads() { return getQ().getType().getDimSize(2) / getHeadDim(); }
  }];
}

def Llama_SwiGLUOp : Llama_Op<"swiglu", [Pure, SameOperandsAndResultType]> {
  let summary = "SiLU-gated linear unit: silu(gate) * up";
  let description = [{
    The elementwise middle of LLaMA's MLP:
    `down(silu(gate(x)) * up(x))`, with the three projections as
    `llama.linear` ops around it.

    ```mlir
    %h = llama.swiglu %g, %u : tensor<1x8x14336xf32>
    ```
  }];
  let arguments = (ins Llama_Activation:$gate, Llama_Activation:$up);
  let results = (outs Llama_Activation:$result);
  let assemblyFormat = "$gate `,` $up attr-dict `:` type($result)";
}

def Llama_AddOp : Llama_Op<"add", [Pure, SameOperandsAndResultType, Commutative]> {
  let summary = "Residual add";
  let arguments = (ins Llama_Activation:$lhs, Llama_Activation:$rhs);
  let results = (outs Llama_Activation:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

def Llama_LastRowsOp : Llama_Op<"last_rows", [Pure]> {
  let summary = "Each sequence's last real row of a chunk";
  let description = [{
    `result[b, 0, :] = input[b, lengths[b] - 1, :]`: a prefill chunk's rows
    past `lengths[b]` are padding, and generation needs the logits of the
    last real one only, so the final norm and the lm_head run on one row a
    sequence (`llamac compile --logits-all` keeps every row). A length
    outside `[1, seq]` is clamped to it (the runtime never passes one).

    ```mlir
    %last = llama.last_rows %x, %lengths : tensor<1x128x4096xf32>, tensor<1xi64> -> tensor<1x1x4096xf32>
    ```
  }];
  let arguments = (ins Llama_Activation:$input, Llama_Positions:$lengths);
  let results = (outs Llama_Activation:$result);
  let assemblyFormat = [{
    $input `,` $lengths attr-dict `:` type($input) `,` type($lengths) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Llama_TopKOp : Llama_Op<"top_k", [Pure]> {
  let summary = "Each row's k largest logits and their ids, largest first";
  let description = [{
    `values[b, s, i]` and `ids[b, s, i]` are the `i`-th of row `[b, s]`'s
    logits in the order (logit descending, id ascending), NaN counting as
    -inf (and reported so); `k = 1` is greedy decoding's argmax. The entry
    points return them beside the logits, so that a GPU reads back one id
    (greedy) or `k` pairs (sampling with top-k <= k) a step, not a row of
    logits; the runtime samples among them exactly as among the row.

    ```mlir
    %values, %ids = llama.top_k %logits {k = 64} : tensor<1x1x128256xf32>
        -> tensor<1x1x64xf32>, tensor<1x1x64xi32>
    ```
  }];
  let arguments = (ins Llama_Activation:$logits,
                       ConfinedAttr<I64Attr, [IntPositive]>:$k);
  let results = (outs Llama_Activation:$values,
                      Llama_StaticTensorOf<[I32], 3>:$ids);
  let assemblyFormat = [{
    $logits attr-dict `:` type($logits) `->` type($values) `,` type($ids)
  }];
  let hasVerifier = 1;
}

def Llama_SampleOp : Llama_Op<"sample", [Pure]> {
  let summary = "Each row's next token, drawn from its top list or its row";
  let description = [{
    `next[b, s]` is the token drawn for row `[b, s]` of `logits`, given its
    top list (`values`, `ids`: `llama.top_k`'s results, `K` pairs), with
    sequence `b`'s settings `(t, k, p, u) = settings[b]`: temperature,
    top-k, top-p and a uniform number in [0, 1) that the caller draws.
    Greedy (`!(t > 0)`), or a first value that is not finite: `ids[0]`.
    Otherwise, where `1 <= k <= K`, from the list, as a sampler that sorts
    the row draws (bit for bit):

    - `w_i = f32(exp((f64(values[i]) - f64(values[0])) * (1 / t)))` and
      `c_i = w_0 + ... + w_i` in f64, in that order, for `i < k`;
    - `m = k`, or where `p < 1` and `k > 1`, one more than the first `i`
      with `c_i >= p * c_(k-1)` (if any);
    - `ids[i]` for the first `i < m` with `u * c_(m-1) < c_i`, else
      `ids[m-1]`.

    Otherwise (top-k off, or above `K`) from the whole row, in fixed point
    so that no order of addition changes the token. With `M = values[0]`
    (the row's maximum, NaN as -inf), `s = f32(1 / t)` and
    `S = 63 - bitwidth(V)`:

    - `w_i = 0` for NaN, `1` where `x_i = M`, else `exp(f32(x_i - M) * s)`
      in f32; its key is its bit pattern (order-preserving, below 2^30),
      its mass `q_i = floor(w_i * 2^S)` (a row's sum stays below 2^63);
    - the candidates: keys `>= kappa`, the largest key that at least `k`
      entries reach where `K < k < V`, else all;
    - the nucleus: keys `>= pi`, where `p < 1` the largest key whose
      entries hold at least `max(1, floor(p * Q))` of the candidates'
      mass `Q`, else `kappa` (ties at either threshold all kept);
    - `r = min(floor(u * Q_N), Q_N - 1)`, `Q_N` the nucleus' mass, and the
      token the first id of the nucleus whose running mass exceeds `r`.

    Only the token (4 bytes a row) then leaves a GPU per step.

    ```mlir
    %next = llama.sample %logits, %values, %ids, %settings
        : tensor<1x1x128256xf32>, tensor<1x1x64xf32>, tensor<1x1x64xi32>,
          tensor<1x4xf64> -> tensor<1x1xi32>
    ```
  }];
  let arguments = (ins Llama_Activation:$logits,
                       Llama_Activation:$values,
                       Llama_StaticTensorOf<[I32], 3>:$ids,
                       Llama_StaticTensorOf<[F64], 2>:$settings);
  let results = (outs Llama_StaticTensorOf<[I32], 2>:$next);
  let assemblyFormat = [{
    $logits `,` $values `,` $ids `,` $settings attr-dict `:` type($logits)
    `,` type($values) `,` type($ids) `,` type($settings) `->` type($next)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Kernels: ops the lowering makes, on tensors or (after bufferization)
// buffers, for targets that run them as one kernel each
//===----------------------------------------------------------------------===//

def Llama_FlashAttentionOp : Llama_Op<"flash_attention",
    [DestinationStyleOpInterface,
     DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "Causal attention of a chunk of queries in one pass over "
                "the keys";
  let description = [{
    `out[s, h, :] = softmax_j(scale * q[s, h, :] . keys[h / g, j, :]) .
    values[h / g, j, :]` over the keys `j <= len - seq + s` (the chunk's
    queries are the last `seq` of `len` positions), with `g = heads /
    kv_heads`: grouped-query attention, MQA and MHA alike. `q` and `out` are
    `[seq, heads, head_dim]`, `keys` and `values` `[kv_heads, len,
    head_dim]` with `len` known at run time (a slice of the KV cache).

    What `llama-to-linalg` makes of `llama.attention` where the target runs
    it fused (`flash-attention=true`): a single pass over the keys with a
    running maximum and sum (online softmax), so neither the scores nor the
    probabilities are ever stored. Destination-style, on tensors or
    buffers: it bufferizes like a linalg op, and `llama-map-to-gpu` turns
    the buffer form into a kernel (and a combining kernel where the keys
    are split among several warps).

    ```mlir
    %o = llama.flash_attention ins(%q, %k, %v : tensor<1x32x128xf32>,
        tensor<8x?x128xf32>, tensor<8x?x128xf32>)
        outs(%init : tensor<1x32x128xf32>) scale 0.0883883461 -> tensor<1x32x128xf32>
    ```
  }];
  let arguments = (ins AnyShaped:$q, AnyShaped:$keys, AnyShaped:$values,
                       AnyShaped:$init, F32Attr:$scale);
  let results = (outs Variadic<AnyRankedTensor>:$result);
  let assemblyFormat = [{
    `ins` `(` $q `,` $keys `,` $values `:` type($q) `,` type($keys) `,`
    type($values) `)` `outs` `(` $init `:` type($init) `)` `scale` $scale
    attr-dict (`->` type($result)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() { return getInitMutable(); }
    int64_t getSeqLen() { return getQ().getType().getDimSize(0); }
    int64_t getNumHeads() { return getQ().getType().getDimSize(1); }
    int64_t getHeadDim() { return getQ().getType().getDimSize(2); }
    int64_t getNumKVHeads() { return getKeys().getType().getDimSize(0); }
  }];
}

def Llama_TopKRowsOp : Llama_Op<"top_k_rows",
    [DestinationStyleOpInterface,
     DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "llama.top_k as one kernel, destination-style";
  let description = [{
    `values[b, s, :]` and `ids[b, s, :]` are the `k` largest of
    `input[b, s, :]` with `llama.top_k`'s rules, `k` the inits' last
    dimension. What `llama-to-linalg` makes of `llama.top_k` where the
    target runs it as a kernel (`flash-attention=true`, the CUDA targets);
    on tensors or buffers like `llama.flash_attention`, and
    `llama-map-to-gpu` turns the buffer form into a block per row.

    ```mlir
    %v, %i = llama.top_k_rows ins(%logits : tensor<1x1x128256xf32>)
        outs(%vinit, %iinit : tensor<1x1x64xf32>, tensor<1x1x64xi32>)
        -> tensor<1x1x64xf32>, tensor<1x1x64xi32>
    ```
  }];
  let arguments = (ins AnyShaped:$input, AnyShaped:$values_init,
                       AnyShaped:$ids_init);
  let results = (outs Variadic<AnyRankedTensor>:$result);
  let assemblyFormat = [{
    `ins` `(` $input `:` type($input) `)` `outs` `(` $values_init `,`
    $ids_init `:` type($values_init) `,` type($ids_init) `)` attr-dict
    (`->` type($result)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    // The inits: operands 1 and 2.
    ::mlir::MutableOperandRange getDpsInitsMutable() {
      return ::mlir::MutableOperandRange(getOperation(), 1, 2);
    }
    int64_t getK() {
      return ::mlir::cast<::mlir::ShapedType>(getValuesInit().getType())
          .getDimSize(2);
    }
  }];
}

def Llama_SampleRowsOp : Llama_Op<"sample_rows",
    [DestinationStyleOpInterface,
     DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "llama.sample as one kernel, destination-style";
  let description = [{
    `next[b, s]` is `llama.sample`'s token for row `[b, s]` of `logits`
    and its top list (`values`, `ids`) with `settings[b]`. What
    `llama-to-linalg` makes of `llama.sample` where the target runs it as
    a kernel (the CUDA targets); `llama-map-to-gpu` turns the buffer form
    into a block per row.

    ```mlir
    %next = llama.sample_rows ins(%logits, %v, %i, %settings
        : tensor<1x1x128256xf32>, tensor<1x1x64xf32>, tensor<1x1x64xi32>,
          tensor<1x4xf64>) outs(%init : tensor<1x1xi32>) -> tensor<1x1xi32>
    ```
  }];
  let arguments = (ins AnyShaped:$logits, AnyShaped:$values, AnyShaped:$ids,
                       AnyShaped:$settings, AnyShaped:$init);
  let results = (outs Variadic<AnyRankedTensor>:$result);
  let assemblyFormat = [{
    `ins` `(` $logits `,` $values `,` $ids `,` $settings `:` type($logits)
    `,` type($values) `,` type($ids) `,` type($settings) `)` `outs` `(`
    $init `:` type($init) `)` attr-dict (`->` type($result)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() { return getInitMutable(); }
    int64_t getK() {
      return ::mlir::cast<::mlir::ShapedType>(getValues().getType())
          .getDimSize(2);
    }
    int64_t getVocab() {
      return ::mlir::cast<::mlir::ShapedType>(getLogits().getType())
          .getDimSize(2);
    }
  }];
}

def Llama_AwaitEarlierKernelsOp : Llama_Op<"await_earlier_kernels"> {
  let summary = "inside a kernel: memory of earlier kernels is read from here on";
  let description = [{
    Marks the point in a `gpu.launch` body (at its top level) before which
    the kernel reads only memory that no kernel of the call writes (the
    weights): `llama-overlap-launches` puts the wait for the kernels before
    it (`griddepcontrol.wait` on sm_90) here instead of at the kernel's top,
    so that those loads overlap the previous kernel's end. Targets without
    programmatic dependent launch drop it. It has unknown memory effects,
    so that nothing moves across it.

    `min_blocks_per_sm`: the kernel's blocks that an SM should hold at once
    (its loads in flight bound it); llama-overlap-launches passes it on as
    the kernel's `nvvm.minctasm` (PTX `.minnctapersm`), so that ptxas keeps
    the registers a thread to what that many blocks leave, on every arch.

    ```mlir
    %w = vector.load %weights[%row, %k] : memref<3072x2048xbf16>, vector<8xbf16>
    llama.await_earlier_kernels {min_blocks_per_sm = 3 : i32}
    %x = vector.load %x[%k] : memref<2048xf32>, vector<8xf32>
    ```
  }];
  let arguments = (ins OptionalAttr<ConfinedAttr<I32Attr, [IntPositive]>>:$min_blocks_per_sm);
  let assemblyFormat = "attr-dict";
}

#endif // LLAMA_OPS_TD
