//===- BytePairVocabulary.h - what a byte-level BPE loader yields -*- C++ -*-===//
//
// Internal to the runtime: the two byte-level BPE formats (Meta's tiktoken
// tokenizer.model, and the compiler's rendering of a Hugging Face
// tokenizer.json) both load into this, and BytePairTokenizer runs on it.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_RUNTIME_BYTEPAIRVOCABULARY_H
#define LLAMAC_RUNTIME_BYTEPAIRVOCABULARY_H

#include "llamac/runtime/Status.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llamac::rt {

class BytePairTokenizer;

struct BytePairVocabulary {
  // id -> the token's bytes; for an added token, its text.
  std::vector<std::string> pieces;
  // Added tokens (<|eot_id|>) are found in the text before pre-tokenizing
  // and are never merged into.
  std::vector<bool> added;
  // Explicit merges, lowest rank first (Hugging Face). With mergesByRank
  // there are none: a pair merges where its bytes are a token, the token
  // with the lower id first (tiktoken).
  std::vector<std::pair<int32_t, int32_t>> merges;
  bool mergesByRank = false;
  // A pre-token that is itself a token is taken whole (tiktoken always;
  // Hugging Face's ignore_merges).
  bool ignoreMerges = false;
  // The pre-tokenizer regex (PCRE2 syntax, UTF and UCP).
  std::string pattern;
  int32_t bos = -1;
};

// Checks `vocabulary` (ids unique, every byte a token, merges well formed),
// compiles its regex, and makes the tokenizer; `what` names the format in
// errors ("the tokenizer is not a valid tiktoken model: ...").
Status makeBytePairTokenizer(BytePairVocabulary vocabulary, const char *what,
                             std::unique_ptr<BytePairTokenizer> &out);

// Standard base64 with '=' padding; false on anything else.
bool decodeBase64(std::string_view in, std::string &out);

// `text` with every ill-formed UTF-8 sequence replaced by U+FFFD (one per
// maximal ill-formed subpart, as Python's errors="replace" and Rust's
// from_utf8_lossy do).
std::string sanitizeUtf8(const std::string &text);

} // namespace llamac::rt

#endif // LLAMAC_RUNTIME_BYTEPAIRVOCABULARY_H
