// The llama-to-host pipeline (llamac compile's, from llama-plan-weights to
// the LLVM dialect) on a hand-written 1-layer model (hidden 8, 2 query heads
// over 1 KV head, head_dim 4, vocab 16, context 8, tied embeddings). The
// entry point keeps its name and takes eight bare pointers, the runtime's C
// ABI (runtime/include/llamac/abi/ModelABI.h): tokens, positions, KV cache
// (updated in place), weights blob, logits and the row's top 4 logits and
// ids (out-parameters), the temporaries' workspace; it returns nothing.
// Which pointer plays which role is checked end to end by the E2E tests,
// which call the compiled entry points through this ABI.
// RUN: llamac-opt %s --llama-to-host | FileCheck %s
// Nothing but the LLVM dialect is left.
// RUN: llamac-opt %s --llama-to-host | FileCheck %s --check-prefix=CLEAN
// RUN: llamac-opt %s --llama-to-host | FileCheck %s --check-prefix=OFFSETS

// Blob: 11 params of 512, 32, 256, 128, 128, 256, 32, 384, 384, 384, 32
// bytes, each at a 64-aligned offset: 2592 bytes.
// CHECK-LABEL: module attributes {{{.*}}llama.weights_bytes = 2592 : i64, llama.workspace_bytes = {{[0-9]+}} : i64}
// The entry point: exactly eight bare pointers (no memref descriptors, no
// sizes), no results.
// CHECK:       llvm.func @decode(%arg0: !llvm.ptr, %arg1: !llvm.ptr, %arg2: !llvm.ptr, %arg3: !llvm.ptr, %arg4: !llvm.ptr, %arg5: !llvm.ptr, %arg6: !llvm.ptr, %arg7: !llvm.ptr) {
// CHECK-NOT:   llvm.func
// CHECK:         llvm.return{{$}}
// The weights are read at their planned byte offsets in the blob: the
// first layer's input norm at 512, the final norm at 2560.
// OFFSETS-DAG: llvm.getelementptr %{{.*}}[512] : (!llvm.ptr) -> !llvm.ptr, i8
// OFFSETS-DAG: llvm.getelementptr %{{.*}}[2560] : (!llvm.ptr) -> !llvm.ptr, i8

// CLEAN-NOT: llama.param @
// CLEAN-NOT: llama.weight @
// CLEAN-NOT: func.func
// CLEAN-NOT: linalg.
// CLEAN-NOT: tensor.
// CLEAN-NOT: memref.
// CLEAN-NOT: bufferization.
// CLEAN-NOT: scf.
// CLEAN-NOT: {{ cf\.}}
// CLEAN-NOT: unrealized_conversion_cast
// CLEAN:     llvm.func @decode(
// CLEAN-NOT: llama.param @
// CLEAN-NOT: llama.weight @
// CLEAN-NOT: func.func
// CLEAN-NOT: linalg.
// CLEAN-NOT: tensor.
// CLEAN-NOT: memref.
// CLEAN-NOT: bufferization.
// CLEAN-NOT: scf.
// CLEAN-NOT: {{ cf\.}}
// CLEAN-NOT: unrealized_conversion_cast

