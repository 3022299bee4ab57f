//===- TokenizerSentencePiece.cpp - SentencePieceTokenizer ------*- C++ -*-===//
//
// The one file that includes SentencePiece. Its API reports errors as
// sentencepiece::util::Status and throws nothing (its header only throws
// under SWIG), so this builds with -fno-exceptions like the rest of the
// runtime; each util::Status becomes a Status here.
//
//===----------------------------------------------------------------------===//
#include "llamac/runtime/Tokenizer.h"

#include <sentencepiece_processor.h>

namespace llamac::rt {

struct SentencePieceTokenizer::Impl {
  sentencepiece::SentencePieceProcessor processor;
};

SentencePieceTokenizer::SentencePieceTokenizer(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {
  bosId_ = impl_->processor.bos_id();
}

SentencePieceTokenizer::~SentencePieceTokenizer() = default;

Status SentencePieceTokenizer::load(
    const uint8_t *data, size_t bytes,
    std::unique_ptr<SentencePieceTokenizer> &out) {
  auto impl = std::make_unique<Impl>();
  sentencepiece::util::Status s = impl->processor.LoadFromSerializedProto(
      std::string_view(reinterpret_cast<const char *>(data), bytes));
  if (!s.ok()) {
    // Bytes that are no protobuf at all fail in the parser, whose message
    // is a source location; other messages ("unk is not defined.") say
    // what is wrong.
    std::string why = s.message();
    if (why.find("ParseFromArray") != std::string::npos)
      why = "not a serialized ModelProto";
    while (!why.empty() && (why.back() == ' ' || why.back() == '.'))
      why.pop_back();
    return fail("the tokenizer is not a valid SentencePiece model: %s",
                why.c_str());
  }
  if (impl->processor.GetPieceSize() < 1)
    return fail("the tokenizer is not a valid SentencePiece model: it has "
                "no pieces");
  out.reset(new SentencePieceTokenizer(std::move(impl)));
  return Status::success();
}

int64_t SentencePieceTokenizer::vocabSize() const {
  return impl_->processor.GetPieceSize();
}

Status SentencePieceTokenizer::encode(std::string_view text, bool addBos,
                                      std::vector<int32_t> &ids) const {
  std::vector<int> pieces;
  sentencepiece::util::Status s = impl_->processor.Encode(text, &pieces);
  if (!s.ok())
    return fail("cannot tokenize the prompt: %s", s.ToString().c_str());
  ids.clear();
  ids.reserve(pieces.size() + 1);
  if (addBos)
    ids.push_back(bosId_);
  ids.insert(ids.end(), pieces.begin(), pieces.end());
  return Status::success();
}

Status SentencePieceTokenizer::decode(const std::vector<int32_t> &ids,
                                      std::string &text) const {
  const int64_t vocab = vocabSize();
  for (int32_t id : ids)
    if (id < 0 || id >= vocab)
      return fail("cannot decode token id %d: out of the tokenizer's range "
                  "[0, %lld)",
                  id, static_cast<long long>(vocab));
  text.clear();
  sentencepiece::util::Status s =
      impl_->processor.Decode(std::vector<int>(ids.begin(), ids.end()), &text);
  if (!s.ok())
    return fail("cannot decode the generated tokens: %s", s.ToString().c_str());
  return Status::success();
}

std::string SentencePieceTokenizer::tokenToPiece(int32_t id) const {
  if (id < 0 || id >= vocabSize())
    return std::string();
  return impl_->processor.IdToPiece(id);
}

} // namespace llamac::rt
