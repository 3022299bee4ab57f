//===- LlamaBufferization.h - bufferization of llama's kernel ops -*- C++ -*-===//
#ifndef LLAMA_LLAMABUFFERIZATION_H
#define LLAMA_LLAMABUFFERIZATION_H

namespace mlir {
class DialectRegistry;
namespace llama {
/// One-Shot Bufferize support for the destination-style kernel ops
/// (llama.flash_attention): inputs are read, the init is written in place.
void registerBufferizableOpInterfaceExternalModels(DialectRegistry &registry);
} // namespace llama
} // namespace mlir

#endif // LLAMA_LLAMABUFFERIZATION_H
