// RUN: llamac-opt %s --llama-merge-sibling-linears --canonicalize | FileCheck %s
// RUN: llamac-opt %s --llama-merge-sibling-linears -mlir-print-debuginfo | FileCheck %s --check-prefix=NAME

// q, k and v read the same x and their weights lie back to back in the blob
// (64x64, 16x64 and 16x64 f16: offsets 0, 8192, 10240): one linear layer of
// 96 rows, and q, k, v are slices of its result. o reads another input;
// gate reads x but its weight is not next to v's (o's is between): both stay.
#x = affine_map<(b, n, s, k) -> (b, s, k)>
#w = affine_map<(b, n, s, k) -> (n, k)>
#o = affine_map<(b, n, s, k) -> (b, s, n)>
// CHECK-LABEL: func.func @qkv
// CHECK-SAME:    (%[[X:.*]]: tensor<1x1x64xf32>, %[[Y:.*]]: tensor<1x1x64xf32>, %[[BLOB:.*]]: memref<21504xi8>)
// CHECK:         %[[VIEW:.*]] = memref.view %[[BLOB]][%c0][] : memref<21504xi8> to memref<96x64xf16>
// CHECK:         %[[W:.*]] = bufferization.to_tensor %[[VIEW]] restrict : memref<96x64xf16> to tensor<96x64xf16>
// CHECK:         %[[INIT:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<1x1x96xf32>)
// CHECK:         %[[QKV:.*]] = linalg.generic {{.*}} ins(%[[X]], %[[W]] : tensor<1x1x64xf32>, tensor<96x64xf16>) outs(%[[INIT]] : tensor<1x1x96xf32>)
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      arith.extf
// CHECK-NEXT:      arith.mulf
// CHECK-NEXT:      arith.addf
// CHECK:         } -> tensor<1x1x96xf32>
// CHECK:         %[[Q:.*]] = tensor.extract_slice %[[QKV]][0, 0, 0] [1, 1, 64] [1, 1, 1]
// CHECK:         %[[K:.*]] = tensor.extract_slice %[[QKV]][0, 0, 64] [1, 1, 16] [1, 1, 1]
// CHECK:         %[[V:.*]] = tensor.extract_slice %[[QKV]][0, 0, 80] [1, 1, 16] [1, 1, 1]
// CHECK:         linalg.generic {{.*}} ins(%[[Y]], %{{.*}} : tensor<1x1x64xf32>, tensor<64x64xf16>)
// CHECK:         linalg.generic {{.*}} ins(%[[X]], %{{.*}} : tensor<1x1x64xf32>, tensor<8x64xf16>)
// CHECK:         return %[[Q]], %[[K]], %[[V]]
// The merged layer is named after all three (kernel names come from it).
// NAME: } -> tensor<1x1x96xf32> loc(#[[LOC:.*]])
// NAME: #[[LOC]] = loc("model.layers.0.self_attn.q_proj+k_proj+v_proj"
func.func @qkv(%x: tensor<1x1x64xf32>, %y: tensor<1x1x64xf32>, %blob: memref<21504xi8>)
    -> (tensor<1x1x64xf32>, tensor<1x1x16xf32>, tensor<1x1x16xf32>, tensor<1x1x64xf32>, tensor<1x1x8xf32>) {
  %c0 = arith.constant 0 : index
  %c8192 = arith.constant 8192 : index
  %c10240 = arith.constant 10240 : index
  %c12288 = arith.constant 12288 : index
  %c20480 = arith.constant 20480 : index
  %zero = arith.constant 0.0 : f32
  %vq = memref.view %blob[%c0][] : memref<21504xi8> to memref<64x64xf16>
  %wq = bufferization.to_tensor %vq restrict : memref<64x64xf16> to tensor<64x64xf16>
  %vk = memref.view %blob[%c8192][] : memref<21504xi8> to memref<16x64xf16>
  %wk = bufferization.to_tensor %vk restrict : memref<16x64xf16> to tensor<16x64xf16>
  %vv = memref.view %blob[%c10240][] : memref<21504xi8> to memref<16x64xf16>
  %wv = bufferization.to_tensor %vv restrict : memref<16x64xf16> to tensor<16x64xf16>
  %vo = memref.view %blob[%c12288][] : memref<21504xi8> to memref<64x64xf16>
  %wo = bufferization.to_tensor %vo restrict : memref<64x64xf16> to tensor<64x64xf16>
  %vg = memref.view %blob[%c20480][] : memref<21504xi8> to memref<8x64xf16>
  %wg = bufferization.to_tensor %vg restrict : memref<8x64xf16> to tensor<8x64xf16>
  %e64 = tensor.empty() : tensor<1x1x64xf32>
  %z64 = linalg.fill ins(%zero : f32) outs(%e64 : tensor<1x1x64xf32>) -> tensor<1x1x64xf32>
  %e16 = tensor.empty() : tensor<1x1x16xf32>
  %z16 = linalg.fill ins(%zero : f32) outs(%e16 : tensor<1x1x16xf32>) -> tensor<1x1x16xf32>
  %e8 = tensor.empty() : tensor<1x1x8xf32>
  %z8 = linalg.fill ins(%zero : f32) outs(%e8 : tensor<1x1x8xf32>) -> tensor<1x1x8xf32>
  %q = linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %wq : tensor<1x1x64xf32>, tensor<64x64xf16>) outs(%z64 : tensor<1x1x64xf32>) {
  ^bb0(%a: f32, %b: f16, %c: f32):
    %e = arith.extf %b : f16 to f32
    %p = arith.mulf %a, %e : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x1x64xf32> loc("model.layers.0.self_attn.q_proj")
  %k = linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %wk : tensor<1x1x64xf32>, tensor<16x64xf16>) outs(%z16 : tensor<1x1x16xf32>) {
  ^bb0(%a: f32, %b: f16, %c: f32):
    %e = arith.extf %b : f16 to f32
    %p = arith.mulf %a, %e : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x1x16xf32> loc("model.layers.0.self_attn.k_proj")
  %v = linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %wv : tensor<1x1x64xf32>, tensor<16x64xf16>) outs(%z16 : tensor<1x1x16xf32>) {
  ^bb0(%a: f32, %b: f16, %c: f32):
    %e = arith.extf %b : f16 to f32
    %p = arith.mulf %a, %e : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x1x16xf32> loc("model.layers.0.self_attn.v_proj")
  %o = linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%y, %wo : tensor<1x1x64xf32>, tensor<64x64xf16>) outs(%z64 : tensor<1x1x64xf32>) {
  ^bb0(%a: f32, %b: f16, %c: f32):
    %e = arith.extf %b : f16 to f32
    %p = arith.mulf %a, %e : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x1x64xf32>
  %g = linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %wg : tensor<1x1x64xf32>, tensor<8x64xf16>) outs(%z8 : tensor<1x1x8xf32>) {
  ^bb0(%a: f32, %b: f16, %c: f32):
    %e = arith.extf %b : f16 to f32
    %p = arith.mulf %a, %e : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x1x8xf32>
  return %q, %k, %v, %o, %g : tensor<1x1x64xf32>, tensor<1x1x16xf32>, tensor<1x1x16xf32>, tensor<1x1x64xf32>, tensor<1x1x8xf32>
}
