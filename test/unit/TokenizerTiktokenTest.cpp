//===- TokenizerTiktokenTest.cpp - the Llama 3 BPE tokenizer ----*- C++ -*-===//
//
// BytePairTokenizer against llama.cpp's published vectors for Llama 3
// (llama-bpe, made with Hugging Face's tokenizer; ../shared/testdata, see its
// README), with Meta's Llama 3 tokenizer.model: encoding, special tokens in
// the text, round trips through decode, streamed decoding. Tests that need
// ../shared skip, saying so, where it is absent.
//
//===----------------------------------------------------------------------===//
#include "TokenizerTestSupport.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace llamac::rt;
using namespace llamac::test;

namespace {

const std::string kTestData = tokenizerDataDir();
const std::string kLlama3Model = kTestData + "/llama3/tokenizer.model";
const std::string kVectors = kTestData + "/vectors/ggml-vocab-llama-bpe.gguf";

Status loadFrom(const std::string &bytes,
                std::unique_ptr<BytePairTokenizer> &out) {
  return BytePairTokenizer::loadTiktoken(
      reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size(), out);
}

// The Llama 3 tokenizer, loaded once; null where ../shared is absent.
const BytePairTokenizer *llama3() {
  static std::unique_ptr<BytePairTokenizer> tokenizer = [] {
    std::unique_ptr<BytePairTokenizer> t;
    std::string bytes;
    if (!readFile(kLlama3Model, bytes))
      return t;
    Status s = loadFrom(bytes, t);
    EXPECT_TRUE(s.ok()) << s.message();
    return t;
  }();
  return tokenizer.get();
}

#define REQUIRE_LLAMA3(tok)                                                    \
  const BytePairTokenizer *tok = llama3();                                     \
  if (!tok)                                                                    \
    GTEST_SKIP() << kLlama3Model << " is absent (../shared/testdata)";

TEST(TokenizerTiktokenTest, Llama3Vocabulary) {
  REQUIRE_LLAMA3(tok);
  EXPECT_EQ(tok->vocabSize(), 128256);
  EXPECT_EQ(tok->bosId(), 128000);
  EXPECT_EQ(tok->tokenToPiece(128000), "<|begin_of_text|>");
  EXPECT_EQ(tok->tokenToPiece(128001), "<|end_of_text|>");
  EXPECT_EQ(tok->tokenToPiece(128002), "<|reserved_special_token_0|>");
  EXPECT_EQ(tok->tokenToPiece(128006), "<|start_header_id|>");
  EXPECT_EQ(tok->tokenToPiece(128007), "<|end_header_id|>");
  EXPECT_EQ(tok->tokenToPiece(128008), "<|reserved_special_token_4|>");
  EXPECT_EQ(tok->tokenToPiece(128009), "<|eot_id|>");
  EXPECT_EQ(tok->tokenToPiece(128010), "<|reserved_special_token_5|>");
  EXPECT_EQ(tok->tokenToPiece(128255), "<|reserved_special_token_250|>");
  EXPECT_EQ(tok->tokenToPiece(9906), "Hello"); // raw bytes, not GPT-2's "Ġ"
  EXPECT_EQ(tok->tokenToPiece(1917), " world");
  EXPECT_EQ(tok->tokenToPiece(-1), "");
  EXPECT_EQ(tok->tokenToPiece(128256), "");
}

TEST(TokenizerTiktokenTest, LlamaCppVectors) {
  REQUIRE_LLAMA3(tok);
  std::vector<VectorCase> cases;
  std::string error;
  if (!readVectors(kVectors, cases, error))
    GTEST_SKIP() << error;
  ASSERT_FALSE(cases.empty());
  size_t passed = 0;
  for (const VectorCase &c : cases) {
    std::vector<int32_t> ids = encode(*tok, c.text);
    EXPECT_EQ(ids, c.ids) << "text " << printable(c.text);
    passed += ids == c.ids;
  }
  std::printf("llama-bpe vectors: %zu of %zu cases pass\n", passed,
              cases.size());
}

TEST(TokenizerTiktokenTest, EncodeAddsBos) {
  REQUIRE_LLAMA3(tok);
  EXPECT_EQ(encode(*tok, "Hello world", /*addBos=*/true),
            (std::vector<int32_t>{128000, 9906, 1917}));
  EXPECT_EQ(encode(*tok, "", /*addBos=*/true), std::vector<int32_t>{128000});
  EXPECT_EQ(encode(*tok, ""), std::vector<int32_t>{});
}

TEST(TokenizerTiktokenTest, SpecialTokensInText) {
  REQUIRE_LLAMA3(tok);
  // A Llama 3 chat turn.
  const std::string chat = "<|begin_of_text|><|start_header_id|>user"
                           "<|end_header_id|>\n\nHello world<|eot_id|>";
  std::vector<int32_t> ids = encode(*tok, chat);
  ASSERT_GE(ids.size(), 4u);
  EXPECT_EQ(ids[0], 128000);
  EXPECT_EQ(ids[1], 128006);
  EXPECT_EQ(ids.back(), 128009);
  // Text between specials is encoded as if alone.
  std::vector<int32_t> expected = {128000, 128006};
  for (int32_t id : encode(*tok, "user"))
    expected.push_back(id);
  expected.push_back(128007);
  for (int32_t id : encode(*tok, "\n\nHello world"))
    expected.push_back(id);
  expected.push_back(128009);
  EXPECT_EQ(ids, expected);
  EXPECT_EQ(decode(*tok, ids), chat);
  // Adjacent specials, specials at both ends, reserved ones.
  EXPECT_EQ(encode(*tok, "<|eot_id|><|eot_id|>"),
            (std::vector<int32_t>{128009, 128009}));
  EXPECT_EQ(encode(*tok, "<|reserved_special_token_250|>"),
            std::vector<int32_t>{128255});
  // Look-alikes are ordinary text.
  for (const char *text : {"<|eot_id|", "<|not_a_token|>", "< |eot_id|>",
                           "<|reserved_special_token_251|>", "<|EOT_ID|>"}) {
    std::vector<int32_t> got = encode(*tok, text);
    EXPECT_EQ(decode(*tok, got), text);
    for (int32_t id : got)
      EXPECT_LT(id, 128000) << text;
  }
  // A special right after a look-alike's start.
  EXPECT_EQ(encode(*tok, "<|<|eot_id|>").back(), 128009);
}

TEST(TokenizerTiktokenTest, RoundTrip) {
  REQUIRE_LLAMA3(tok);
  for (const std::string text :
       {"Hello world", " leading space", "  two spaces\n\n\ttabs\r\nCRLF",
        "Führer, naïve café", "Привет мир", "日本語のテキスト",
        "emoji 🦙🚀 and 👨‍👩‍👧", "numbers 1234567 3.14159",
        "I've they'll we'D", "mixed\u00a0nbsp and \u3000 ideographic space",
        "   ", "\n", "a\xcc\x81 combining", "ﬁ ligature ½ ⅓",
        "\xf0\x9f\x98\x80"}) {
    EXPECT_EQ(decode(*tok, encode(*tok, text)), text) << printable(text);
  }
  // Every vector's text too.
  std::vector<VectorCase> cases;
  std::string error;
  if (readVectors(kVectors, cases, error))
    for (const VectorCase &c : cases)
      EXPECT_EQ(decode(*tok, encode(*tok, c.text)), c.text)
          << printable(c.text);
}

TEST(TokenizerTiktokenTest, InvalidUtf8IsAnError) {
  REQUIRE_LLAMA3(tok);
  std::vector<int32_t> ids;
  Status s = tok->encode(std::string("ab\xff") + "cd", false, ids);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("UTF-8"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find('\n'), std::string::npos);
}

TEST(TokenizerTiktokenTest, DecodeSplitCharacter) {
  REQUIRE_LLAMA3(tok);
  // 🦙 is several byte tokens; a prefix of them decodes to U+FFFD.
  std::vector<int32_t> ids = encode(*tok, "🦙");
  ASSERT_GE(ids.size(), 2u);
  std::string part = decode(*tok, {ids[0]});
  EXPECT_EQ(part.substr(part.size() - 3), "\xEF\xBF\xBD");
  EXPECT_EQ(decode(*tok, ids), "🦙");
}

TEST(TokenizerTiktokenTest, DecodeRejectsIdsOutOfRange) {
  REQUIRE_LLAMA3(tok);
  std::string text;
  EXPECT_FALSE(tok->decode({9906, 128256}, text).ok());
  EXPECT_FALSE(tok->decode({-1}, text).ok());
  EXPECT_TRUE(tok->decode({128255}, text).ok());
}

TEST(TokenizerTiktokenTest, StreamedEqualsWholeDecode) {
  REQUIRE_LLAMA3(tok);
  std::vector<VectorCase> cases;
  std::string error;
  if (!readVectors(kVectors, cases, error))
    GTEST_SKIP() << error;
  for (const VectorCase &c : cases) {
    if (c.ids.empty())
      continue;
    StreamDecoder stream(*tok, {128000});
    std::string streamed;
    for (int32_t id : c.ids)
      ASSERT_TRUE(stream.push(id, streamed).ok());
    ASSERT_TRUE(stream.finish(streamed).ok());
    EXPECT_EQ(streamed, decode(*tok, c.ids)) << printable(c.text);
  }
}

TEST(TokenizerTiktokenTest, LoadRejectsWhatIsNoModel) {
  std::unique_ptr<BytePairTokenizer> t;
  auto rejects = [&](const std::string &bytes, const char *why) {
    Status s = loadFrom(bytes, t);
    EXPECT_FALSE(s.ok()) << why;
    EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
  };
  rejects("", "empty");
  rejects("hello\n", "no rank");
  rejects("!!!! 0\n", "bad base64");
  rejects("QQ== x\n", "bad rank");
  rejects("QQ== 5\n", "rank out of range");
  rejects("QQ== 0\nQg== 0\n", "repeated rank");
  rejects("QQ== 0\nQQ== 1\n", "repeated token");
  rejects("QQ== 0\nQg== 1\n", "not every byte is a token");
  rejects(std::string("\x0a\x0b\x08\x00\x12", 5), "a SentencePiece model");

  // The 256 bytes alone make a valid (if poor) tokenizer.
  static const char kB64[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string bytes;
  for (int b = 0; b < 256; ++b) {
    bytes += kB64[b >> 2];
    bytes += kB64[(b & 3) << 4];
    bytes += "== " + std::to_string(b) + "\n";
  }
  Status s = loadFrom(bytes, t);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(t->vocabSize(), 256 + 256);
  EXPECT_EQ(t->bosId(), 256);
  std::vector<int32_t> ids;
  ASSERT_TRUE(t->encode("<|begin_of_text|>Hi", false, ids).ok());
  EXPECT_EQ(ids, (std::vector<int32_t>{256, 'H', 'i'}));
}

} // namespace
