//===- LlamaAttrs.td - llama dialect attributes ---------------*- tablegen -*-===//
//
// The model's hyper-parameters and the Llama-3 RoPE frequency scaling, as
// typed attributes so that passes and the runtime read them by name.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMA_ATTRS_TD
#define LLAMA_ATTRS_TD

include "llama/LlamaDialect.td"
include "mlir/IR/AttrTypeBase.td"

// An f64 written as a plain float literal (APFloat, which unlike double
// can be hashed into the attribute's storage key).
def Llama_F64Parameter : APFloatParameter<"a 64-bit float"> {
  let parser = [{ [&]() -> ::mlir::FailureOr<::llvm::APFloat> {
    double value;
    if ($_parser.parseFloat(value))
      return ::mlir::failure();
    return ::llvm::APFloat(value);
  }() }];
  let printer = [{ $_printer.printFloat($_self) }];
}

// A bool spelled `true` / `false`, as in JSON.
def Llama_BoolParameter : AttrOrTypeParameter<"bool", "a boolean"> {
  let parser = [{ [&]() -> ::mlir::FailureOr<bool> {
    if (::mlir::succeeded($_parser.parseOptionalKeyword("true")))
      return true;
    if (::mlir::succeeded($_parser.parseOptionalKeyword("false")))
      return false;
    return $_parser.emitError($_parser.getCurrentLocation(),
                              "expected 'true' or 'false'");
  }() }];
  let printer = [{ $_printer << ($_self ? "true" : "false") }];
}

class Llama_Attr<string name, string attrMnemonic>
    : AttrDef<Llama_Dialect, name> {
  let mnemonic = attrMnemonic;
}

def Llama_RopeLlama3ScalingAttr : Llama_Attr<"RopeLlama3Scaling", "rope_llama3"> {
  let summary = "Llama 3 `rope_scaling` (rope_type = llama3)";
  let description = [{
    Frequency-dependent scaling of the rotary embedding introduced with
    Llama 3.1: wavelengths longer than `original_max_position /
    low_freq_factor` are divided by `factor`, those shorter than
    `original_max_position / high_freq_factor` are kept, and the band in
    between is interpolated smoothly.

    ```mlir
    #llama.rope_llama3<factor = 8.0, low_freq_factor = 1.0,
                       high_freq_factor = 4.0, original_max_position = 8192>
    ```
  }];
  let parameters = (ins Llama_F64Parameter:$factor,
                        Llama_F64Parameter:$low_freq_factor,
                        Llama_F64Parameter:$high_freq_factor,
                        "int64_t":$original_max_position);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Llama_ModelConfigAttr : Llama_Attr<"ModelConfig", "config"> {
  let summary = "Hyper-parameters of the imported model";
  let description = [{
    What the importer read from `config.json`, kept on the module so that
    later stages (the weight packer, the runtime's tokenizer and stop
    condition) need not go back to the checkpoint directory.
  }];
  let parameters = (ins "int64_t":$hidden_size,
                        "int64_t":$intermediate_size,
                        "int64_t":$num_layers,
                        "int64_t":$num_heads,
                        "int64_t":$num_kv_heads,
                        "int64_t":$head_dim,
                        "int64_t":$vocab_size,
                        "int64_t":$max_position_embeddings,
                        Llama_BoolParameter:$tie_word_embeddings,
                        "int64_t":$bos_token_id,
                        ArrayRefParameter<"int64_t">:$eos_token_ids);
  let assemblyFormat = "`<` struct(params) `>`";
}

#endif // LLAMA_ATTRS_TD
