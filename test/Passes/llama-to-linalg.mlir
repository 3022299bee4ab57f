// llama-to-linalg: weights become views of a trailing blob argument, the KV
// cache an in-place memref argument, every llama op tensor-level linalg.
// RUN: llamac-opt %s -split-input-file -verify-diagnostics --llama-to-linalg | FileCheck %s

// A linear layer on a bf16 weight: the blob argument memref<Nxi8>
// (N = llama.weights_bytes) is appended, the weight is a memref.view at its
// planned offset read through `to_tensor restrict` (not writable), and the
// contraction is a linalg.generic reducing over k that widens the weight to
// f32. A param read twice gets a single view. The params are erased.
// The iteration order is (batch, out feature, token, in feature), so that a
// weight row is reused for every token of the call.
// CHECK-DAG:   #[[X:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>
// CHECK-DAG:   #[[W:.*]] = affine_map<(d0, d1, d2, d3) -> (d1, d3)>
// CHECK-DAG:   #[[Y:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d1)>
// CHECK-LABEL: module attributes {llama.weights_bytes = 320 : i64}
// CHECK-NOT:   llama.param
// CHECK-LABEL: func.func @linear
// The blob argument is marked: no kernel of the call writes it.
// CHECK-SAME:    (%[[IN:[a-z0-9_]+]]: tensor<1x1x16xf32>, %[[BLOB:[a-z0-9_]+]]: memref<320xi8> {llama.weights}) -> (tensor<1x1x8xf32>, tensor<1x1x8xf32>)
// CHECK:         %[[C64:.*]] = arith.constant 64 : index
// CHECK:         %[[VIEW:.*]] = memref.view %[[BLOB]][%[[C64]]][] : memref<320xi8> to memref<8x16xbf16>
// CHECK:         %[[WT:.*]] = bufferization.to_tensor %[[VIEW]] restrict : memref<8x16xbf16> to tensor<8x16xbf16>
// CHECK-NOT:     memref.view
// CHECK:         %[[ZERO:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<1x1x8xf32>)
// CHECK:         %[[Y1:.*]] = linalg.generic {indexing_maps = [#[[X]], #[[W]], #[[Y]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME:      ins(%[[IN]], %[[WT]] : tensor<1x1x16xf32>, tensor<8x16xbf16>) outs(%[[ZERO]] : tensor<1x1x8xf32>)
// CHECK-NEXT:    ^bb0(%[[A:[a-z0-9_]+]]: f32, %[[B:[a-z0-9_]+]]: bf16, %[[ACC:[a-z0-9_]+]]: f32):
// CHECK-NEXT:      %[[BF:.*]] = arith.extf %[[B]] : bf16 to f32
// CHECK-NEXT:      %[[P:.*]] = arith.mulf %[[A]], %[[BF]]
// CHECK-NEXT:      %[[S:.*]] = arith.addf %[[ACC]], %[[P]]
// CHECK-NEXT:      linalg.yield %[[S]] : f32
// CHECK:         %[[Y2:.*]] = linalg.generic {{.*}} ins(%[[IN]], %[[WT]] :
// CHECK:         return %[[Y1]], %[[Y2]]
// A function that reads no weight gets no blob argument.
// CHECK-LABEL: func.func @no_weights(%{{.*}}: tensor<1x1x8xf32>) -> tensor<1x1x8xf32>
module attributes {llama.weights_bytes = 320 : i64} {
  llama.param @x : tensor<4xf32> {offset = 0 : i64}
  llama.param @w : tensor<8x16xbf16> {offset = 64 : i64}
  func.func @linear(%x: tensor<1x1x16xf32>) -> (tensor<1x1x8xf32>, tensor<1x1x8xf32>) {
    %w = llama.weight @w : tensor<8x16xbf16>
    %y = llama.linear %x, %w : tensor<1x1x16xf32>, tensor<8x16xbf16> -> tensor<1x1x8xf32>
    %w2 = llama.weight @w : tensor<8x16xbf16>
    %y2 = llama.linear %x, %w2 : tensor<1x1x16xf32>, tensor<8x16xbf16> -> tensor<1x1x8xf32>
    return %y, %y2 : tensor<1x1x8xf32>, tensor<1x1x8xf32>
  }
  func.func @no_weights(%x: tensor<1x1x8xf32>) -> tensor<1x1x8xf32> {
    %y = llama.add %x, %x : tensor<1x1x8xf32>
    return %y : tensor<1x1x8xf32>
  }
}

