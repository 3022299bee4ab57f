//===- TokenizerSection.h - the checkpoint's tokenizer -------*- C++ -*-===//
//
// Which tokenizer file of a checkpoint goes into the executable, and as
// what: tokenizer.model in SentencePiece's format -> "tokenizer.model";
// else tokenizer.json -> "tokenizer.bpe" (rendered, see HFTokenizer.h);
// else tokenizer.model in Meta's tiktoken format -> "tokenizer.tiktoken".
// The section is loaded through the runtime's own tokenizer before it is
// accepted, so a tokenizer the executable could not use fails the compile.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_COMPILER_TOKENIZERSECTION_H
#define LLAMAC_COMPILER_TOKENIZERSECTION_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <optional>
#include <string>

namespace llamac {
namespace rt {
class Tokenizer;
}

struct TokenizerSection {
  std::string name;   // the payload section
  std::string bytes;  // its contents
  std::string source; // the file it came from
};

/// The tokenizer section of the checkpoint in `checkpointDir`; none where
/// it has no tokenizer file.
llvm::Expected<std::optional<TokenizerSection>>
readTokenizerSection(llvm::StringRef checkpointDir);

/// The runtime's tokenizer over `section`.
llvm::Expected<std::unique_ptr<rt::Tokenizer>>
loadTokenizerSection(const TokenizerSection &section);

} // namespace llamac

#endif // LLAMAC_COMPILER_TOKENIZERSECTION_H
