//===- HFTokenizer.h - a tokenizer.json for the runtime --------*- C++ -*-===//
//
// A tokenizer.json with a byte-level BPE model (Llama 3, GPT-2 style) is
// rendered into the runtime's line format, payload section "tokenizer.bpe"
// (spelled out in runtime/lib/TokenizerHuggingFace.cpp), so that the
// executable needs no JSON parser: vocabulary as raw bytes (GPT-2's
// byte-to-character mapping undone), merges as id pairs, added tokens, the
// pre-tokenizer regex, BOS from the post-processor's template.
//
// What the runtime does not implement is refused with one line naming it
// (a normalizer, add_prefix_space, a SentencePiece-style BPE, added tokens
// with lstrip/rstrip/single_word), never compiled into wrong ids.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_FRONTEND_HFTOKENIZER_H
#define LLAMAC_FRONTEND_HFTOKENIZER_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>

namespace llamac {

/// The "tokenizer.bpe" section for the tokenizer.json text `json`; `path`
/// names the file in errors.
llvm::Expected<std::string> renderHFTokenizer(llvm::StringRef json,
                                              llvm::StringRef path);

} // namespace llamac

#endif // LLAMAC_FRONTEND_HFTOKENIZER_H