// -----

// Embedding (a gather from the f16 table), RMSNorm (sum of squares reduced
// over the hidden dim, then rsqrt(mean + eps) and the bf16 weight), SwiGLU
// (g / (1 + exp(-g)) * u) and the residual add: each its linalg.generic.
// CHECK-LABEL: func.func @layers
// CHECK-SAME:    (%[[TOK:[a-z0-9_]+]]: tensor<1x2xi32>, %[[G:[a-z0-9_]+]]: tensor<1x2x4xf32>, %[[BLOB:[a-z0-9_]+]]: memref<192xi8> {llama.weights})
// CHECK-DAG:     memref.view %[[BLOB]][%{{.*}}][] : memref<192xi8> to memref<16x4xf16>
// CHECK-DAG:     %[[NV:.*]] = memref.view %[[BLOB]][%[[C128:.*]]][] : memref<192xi8> to memref<4xbf16>
// CHECK-DAG:     %[[C128]] = arith.constant 128 : index
// CHECK:         %[[EMB:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[TOK]] : tensor<1x2xi32>) outs(%{{.*}} : tensor<1x2x4xf32>)
// CHECK:           %[[ROW:.*]] = arith.index_cast %{{.*}} : i32 to index
// CHECK:           %[[COL:.*]] = linalg.index 2 : index
// CHECK:           %[[E:.*]] = tensor.extract %{{.*}}[%[[ROW]], %[[COL]]] : tensor<16x4xf16>
// CHECK:           arith.extf %[[E]] : f16 to f32
// CHECK:         %[[SQ:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[EMB]] : tensor<1x2x4xf32>) outs(%{{.*}} : tensor<1x2xf32>)
// CHECK:           arith.mulf
// CHECK:           arith.addf
// CHECK:         %[[NORM:.*]] = linalg.generic {{.*}} ins(%[[EMB]], %[[SQ]], %{{.*}} : tensor<1x2x4xf32>, tensor<1x2xf32>, tensor<4xbf16>)
// CHECK:           arith.constant 4.000000e+00 : f32
// CHECK:           arith.constant 9.99999974E-6 : f32
// CHECK:           math.rsqrt
// CHECK:           arith.extf %{{.*}} : bf16 to f32
// CHECK:         %[[SW:.*]] = linalg.generic {{.*}} ins(%[[NORM]], %[[G]] :
// CHECK:           arith.negf
// CHECK:           math.exp
// CHECK:           arith.divf
// CHECK:           arith.mulf
// CHECK:         %[[SUM:.*]] = linalg.generic {{.*}} ins(%[[EMB]], %[[SW]] :
// CHECK:           arith.addf
// CHECK:         return %[[SUM]]
module attributes {llama.weights_bytes = 192 : i64} {
  llama.param @emb : tensor<16x4xf16> {offset = 0 : i64}
  llama.param @norm : tensor<4xbf16> {offset = 128 : i64}
  func.func @layers(%tok: tensor<1x2xi32>, %g: tensor<1x2x4xf32>) -> tensor<1x2x4xf32> {
    %e = llama.weight @emb : tensor<16x4xf16>
    %x = llama.embedding %e[%tok] : tensor<16x4xf16>, tensor<1x2xi32> -> tensor<1x2x4xf32>
    %n = llama.weight @norm : tensor<4xbf16>
    %h = llama.rms_norm %x, %n eps 1.0e-05 : tensor<1x2x4xf32>, tensor<4xbf16>
    %s = llama.swiglu %h, %g : tensor<1x2x4xf32>
    %a = llama.add %x, %s : tensor<1x2x4xf32>
    return %a : tensor<1x2x4xf32>
  }
}

// -----

