//===- Compile.h - checkpoint -> standalone executable ----------*- C++ -*-===//
#ifndef LLAMAC_COMPILER_COMPILE_H
#define LLAMAC_COMPILER_COMPILE_H

#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>

namespace llamac {

/// How far `llamac compile` goes, Toy-style: each stage includes the ones
/// before it.
enum class EmitStage { Llama, LLVMDialect, PTX, LLVMIR, Object, Executable };

enum class WeightsPlacement { Auto, Embed, Sidecar };

constexpr int64_t kDefaultPrefillChunk = 16;
/// On a GPU a prefill chunk's linear layers are tensor-core GEMMs whose
/// tiles are 64 tokens tall, and each chunk reads every weight once: 512
/// (llama.cpp's default micro-batch) measured 1.5-1.7x the prefill rate of
/// 128 on an H200 (KERNEL_NOTES, session 18); a shorter prompt still pays
/// for a whole chunk.
constexpr int64_t kDefaultCudaPrefillChunk = 512;
/// A GPU target's second prefill entry, for prompts that fill it: its
/// GEMMs stream each weight once for 2,048 rows, not four times for 512
/// (+15% prefill on the 8B at 2,048 tokens, KERNEL_NOTES session 24), at
/// the cost of activations for 2,048 rows (the workspace 46 -> 137 MiB on
/// the 8B, 32 -> 72.5 MiB on the 1B).
constexpr int64_t kDefaultCudaLongPrefillChunk = 2048;

/// The (logit, id) pairs of each row's top list on a GPU target (the most a
/// row's vocabulary has, if fewer), which the model draws the next token
/// from: sampling with --top-k up to this reads back the token instead of
/// the row. llama.cpp's --top-k defaults to 40, transformers' to 50. The
/// host's default is 1 (its runtime samples from the row in place).
constexpr int64_t kDefaultCudaSamplingCandidates = 64;
constexpr int64_t kMaxSamplingCandidates = 1024;

/// The activations' precision in a GPU's tensor-core GEMMs (prefill).
enum class GemmPrecision {
  BF16, ///< rounded to bf16: one mma a tile (PyTorch's and llama.cpp's)
  F32,  ///< bf16 hi + lo terms: ~16 bits, two mmas a tile
};

/// The precision of prefill's attention products on a GPU (QK^T and PV;
/// the KV cache and the softmax stay f32).
enum class AttentionPrecision {
  BF16, ///< Q, K, probabilities and V rounded to bf16, as PyTorch's sdpa
  F32,  ///< tf32 hi + lo terms: ~f32, three mmas a product
};

struct CompileOptions {
  std::string checkpointDir;
  std::string output;
  std::string target = "host";
  EmitStage emit = EmitStage::Executable;
  int64_t ctxSize = 0;       ///< 0: min(max_position_embeddings, 4096)
  /// Tokens per prefill call; unset: kDefaultPrefillChunk (a CUDA target:
  /// kDefaultCudaPrefillChunk), or the context size if that is smaller.
  std::optional<int64_t> prefillChunk;
  /// Tokens per call of the second prefill entry (llamac_prefill_long); 0:
  /// none. Unset: none for the host; kDefaultCudaLongPrefillChunk for a CUDA
  /// target where it exceeds the prefill chunk and fits in the context, and
  /// prefill writes the last row's logits only (not --logits-all).
  std::optional<int64_t> longPrefillChunk;
  /// Pairs of each row's top_k (llama.top_k's k); unset: the target's
  /// default (kDefaultCudaSamplingCandidates or 1), at most the vocabulary.
  std::optional<int64_t> samplingCandidates;
  /// Unset: bf16. A CUDA target's only.
  std::optional<GemmPrecision> gemmPrecision;
  // sm_90: the prefill GEMMs' tiles by TMA (experimental, hidden flag --tma).
  bool tma = false;
  /// Prefill's attention products. Unset: bf16 for a bf16 checkpoint whose
  /// GEMMs round their activations to bf16, else f32. bf16 needs a bf16
  /// checkpoint. A CUDA target's only.
  std::optional<AttentionPrecision> attentionPrecision;
  /// Prefill writes the logits of every prompt token (--logits-out reads
  /// them); otherwise of each sequence's last one only, as generation needs.
  bool logitsAll = false;
  int64_t batch = 1;
  WeightsPlacement weights = WeightsPlacement::Auto;
  uint64_t embedLimitBytes = uint64_t(2) << 30; ///< Auto: embed up to this.
  bool printIRAfterAll = false;
  std::string dumpIRDir;
  std::string linker;
  std::string cpu = "native";
};

/// Runs the whole compiler. `argv0` locates the runtime libraries.
llvm::Error compile(const CompileOptions &options, const char *argv0);

} // namespace llamac

#endif // LLAMAC_COMPILER_COMPILE_H
