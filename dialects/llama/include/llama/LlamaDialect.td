//===- LlamaDialect.td - the llama dialect --------------------*- tablegen -*-===//
//
// The model-level dialect: one op per LLaMA building block, static shapes,
// weights as symbols that name checkpoint tensors.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMA_DIALECT_TD
#define LLAMA_DIALECT_TD

include "mlir/IR/OpBase.td"

def Llama_Dialect : Dialect {
  let name = "llama";
  let cppNamespace = "::mlir::llama";
  let summary = "Model-level operations of LLaMA-family transformers";
  let description = [{
    The `llama` dialect describes a LLaMA forward pass at the level a person
    reads a model card: embedding, RMSNorm, linear projections, rotary
    embeddings, grouped-query attention over a KV cache, the SwiGLU gate and
    residual adds. All shapes are static. Activations are `[batch, seq, ...]`
    tensors, so the number of sequences is part of every type.

    Weights never live in the IR. A `llama.param` symbol names one tensor of
    the checkpoint with its shape and stored element type, and
    `llama.weight` turns the symbol into a value. The weight packer later
    reads the bytes from the (mmapped) checkpoint.
  }];
  let useDefaultAttributePrinterParser = 1;
  let dependentDialects = ["::mlir::func::FuncDialect"];
  let extraClassDeclaration = [{
    /// Marks the function argument that holds the weights blob (read-only
    /// for the whole call; written only when the executable loads).
    static constexpr ::llvm::StringLiteral getWeightsArgAttrName() {
      return ::llvm::StringLiteral("llama.weights");
    }
  }];
}

class Llama_Op<string mnemonic, list<Trait> traits = []>
    : Op<Llama_Dialect, mnemonic, traits>;

#endif // LLAMA_DIALECT_TD