// RoPE: inv_freq folded to an f64 constant (head_dim 4, theta 1e4: 1, 0.01;
// with Llama 3 scaling, factor 8 and original_max_position 16, the first
// frequency is in the smoothed band and the second is divided by 8), cos
// and sin tables of (position + s) * inv_freq in f64, then the rotation
// pairing element i with i +- head_dim/2.
// CHECK-LABEL: func.func @rope
// CHECK-SAME:    (%[[X:[a-z0-9_]+]]: tensor<1x2x8xf32>, %[[POS:[a-z0-9_]+]]: tensor<1xi64>)
// CHECK:         %[[INV:.*]] = arith.constant dense<[1.000000e+00, 1.000000e-02]> : tensor<2xf64>
// CHECK:         %[[COS:.*]] = linalg.generic {{.*}} ins(%[[POS]], %[[INV]] : tensor<1xi64>, tensor<2xf64>) outs(%{{.*}} : tensor<1x2x2xf32>)
// CHECK:           linalg.index 1
// CHECK:           arith.sitofp %{{.*}} : i64 to f64
// CHECK:           math.cos %{{.*}} : f64
// CHECK:         %[[SIN:.*]] = linalg.generic {{.*}} ins(%[[POS]], %[[INV]] :
// CHECK:           math.sin %{{.*}} : f64
// CHECK:         linalg.generic {{.*}} ins(%[[X]], %[[COS]], %[[SIN]] : tensor<1x2x8xf32>, tensor<1x2x2xf32>, tensor<1x2x2xf32>) outs(%{{.*}} : tensor<1x2x8xf32>)
// CHECK:           arith.remui %{{.*}}, %c4
// CHECK:           arith.cmpi ult, %{{.*}}, %c2
// CHECK:           tensor.extract %[[X]]
// CHECK:           arith.negf
// CHECK:         arith.constant dense<[0.57605640109551159, 1.250000e-03]> : tensor<2xf64>
// CHECK:         return
func.func @rope(%x: tensor<1x2x8xf32>, %pos: tensor<1xi64>) -> (tensor<1x2x8xf32>, tensor<1x2x8xf32>) {
  %r = llama.rope %x at %pos head_dim 4 theta 1.0e+04 : tensor<1x2x8xf32>, tensor<1xi64>
  %s = llama.rope %x at %pos head_dim 4 theta 1.0e+04 scaling <factor = 8.0, low_freq_factor = 1.0, high_freq_factor = 4.0, original_max_position = 16> : tensor<1x2x8xf32>, tensor<1xi64>
  return %r, %s : tensor<1x2x8xf32>, tensor<1x2x8xf32>
}

// -----