module attributes {llama.config = #llama.config<hidden_size = 8, intermediate_size = 12, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 4, vocab_size = 16, max_position_embeddings = 8, tie_word_embeddings = true, bos_token_id = 1, eos_token_ids = 2>} {
  llama.param @embed : tensor<16x8xf32>
  llama.param @attn_norm : tensor<8xf32>
  llama.param @wq : tensor<8x8xf32>
  llama.param @wk : tensor<4x8xf32>
  llama.param @wv : tensor<4x8xf32>
  llama.param @wo : tensor<8x8xf32>
  llama.param @mlp_norm : tensor<8xf32>
  llama.param @wgate : tensor<12x8xf32>
  llama.param @wup : tensor<12x8xf32>
  llama.param @wdown : tensor<8x12xf32>
  llama.param @norm : tensor<8xf32>
  func.func @decode(%tokens: tensor<1x1xi32>, %pos: tensor<1xi64>, %cache: tensor<1x2x1x1x8x4xf32>) -> (tensor<1x1x16xf32>, tensor<1x1x4xf32>, tensor<1x1x4xi32>, tensor<1x2x1x1x8x4xf32>) {
    %e = llama.weight @embed : tensor<16x8xf32>
    %x = llama.embedding %e[%tokens] : tensor<16x8xf32>, tensor<1x1xi32> -> tensor<1x1x8xf32>
    %n1 = llama.weight @attn_norm : tensor<8xf32>
    %h = llama.rms_norm %x, %n1 eps 1.0e-05 : tensor<1x1x8xf32>, tensor<8xf32>
    %wq = llama.weight @wq : tensor<8x8xf32>
    %q = llama.linear %h, %wq : tensor<1x1x8xf32>, tensor<8x8xf32> -> tensor<1x1x8xf32>
    %wk = llama.weight @wk : tensor<4x8xf32>
    %k = llama.linear %h, %wk : tensor<1x1x8xf32>, tensor<4x8xf32> -> tensor<1x1x4xf32>
    %wv = llama.weight @wv : tensor<4x8xf32>
    %v = llama.linear %h, %wv : tensor<1x1x8xf32>, tensor<4x8xf32> -> tensor<1x1x4xf32>
    %qr = llama.rope %q at %pos head_dim 4 theta 1.0e+04 : tensor<1x1x8xf32>, tensor<1xi64>
    %kr = llama.rope %k at %pos head_dim 4 theta 1.0e+04 : tensor<1x1x4xf32>, tensor<1xi64>
    %a, %cache1 = llama.attention %qr, %kr, %v cache %cache layer 0 at %pos : tensor<1x1x8xf32>, tensor<1x1x4xf32>, tensor<1x2x1x1x8x4xf32>, tensor<1xi64>
    %wo = llama.weight @wo : tensor<8x8xf32>
    %o = llama.linear %a, %wo : tensor<1x1x8xf32>, tensor<8x8xf32> -> tensor<1x1x8xf32>
    %r = llama.add %x, %o : tensor<1x1x8xf32>
    %n2 = llama.weight @mlp_norm : tensor<8xf32>
    %h2 = llama.rms_norm %r, %n2 eps 1.0e-05 : tensor<1x1x8xf32>, tensor<8xf32>
    %wg = llama.weight @wgate : tensor<12x8xf32>
    %g = llama.linear %h2, %wg : tensor<1x1x8xf32>, tensor<12x8xf32> -> tensor<1x1x12xf32>
    %wu = llama.weight @wup : tensor<12x8xf32>
    %u = llama.linear %h2, %wu : tensor<1x1x8xf32>, tensor<12x8xf32> -> tensor<1x1x12xf32>
    %s = llama.swiglu %g, %u : tensor<1x1x12xf32>
    %wd = llama.weight @wdown : tensor<8x12xf32>
    %d = llama.linear %s, %wd : tensor<1x1x12xf32>, tensor<8x12xf32> -> tensor<1x1x8xf32>
    %r2 = llama.add %r, %d : tensor<1x1x8xf32>
    %n3 = llama.weight @norm : tensor<8xf32>
    %f = llama.rms_norm %r2, %n3 eps 1.0e-05 : tensor<1x1x8xf32>, tensor<8xf32>
    %logits = llama.linear %f, %e : tensor<1x1x8xf32>, tensor<16x8xf32> -> tensor<1x1x16xf32>
    %top:2 = llama.top_k %logits {k = 4} : tensor<1x1x16xf32> -> tensor<1x1x4xf32>, tensor<1x1x4xi32>
    return %logits, %top#0, %top#1, %cache1 : tensor<1x1x16xf32>, tensor<1x1x4xf32>, tensor<1x1x4xi32>, tensor<1x2x1x1x8x4xf32>
  }
}
