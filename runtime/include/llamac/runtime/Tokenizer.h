//===- Tokenizer.h - text to token ids and back -----------------*- C++ -*-===//
//
// -p TEXT is encoded and the generated ids are decoded through a tokenizer
// held in the payload (section "tokenizer.model": SentencePiece, Llama 1/2;
// "tokenizer.bpe" or "tokenizer.tiktoken": byte-level BPE, Llama 3). The
// interface knows no tokenizer library and throws nothing: each implementation is kept behind a
// pimpl so that only its .cpp sees its library (SentencePiece, PCRE2).
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_RUNTIME_TOKENIZER_H
#define LLAMAC_RUNTIME_TOKENIZER_H

#include "llamac/runtime/Status.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace llamac::rt {

class Tokenizer {
public:
  virtual ~Tokenizer();

  // Pieces in the vocabulary: every id is in [0, vocabSize()).
  virtual int64_t vocabSize() const = 0;
  // The id encode() puts first when asked to; the model's bos_token_id
  // replaces the tokenizer's own through setBosId.
  int32_t bosId() const { return bosId_; }
  void setBosId(int32_t id) { bosId_ = id; }

  // `text` as ids, with bosId() first if `addBos`.
  virtual Status encode(std::string_view text, bool addBos,
                        std::vector<int32_t> &ids) const = 0;
  // The text of a whole sequence (ids out of range are an error). Decoding
  // is not piece by piece: a sequence's first leading-space marker is
  // dropped, byte pieces join into characters. See StreamDecoder.
  virtual Status decode(const std::vector<int32_t> &ids,
                        std::string &text) const = 0;
  // The piece of `id` as the vocabulary spells it ("▁the", "<0xE2>", "<s>");
  // empty for an id out of range.
  virtual std::string tokenToPiece(int32_t id) const = 0;

protected:
  int32_t bosId_ = -1;
};

// Turns generated ids into text as they come, for streaming: push() returns
// only text that later tokens cannot change. Each step decodes a short
// window, a few tokens already printed plus the new ones, and emits what the
// window's text gained, so a leading-space marker prints as the space it is
// after earlier text, and the bytes of a character split over byte-fallback
// pieces (<0xF0> <0x9F> ...) are held back until the character is complete
// (a decoded text ending in U+FFFD, the replacement of an incomplete UTF-8
// sequence, waits for the next token). finish() flushes what is held back.
class StreamDecoder {
public:
  // `context`: the prompt's ids; its last few give the first generated
  // token its left neighbour.
  StreamDecoder(const Tokenizer &tokenizer,
                const std::vector<int32_t> &context);

  // Adds `token`; appends the text it completes (maybe none) to `out`.
  Status push(int32_t token, std::string &out);
  // Appends whatever is still held back (an incomplete character prints as
  // U+FFFD, as in a whole decode).
  Status finish(std::string &out);

private:
  Status emit(bool final, std::string &out);

  const Tokenizer &tokenizer_;
  std::vector<int32_t> window_; // printed tokens [0, read_), then new ones
  size_t read_ = 0;
};

// A Tokenizer over SentencePiece's processor, loaded from the bytes of a
// serialized tokenizer.model (a ModelProto).
class SentencePieceTokenizer final : public Tokenizer {
public:
  // Parses `bytes` bytes at `data`; a broken model is an error, not a crash.
  static Status load(const uint8_t *data, size_t bytes,
                     std::unique_ptr<SentencePieceTokenizer> &out);
  ~SentencePieceTokenizer() override;

  int64_t vocabSize() const override;
  Status encode(std::string_view text, bool addBos,
                std::vector<int32_t> &ids) const override;
  Status decode(const std::vector<int32_t> &ids,
                std::string &text) const override;
  std::string tokenToPiece(int32_t id) const override;

private:
  struct Impl;
  explicit SentencePieceTokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct BytePairVocabulary;

// Byte-level BPE (Llama 3 family): added tokens (<|eot_id|>) are found in
// the text first, the rest is cut by a pre-tokenizer regex (PCRE2) and each
// piece's bytes merge pairwise, the pair of lowest rank first. Two formats
// load into it:
//  - Meta's tiktoken-format tokenizer.model (payload section
//    "tokenizer.tiktoken"): lines `<base64 token bytes> <rank>`, the rank
//    being the id; Llama 3's 256 special tokens and regex are implied.
//  - a Hugging Face tokenizer.json with a byte-level BPE model, as the
//    compiler renders it (section "tokenizer.bpe", format in
//    TokenizerHuggingFace.cpp): vocabulary, merges, added tokens, regex.
class BytePairTokenizer final : public Tokenizer {
public:
  // Parse `bytes` bytes at `data`; a broken file is an error, not a crash.
  static Status loadTiktoken(const uint8_t *data, size_t bytes,
                             std::unique_ptr<BytePairTokenizer> &out);
  static Status loadHuggingFace(const uint8_t *data, size_t bytes,
                                std::unique_ptr<BytePairTokenizer> &out);
  ~BytePairTokenizer() override;

  int64_t vocabSize() const override;
  // Text that is not valid UTF-8 is an error.
  Status encode(std::string_view text, bool addBos,
                std::vector<int32_t> &ids) const override;
  // Bytes that are not UTF-8 (a character split over tokens) decode as
  // U+FFFD.
  Status decode(const std::vector<int32_t> &ids,
                std::string &text) const override;
  // The token's raw bytes (not GPT-2's "Ġ" spelling), or an added token's
  // text.
  std::string tokenToPiece(int32_t id) const override;

  struct Impl;

private:
  friend Status makeBytePairTokenizer(BytePairVocabulary, const char *,
                                      std::unique_ptr<BytePairTokenizer> &);
  explicit BytePairTokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The payload sections that hold a tokenizer, in the order the runtime
// looks for them.
inline constexpr const char *kTokenizerSections[] = {
    "tokenizer.model", "tokenizer.bpe", "tokenizer.tiktoken"};

// Loads the tokenizer of payload section `section` (one of
// kTokenizerSections) from its bytes.
Status loadTokenizer(std::string_view section, const uint8_t *data,
                     size_t bytes, std::unique_ptr<Tokenizer> &out);

} // namespace llamac::rt

#endif // LLAMAC_RUNTIME_TOKENIZER_H
