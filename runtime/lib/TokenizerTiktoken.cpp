//===- TokenizerTiktoken.cpp - Meta's tiktoken tokenizer.model --*- C++ -*-===//
//
// Llama 3's original tokenizer file: one line `<base64 token bytes> <rank>`
// per token, the rank being the token id; then Llama 3's 256 special tokens
// (ids from the number of ranks on) and its pre-tokenizer regex, which the
// file does not carry (Meta's llama3 tokenizer.py). Merging is tiktoken's:
// a pair merges where its bytes are a token, the lowest rank first.
//
//===----------------------------------------------------------------------===//
#include "BytePairVocabulary.h"
#include "llamac/runtime/Tokenizer.h"

#include <climits>

namespace llamac::rt {

namespace {

// Llama 3's pre-tokenizer (Meta's llama3 tokenizer.py, pat_str).
constexpr const char *kPattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

constexpr int kNumSpecialTokens = 256;

// Llama 3's special tokens, in id order.
std::vector<std::string> llama3SpecialTokens() {
  std::vector<std::string> names = {
      "<|begin_of_text|>",
      "<|end_of_text|>",
      "<|reserved_special_token_0|>",
      "<|reserved_special_token_1|>",
      "<|reserved_special_token_2|>",
      "<|reserved_special_token_3|>",
      "<|start_header_id|>",
      "<|end_header_id|>",
      "<|reserved_special_token_4|>",
      "<|eot_id|>",
  };
  for (int i = 5; i < kNumSpecialTokens - 5; ++i)
    names.push_back("<|reserved_special_token_" + std::to_string(i) + "|>");
  return names;
}

constexpr const char *kWhat = "the tokenizer is not a valid tiktoken model";

} // namespace

Status BytePairTokenizer::loadTiktoken(const uint8_t *data, size_t bytes,
                                       std::unique_ptr<BytePairTokenizer> &out) {
  std::string_view text(reinterpret_cast<const char *>(data), bytes);
  std::vector<std::pair<int64_t, std::string>> entries;
  size_t lineNo = 0;
  std::string token;
  for (size_t pos = 0; pos < text.size();) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos)
      eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++lineNo;
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (line.empty())
      continue;
    size_t space = line.find(' ');
    if (space == std::string_view::npos || space == 0 ||
        space + 1 == line.size())
      return fail("%s: line %zu is not `<base64> <rank>`", kWhat, lineNo);
    if (!decodeBase64(line.substr(0, space), token) || token.empty())
      return fail("%s: line %zu has bad base64", kWhat, lineNo);
    int64_t rank = 0;
    for (char c : line.substr(space + 1)) {
      if (c < '0' || c > '9' || rank > INT32_MAX / 10)
        return fail("%s: line %zu has a bad rank", kWhat, lineNo);
      rank = rank * 10 + (c - '0');
    }
    entries.emplace_back(rank, token);
  }
  if (entries.empty())
    return fail("%s: it has no tokens", kWhat);
  if (entries.size() > static_cast<size_t>(INT32_MAX - kNumSpecialTokens))
    return fail("%s: too many tokens", kWhat);
  // Ranks are the ids: each of [0, n) exactly once.
  const size_t n = entries.size();
  BytePairVocabulary vocab;
  vocab.pieces.assign(n, std::string());
  std::vector<bool> seen(n, false);
  for (auto &[rank, piece] : entries) {
    if (rank >= static_cast<int64_t>(n) || seen[rank])
      return fail("%s: rank %lld is %s", kWhat, static_cast<long long>(rank),
                  rank >= static_cast<int64_t>(n) ? "out of range"
                                                  : "repeated");
    seen[rank] = true;
    vocab.pieces[rank] = std::move(piece);
  }
  vocab.added.assign(n, false);
  for (const std::string &name : llama3SpecialTokens()) {
    if (name == "<|begin_of_text|>")
      vocab.bos = static_cast<int32_t>(vocab.pieces.size());
    vocab.pieces.push_back(name);
    vocab.added.push_back(true);
  }
  vocab.mergesByRank = true;
  vocab.ignoreMerges = true;
  vocab.pattern = kPattern;
  return makeBytePairTokenizer(std::move(vocab), kWhat, out);
}

} // namespace llamac::rt
