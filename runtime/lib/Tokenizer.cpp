//===- Tokenizer.cpp - the interface and streamed decoding ------*- C++ -*-===//
//
// Nothing here knows a tokenizer library: StreamDecoder works through
// decode() of any Tokenizer, loadTokenizer picks one by its section.
//
//===----------------------------------------------------------------------===//
#include "llamac/runtime/Tokenizer.h"

#include <algorithm>

namespace llamac::rt {

Tokenizer::~Tokenizer() = default;

Status loadTokenizer(std::string_view section, const uint8_t *data,
                     size_t bytes, std::unique_ptr<Tokenizer> &out) {
  Status status = Status::success();
  if (section == "tokenizer.model") {
    std::unique_ptr<SentencePieceTokenizer> sp;
    status = SentencePieceTokenizer::load(data, bytes, sp);
    out = std::move(sp);
  } else if (section == "tokenizer.bpe" || section == "tokenizer.tiktoken") {
    std::unique_ptr<BytePairTokenizer> bpe;
    status = section == "tokenizer.bpe"
                 ? BytePairTokenizer::loadHuggingFace(data, bytes, bpe)
                 : BytePairTokenizer::loadTiktoken(data, bytes, bpe);
    out = std::move(bpe);
  } else {
    return fail("no tokenizer is stored as section '%.*s'",
                static_cast<int>(section.size()), section.data());
  }
  return status;
}

namespace {

// Prompt tokens kept as the first window: enough for the first generated
// token's left neighbour, with room for a character split over pieces.
constexpr size_t kContextTokens = 4;

bool endsWithReplacementChar(const std::string &text) {
  static const char kReplacement[] = "\xEF\xBF\xBD"; // U+FFFD in UTF-8
  return text.size() >= 3 &&
         text.compare(text.size() - 3, 3, kReplacement) == 0;
}

} // namespace

StreamDecoder::StreamDecoder(const Tokenizer &tokenizer,
                             const std::vector<int32_t> &context)
    : tokenizer_(tokenizer) {
  const size_t keep = std::min(context.size(), kContextTokens);
  window_.assign(context.end() - keep, context.end());
  read_ = window_.size();
}

Status StreamDecoder::push(int32_t token, std::string &out) {
  window_.push_back(token);
  return emit(/*final=*/false, out);
}

Status StreamDecoder::finish(std::string &out) {
  return emit(/*final=*/true, out);
}

Status StreamDecoder::emit(bool final, std::string &out) {
  if (read_ == window_.size())
    return Status::success();
  std::string before, after;
  if (Status s = tokenizer_.decode(
          std::vector<int32_t>(window_.begin(), window_.begin() + read_),
          before);
      !s.ok())
    return s;
  if (Status s = tokenizer_.decode(window_, after); !s.ok())
    return s;
  // Nothing new yet (a control token, a piece that decodes to nothing at
  // the start), or text a later token may still change.
  const bool grew = after.size() > before.size() &&
                    after.compare(0, before.size(), before) == 0;
  if (!final && (!grew || endsWithReplacementChar(after)))
    return Status::success();
  if (after.size() > before.size())
    out.append(after, before.size(), std::string::npos);
  // The tokens just printed are the next window's context.
  window_.erase(window_.begin(), window_.begin() + read_);
  read_ = window_.size();
  return Status::success();
}

} // namespace llamac::rt
