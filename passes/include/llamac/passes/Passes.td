//===- Passes.td - llamac passes ------------------------------*- tablegen -*-===//
//
// Every pass of the project, alphabetical, arguments prefixed llama-.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_PASSES_TD
#define LLAMAC_PASSES_TD

include "mlir/Pass/PassBase.td"

def LlamaPlanWeights : Pass<"llama-plan-weights", "::mlir::ModuleOp"> {
  let summary = "Assign each llama.param its byte offset in the packed weights blob";
  let description = [{
    Lays out every `llama.param` of the module one after the other in a
    single blob, each at an offset aligned to `alignment` bytes, and records
    the blob's size on the module as `llama.weights_bytes`. The weight packer
    writes the blob in this layout, and the lowering reads each weight at its
    offset.

    ```mlir
    // Before
    llama.param @a : tensor<3xf32>
    llama.param @b : tensor<2x2xbf16>
    // After (alignment = 64)
    module attributes {llama.weights_bytes = 72 : i64} {
      llama.param @a : tensor<3xf32> {offset = 0 : i64}
      llama.param @b : tensor<2x2xbf16> {offset = 64 : i64}
    ```
  }];
  let options = [
    Option<"alignment", "alignment", "int64_t", /*default=*/"64",
           "Byte alignment of every tensor in the blob (a power of two)">,
  ];
}

def LlamaToLinalg : Pass<"llama-to-linalg", "::mlir::ModuleOp"> {
  let summary = "Lower the llama dialect to linalg, tensor, arith and math";
  let description = [{
    Rewrites every llama op into tensor-level linalg (generic contractions
    and elementwise ops), with the attention's KV-cache update as
    `tensor.insert_slice` at each sequence's position and its softmax over
    the keys `0 .. position` only. Weights become views of a blob argument:
    every function that reads a `llama.weight` gets a trailing
    `memref<Nxi8>` argument (N = `llama.weights_bytes`), and each weight is
    `memref.view` at its planned offset. The llama.param declarations are
    dropped: they have served the packer by then.

    ```mlir
    // Before
    %w = llama.weight @w : tensor<8x16xbf16>
    %y = llama.linear %x, %w : tensor<1x1x16xf32>, tensor<8x16xbf16> -> tensor<1x1x8xf32>
    // After
    %v = memref.view %blob[%c64][] : memref<320xi8> to memref<8x16xbf16>
    %w = bufferization.to_tensor %v restrict : memref<8x16xbf16> to tensor<8x16xbf16>
    %y = linalg.generic {... ["parallel", "parallel", "parallel", "reduction"]}
        ins(%x, %w : ...) outs(%zero : tensor<1x1x8xf32>) { mulf, addf }
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

#endif // LLAMAC_PASSES_TD