// Attention (4 query heads over 2 KV heads, layer 1 of a 2-layer cache):
// the cache argument becomes a memref read through `to_tensor restrict
// writable`; k and v are written into it with tensor.insert_slice at
// [layer, k|v, b, 0, positions[b], 0] inside an scf.for over the batch; the
// scores read key head h floordiv 2; the softmax subtracts the running
// maximum (arith.maximumf) before math.exp; the updated cache is
// materialized into the argument and dropped from the results.
// CHECK-DAG:   #[[QMAP:.*]] = affine_map<(d0, d1, d2, d3) -> (d1, d0, d3)>
// CHECK-DAG:   #[[KMAP:.*]] = affine_map<(d0, d1, d2, d3) -> (d0 floordiv 2, d2, d3)>
// CHECK-DAG:   #[[VMAP:.*]] = affine_map<(d0, d1, d2, d3) -> (d1 floordiv 2, d3, d2)>
// CHECK-LABEL: func.func @attention
// CHECK-SAME:    (%[[Q:[a-z0-9_]+]]: tensor<1x3x16xf32>, %[[K:[a-z0-9_]+]]: tensor<1x3x8xf32>, %[[V:[a-z0-9_]+]]: tensor<1x3x8xf32>, %[[CACHE:[a-z0-9_]+]]: memref<2x2x1x2x32x4xf32>, %[[POS:[a-z0-9_]+]]: tensor<1xi64>) -> tensor<1x3x16xf32> {
// CHECK:         %[[CT:.*]] = bufferization.to_tensor %[[CACHE]] restrict writable : memref<2x2x1x2x32x4xf32> to tensor<2x2x1x2x32x4xf32>
// CHECK:         %[[UPD:.*]] = scf.for %[[B:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ACC:.*]] = %[[CT]]) -> (tensor<2x2x1x2x32x4xf32>) {
// CHECK:           %[[P64:.*]] = tensor.extract %[[POS]][%[[B]]] : tensor<1xi64>
// CHECK:           %[[P:.*]] = arith.index_cast %[[P64]] : i64 to index
// CHECK:           tensor.extract_slice %[[K]][%[[B]], 0, 0] [1, 3, 8]
// CHECK:           %[[KT:.*]] = linalg.transpose ins(%{{.*}} : tensor<3x2x4xf32>) outs(%{{.*}} : tensor<2x3x4xf32>) permutation = [1, 0, 2]
// CHECK:           %[[WK:.*]] = tensor.insert_slice %[[KT]] into %[[ACC]][1, 0, %[[B]], 0, %[[P]], 0] [1, 1, 1, 2, 3, 4] [1, 1, 1, 1, 1, 1] : tensor<2x3x4xf32> into tensor<2x2x1x2x32x4xf32>
// CHECK:           tensor.extract_slice %[[V]][%[[B]], 0, 0] [1, 3, 8]
// CHECK:           %[[WV:.*]] = tensor.insert_slice %{{.*}} into %[[WK]][1, 1, %[[B]], 0, %[[P]], 0] [1, 1, 1, 2, 3, 4]
// CHECK:           scf.yield %[[WV]]
// CHECK:         %[[OUT:.*]] = scf.for
// Keys and values 0 .. position + 3: a dynamically sized slice.
// CHECK:           %[[LEN:.*]] = arith.addi %{{.*}}, %c3 : index
// CHECK:           %[[KEYS:.*]] = tensor.extract_slice %[[UPD]][1, 0, %{{.*}}, 0, 0, 0] [1, 1, 1, 2, %[[LEN]], 4] [1, 1, 1, 1, 1, 1] : tensor<2x2x1x2x32x4xf32> to tensor<2x?x4xf32>
// CHECK:           %[[VALS:.*]] = tensor.extract_slice %[[UPD]][1, 1, %{{.*}}, 0, 0, 0] [1, 1, 1, 2, %[[LEN]], 4]
// CHECK:           %[[SCORES:.*]] = linalg.generic {indexing_maps = [#[[QMAP]], #[[KMAP]], #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%{{.*}}, %[[KEYS]] : tensor<3x4x4xf32>, tensor<2x?x4xf32>) outs(%{{.*}} : tensor<4x3x?xf32>)
// Scale 1/sqrt(4) and the causal mask j <= position + s.
// CHECK:           arith.cmpi ule
// CHECK:           arith.constant 5.000000e-01 : f32
// CHECK:           arith.constant 0xFF800000 : f32
// CHECK:           arith.select
// CHECK:           %[[MAX:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%{{.*}} : tensor<4x3x?xf32>) outs(%{{.*}} : tensor<4x3xf32>)
// CHECK-NEXT:      ^bb0
// CHECK-NEXT:        arith.maximumf
// CHECK:           %[[EXP:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %[[MAX]] : tensor<4x3x?xf32>, tensor<4x3xf32>)
// CHECK-NEXT:      ^bb0
// CHECK-NEXT:        arith.subf
// CHECK-NEXT:        math.exp
// CHECK:           linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[EXP]] : tensor<4x3x?xf32>) outs(%{{.*}} : tensor<4x3xf32>)
// CHECK:           linalg.generic {indexing_maps = [#[[QMAP]], #[[VMAP]], #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[EXP]], %[[VALS]] :
// CHECK:           arith.divf
// CHECK:           tensor.collapse_shape %{{.*}} {{\[}}[0], [1, 2]] : tensor<3x4x4xf32> into tensor<3x16xf32>
// CHECK:           tensor.insert_slice
// CHECK:           scf.yield
// CHECK:         %[[RES:.*]] = linalg.generic {{.*}} ins(%[[Q]], %[[OUT]] :
// CHECK:         bufferization.materialize_in_destination %[[UPD]] in restrict writable %[[CACHE]] : (tensor<2x2x1x2x32x4xf32>, memref<2x2x1x2x32x4xf32>) -> ()
// CHECK-NEXT:    return %[[RES]] : tensor<1x3x16xf32>
func.func @attention(%q: tensor<1x3x16xf32>, %k: tensor<1x3x8xf32>, %v: tensor<1x3x8xf32>, %cache: tensor<2x2x1x2x32x4xf32>, %pos: tensor<1xi64>) -> (tensor<1x3x16xf32>, tensor<2x2x1x2x32x4xf32>) {
  %o, %c1 = llama.attention %q, %k, %v cache %cache layer 1 at %pos : tensor<1x3x16xf32>, tensor<1x3x8xf32>, tensor<2x2x1x2x32x4xf32>, tensor<1xi64>
  %r = llama.add %q, %o : tensor<1x3x16xf32>
  return %r, %c1 : tensor<1x3x16xf32>, tensor<2x2x1x2x32x4xf32>
}

// -----

