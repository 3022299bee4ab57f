//===- TokenizerTest.cpp - the SentencePiece tokenizer ----------*- C++ -*-===//
//
// Against llama.cpp's published vectors for Llama 2 (../shared/testdata, see
// its README), with the Llama 2 tokenizer.model: encoding, round trips
// through decode (UTF-8, byte fallback) and streamed decoding. Tests that
// need ../shared skip, saying so, where it is absent.
//
//===----------------------------------------------------------------------===//
#include "TokenizerTestSupport.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

using namespace llamac::rt;
using namespace llamac::test;

namespace {

const std::string kTestData = tokenizerDataDir();
const std::string kLlama2Model = kTestData + "/llama2/tokenizer.model";
const std::string kVectors = kTestData + "/vectors/ggml-vocab-llama-spm.gguf";

// The Llama 2 tokenizer, loaded once; null where ../shared is absent.
const SentencePieceTokenizer *llama2() {
  static std::unique_ptr<SentencePieceTokenizer> tokenizer = [] {
    std::unique_ptr<SentencePieceTokenizer> t;
    std::string bytes;
    if (!readFile(kLlama2Model, bytes))
      return t;
    Status s = SentencePieceTokenizer::load(
        reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size(), t);
    EXPECT_TRUE(s.ok()) << s.message();
    return t;
  }();
  return tokenizer.get();
}

#define REQUIRE_LLAMA2(tok)                                                    \
  const SentencePieceTokenizer *tok = llama2();                                \
  if (!tok)                                                                    \
    GTEST_SKIP() << kLlama2Model << " is absent (../shared/testdata)";

// A minimal GGUF reader, enough to get tokenizer.ggml.tokens out of the
// vocab-only file llama.cpp's vectors were made with.
class GgufReader {
public:
  explicit GgufReader(const std::string &bytes) : data_(bytes) {}

  bool tokens(std::vector<std::string> &out) {
    if (data_.compare(0, 4, "GGUF") != 0)
      return false;
    pos_ = 4;
    uint32_t version;
    uint64_t tensors, kvs;
    if (!get(version) || !get(tensors) || !get(kvs))
      return false;
    for (uint64_t i = 0; i < kvs; ++i) {
      std::string key;
      uint32_t type;
      if (!string(key) || !get(type))
        return false;
      if (key == "tokenizer.ggml.tokens") {
        uint32_t elementType;
        uint64_t n;
        if (type != kArray || !get(elementType) || elementType != kString ||
            !get(n))
          return false;
        out.resize(n);
        for (std::string &token : out)
          if (!string(token))
            return false;
        return true;
      }
      if (!skip(type))
        return false;
    }
    return false;
  }

private:
  static constexpr uint32_t kString = 8, kArray = 9;