// Two layers chained through the cache: one memref argument, one
// materialization of the final cache; MQA (1 KV head) reads kv head
// h floordiv 2 for 2 query heads. The attention's output may be returned
// as it is: only the cache result is dropped.
// CHECK-LABEL: func.func @two_layers
// CHECK-SAME:    %[[CACHE:[a-z0-9_]+]]: memref<2x2x1x1x8x4xf32>, %{{.*}}: tensor<1xi64>) -> tensor<1x1x8xf32> {
// CHECK:         bufferization.to_tensor %[[CACHE]] restrict writable
// CHECK-COUNT-1: bufferization.materialize_in_destination %{{.*}} in restrict writable %[[CACHE]]
// CHECK-NOT:     bufferization.materialize_in_destination
// CHECK:         return %{{.*}} : tensor<1x1x8xf32>
func.func @two_layers(%q: tensor<1x1x8xf32>, %k: tensor<1x1x4xf32>, %cache: tensor<2x2x1x1x8x4xf32>, %pos: tensor<1xi64>) -> (tensor<1x1x8xf32>, tensor<2x2x1x1x8x4xf32>) {
  %o0, %c0 = llama.attention %q, %k, %k cache %cache layer 0 at %pos : tensor<1x1x8xf32>, tensor<1x1x4xf32>, tensor<2x2x1x1x8x4xf32>, tensor<1xi64>
  %o1, %c1 = llama.attention %o0, %k, %k cache %c0 layer 1 at %pos : tensor<1x1x8xf32>, tensor<1x1x4xf32>, tensor<2x2x1x1x8x4xf32>, tensor<1xi64>
  return %o1, %c1 : tensor<1x1x8xf32>, tensor<2x2x1x1x8x4xf32>
}

// -----

// Errors. Weights without a planned blob: llama-plan-weights did not run.
// expected-error @below {{llama-to-linalg: the module has no llama.weights_bytes; run llama-plan-weights first}}
module {
  llama.param @w : tensor<8x16xf32>
  func.func @unplanned(%x: tensor<1x1x16xf32>) -> tensor<1x1x8xf32> {
    %w = llama.weight @w : tensor<8x16xf32>
    %y = llama.linear %x, %w : tensor<1x1x16xf32>, tensor<8x16xf32> -> tensor<1x1x8xf32>
    return %y : tensor<1x1x8xf32>
  }
}

// -----

// A param left without an offset.
module attributes {llama.weights_bytes = 512 : i64} {
  // expected-error @below {{'llama.param' op has no offset; run llama-plan-weights before llama-to-linalg}}
  llama.param @w : tensor<8x16xf32>
  func.func @no_offset(%x: tensor<1x1x16xf32>) -> tensor<1x1x8xf32> {
    %w = llama.weight @w : tensor<8x16xf32>
    %y = llama.linear %x, %w : tensor<1x1x16xf32>, tensor<8x16xf32> -> tensor<1x1x8xf32>
    return %y : tensor<1x1x8xf32>
  }
}

// -----

// A returned cache that does not start at an argument cannot be updated in
// place.
func.func @cache_not_an_argument(%q: tensor<1x1x8xf32>, %k: tensor<1x1x4xf32>, %pos: tensor<1xi64>) -> (tensor<1x1x8xf32>, tensor<1x2x1x1x8x4xf32>) {
  %cache = tensor.empty() : tensor<1x2x1x1x8x4xf32>
  %o, %c = llama.attention %q, %k, %k cache %cache layer 0 at %pos : tensor<1x1x8xf32>, tensor<1x1x4xf32>, tensor<1x2x1x1x8x4xf32>, tensor<1xi64>
  %r = llama.add %q, %o : tensor<1x1x8xf32>
  // expected-error @below {{'func.return' op returns a KV cache that is not an update of one of the function's arguments}}
  return %r, %c : tensor<1x1x8xf32>, tensor<1x2x1x1x8x4xf32>
}

// -----

// Activations of another type than f32 are refused by name.
func.func @bf16_activations(%x: tensor<1x1x4xbf16>, %y: tensor<1x1x4xbf16>) -> tensor<1x1x4xbf16> {
  // expected-error @below {{'llama.add' op result #0 is 'tensor<1x1x4xbf16>'; llama-to-linalg lowers f32 activations and KV caches only}}
  %r = llama.add %x, %y : tensor<1x1x4xbf16>
  return %r : tensor<1x1x4xbf16>
}