  template <typename T> bool get(T &value) {
    if (pos_ + sizeof(T) > data_.size())
      return false;
    std::memcpy(&value, data_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool string(std::string &s) {
    uint64_t n;
    if (!get(n) || n > data_.size() - pos_)
      return false;
    s.assign(data_, pos_, n);
    pos_ += n;
    return true;
  }
  bool skip(uint32_t type) {
    static const size_t kSizes[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    if (type == kString) {
      std::string ignored;
      return string(ignored);
    }
    if (type == kArray) {
      uint32_t elementType;
      uint64_t n;
      if (!get(elementType) || !get(n))
        return false;
      for (uint64_t i = 0; i < n; ++i)
        if (!skip(elementType))
          return false;
      return true;
    }
    if (type >= sizeof(kSizes) / sizeof(kSizes[0]) || kSizes[type] == 0 ||
        pos_ + kSizes[type] > data_.size())
      return false;
    pos_ += kSizes[type];
    return true;
  }

  const std::string &data_;
  size_t pos_ = 0;
};

TEST(TokenizerTest, Llama2Vocabulary) {
  REQUIRE_LLAMA2(tok);
  EXPECT_EQ(tok->vocabSize(), 32000);
  EXPECT_EQ(tok->bosId(), 1);
  EXPECT_EQ(tok->tokenToPiece(0), "<unk>");
  EXPECT_EQ(tok->tokenToPiece(1), "<s>");
  EXPECT_EQ(tok->tokenToPiece(2), "</s>");
  EXPECT_EQ(tok->tokenToPiece(3), "<0x00>");
  EXPECT_EQ(tok->tokenToPiece(15043), "\xE2\x96\x81Hello"); // ▁Hello
  EXPECT_EQ(tok->tokenToPiece(-1), "");
  EXPECT_EQ(tok->tokenToPiece(32000), "");
}

// The vectors were made with the vocabulary in ggml-vocab-llama-spm.gguf;
// they test this tokenizer.model only if its pieces are the same.
TEST(TokenizerTest, VectorsUseTheSameVocabulary) {
  REQUIRE_LLAMA2(tok);
  std::string gguf;
  if (!readFile(kVectors, gguf))
    GTEST_SKIP() << kVectors << " is absent (../shared/testdata)";
  std::vector<std::string> tokens;
  ASSERT_TRUE(GgufReader(gguf).tokens(tokens)) << "cannot read " << kVectors;
  ASSERT_EQ(static_cast<int64_t>(tokens.size()), tok->vocabSize());
  int64_t differ = 0;
  for (size_t i = 0; i < tokens.size(); ++i)
    differ += tokens[i] != tok->tokenToPiece(static_cast<int32_t>(i));
  EXPECT_EQ(differ, 0) << "pieces differ between the GGUF and tokenizer.model";
}

// llama.cpp's test-tokenizer-0 tokenizes each case with add_special = false
// (no BOS) and llama.cpp's SPM tokenizer adds the leading space, as
// SentencePiece's add_dummy_prefix does, so encode(text, false) must give
// exactly the expected ids.
TEST(TokenizerTest, LlamaCppVectors) {
  REQUIRE_LLAMA2(tok);
  std::vector<VectorCase> cases;
  std::string error;
  if (!readVectors(kVectors, cases, error))
    GTEST_SKIP() << error;
  ASSERT_EQ(cases.size(), 46u);
  int passed = 0;
  for (const VectorCase &c : cases) {
    std::vector<int32_t> ids = encode(*tok, c.text);
    EXPECT_EQ(ids, c.ids) << "text " << printable(c.text);
    passed += ids == c.ids;
    // And back: SentencePiece's decoding is lossless for these texts (an
    // identity normalizer, byte fallback for what has no piece).
    EXPECT_EQ(decode(*tok, c.ids), c.text) << "ids of " << printable(c.text);
  }
  std::printf("[          ] %d of %zu llama.cpp vectors match\n", passed,
              cases.size());
}

TEST(TokenizerTest, EncodeAddsBos) {
  REQUIRE_LLAMA2(tok);
  EXPECT_EQ(encode(*tok, "Hello world", true),
            (std::vector<int32_t>{1, 15043, 3186}));
  EXPECT_EQ(encode(*tok, "", true), (std::vector<int32_t>{1}));
  EXPECT_EQ(encode(*tok, ""), (std::vector<int32_t>{}));
  // The model's BOS wins over the tokenizer's.
  std::string bytes;
  ASSERT_TRUE(readFile(kLlama2Model, bytes));
  std::unique_ptr<SentencePieceTokenizer> other;
  ASSERT_TRUE(SentencePieceTokenizer::load(
                  reinterpret_cast<const uint8_t *>(bytes.data()),
                  bytes.size(), other)
                  .ok());
  other->setBosId(7);
  EXPECT_EQ(encode(*other, "Hello", true), (std::vector<int32_t>{7, 15043}));
}

TEST(TokenizerTest, RoundTrip) {
  REQUIRE_LLAMA2(tok);
  // é ï; 中文 汉字; 🦙 😁; 😶‍🌫️ (a ZWJ sequence); ASCII controls and 𝔘𝔫,
  // which have no pieces (byte fallback).
  const char *texts[] = {
      "Hello world",
      " leading and trailing spaces ",
      "caf\xC3\xA9 na\xC3\xAFve r\xC3\xA9sum\xC3\xA9",
      "\xE4\xB8\xAD\xE6\x96\x87 \xE6\xB1\x89\xE5\xAD\x97",
      "emoji \xF0\x9F\xA6\x99 and \xF0\x9F\x98\x81!",
      "\xF0\x9F\x98\xB6\xE2\x80\x8D\xF0\x9F\x8C\xAB\xEF\xB8\x8F",
      "tabs\tand\nnewlines\n\n",
      "\x01\x7F control bytes",
      "\xF0\x9D\x94\x98\xF0\x9D\x94\xAB",
  };
  for (const char *text : texts)
    EXPECT_EQ(decode(*tok, encode(*tok, text)), text) << printable(text);
  EXPECT_EQ(decode(*tok, encode(*tok, "x", true)), "x"); // BOS decodes to ""
}

TEST(TokenizerTest, ByteFallback) {
  REQUIRE_LLAMA2(tok);
  // 🦙 has no piece: its four UTF-8 bytes are four byte pieces.
  std::vector<int32_t> ids = encode(*tok, "\xF0\x9F\xA6\x99");
  std::vector<std::string> pieces;
  for (int32_t id : ids)
    pieces.push_back(tok->tokenToPiece(id));
  EXPECT_EQ(pieces, (std::vector<std::string>{"\xE2\x96\x81", "<0xF0>",
                                              "<0x9F>", "<0xA6>", "<0x99>"}));
  EXPECT_EQ(decode(*tok, ids), "\xF0\x9F\xA6\x99");
  // An incomplete sequence decodes to U+FFFD per byte: what StreamDecoder
  // holds back. (The ▁ of the first piece is the dummy prefix, dropped.)
  EXPECT_EQ(decode(*tok, {ids[0], ids[1], ids[2]}), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(decode(*tok, {15043, ids[0], ids[1], ids[2]}),
            "Hello \xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(TokenizerTest, DecodeRejectsIdsOutOfRange) {
  REQUIRE_LLAMA2(tok);
  std::string text;
  Status s = tok->decode({15043, 32000}, text);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(),
            "cannot decode token id 32000: out of the tokenizer's range [0, "
            "32000)");
  EXPECT_FALSE(tok->decode({-1}, text).ok());
}

TEST(TokenizerTest, LoadRejectsWhatIsNoModel) {
  std::unique_ptr<SentencePieceTokenizer> t;
  const std::string garbage(100, '\xAB');
  Status s = SentencePieceTokenizer::load(
      reinterpret_cast<const uint8_t *>(garbage.data()), garbage.size(), t);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "the tokenizer is not a valid SentencePiece model: "
                         "not a serialized ModelProto");
  EXPECT_EQ(t, nullptr);
  // Llama 3's tokenizer.model is tiktoken's base64 text, not a ModelProto.
  const std::string tiktoken = "IQ== 0\nIg== 1\nIw== 2\n";
  EXPECT_FALSE(SentencePieceTokenizer::load(
                   reinterpret_cast<const uint8_t *>(tiktoken.data()),
                   tiktoken.size(), t)
                   .ok());
  EXPECT_FALSE(SentencePieceTokenizer::load(nullptr, 0, t).ok());
}

// Streams `generated` after `context` one token at a time; returns each
// step's text.
std::vector<std::string> stream(const Tokenizer &t,
                                const std::vector<int32_t> &context,
                                const std::vector<int32_t> &generated,
                                std::string &all) {
  StreamDecoder decoder(t, context);
  std::vector<std::string> steps;
  all.clear();
  for (int32_t id : generated) {
    std::string text;
    Status s = decoder.push(id, text);
    EXPECT_TRUE(s.ok()) << s.message();
    steps.push_back(text);
    all += text;
  }
  std::string rest;
  EXPECT_TRUE(decoder.finish(rest).ok());
  steps.push_back(rest);
  all += rest;
  return steps;
}

// The streamed text is what decoding the whole sequence adds to the
// context's text, for every case of the vectors, after BOS alone and after a
// prompt.
TEST(TokenizerTest, StreamedEqualsWholeDecode) {
  REQUIRE_LLAMA2(tok);
  std::vector<VectorCase> cases;
  std::string error;
  if (!readVectors(kVectors, cases, error))
    GTEST_SKIP() << error;
  const std::vector<int32_t> prompts[] = {
      {1}, encode(*tok, "Once upon a time", true),
      encode(*tok, "ends in an emoji \xF0\x9F\x98\x81", true)};
  for (const std::vector<int32_t> &prompt : prompts)
    for (const VectorCase &c : cases) {
      std::vector<int32_t> all = prompt;
      all.insert(all.end(), c.ids.begin(), c.ids.end());
      const std::string before = decode(*tok, prompt);
      const std::string whole = decode(*tok, all);
      ASSERT_EQ(whole.compare(0, before.size(), before), 0);
      std::string streamed;
      stream(*tok, prompt, c.ids, streamed);
      EXPECT_EQ(streamed, whole.substr(before.size()))
          << printable(c.text) << " after " << printable(before);
    }
}

TEST(TokenizerTest, StreamSpacesAndSplitCharacters) {
  REQUIRE_LLAMA2(tok);
  // "Hello 🦙 world" after BOS:
  //   ▁Hello ▁ <0xF0> <0x9F> <0xA6> <0x99> ▁world
  std::vector<int32_t> ids = encode(*tok, "Hello \xF0\x9F\xA6\x99 world");
  ASSERT_EQ(ids,
            (std::vector<int32_t>{15043, 29871, 243, 162, 169, 156, 3186}));
  std::string all;
  std::vector<std::string> steps = stream(*tok, {1}, ids, all);
  EXPECT_EQ(steps, (std::vector<std::string>{
                       "Hello", // the first piece after BOS: no space
                       " ",     // ▁ alone
                       "", "", "", "\xF0\x9F\xA6\x99", // held until whole
                       " world", ""}));
  // After a prompt, the first piece's ▁ is a space.
  steps = stream(*tok, encode(*tok, "Say", true), {15043}, all);
  EXPECT_EQ(all, " Hello");
  // An incomplete character at the end prints as U+FFFD.
  steps = stream(*tok, {1}, {15043, 243, 162}, all);
  EXPECT_EQ(steps, (std::vector<std::string>{"Hello", "", "",
                                             "\xEF\xBF\xBD\xEF\xBF\xBD"}));
  // Control tokens print nothing; EOS ends a stream cleanly.
  steps = stream(*tok, {1}, {15043, 2}, all);
  EXPECT_EQ(all, "Hello");
}

} // namespace
