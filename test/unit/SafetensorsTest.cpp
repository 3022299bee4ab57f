//===- SafetensorsTest.cpp - safetensors header validation ------*- C++ -*-===//
//
// Builds files byte by byte so that each test states exactly what is on disk.
//
//===----------------------------------------------------------------------===//
#include "llamac/frontend/Safetensors.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace llamac;

namespace {
/// An 8-byte little-endian length, the JSON header, then `dataBytes` bytes.
std::vector<uint8_t> makeFile(const std::string &header, size_t dataBytes) {
  std::vector<uint8_t> file(8);
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i)
    file[i] = uint8_t(n >> (8 * i));
  file.insert(file.end(), header.begin(), header.end());
  for (size_t i = 0; i < dataBytes; ++i)
    file.push_back(uint8_t(i));
  return file;
}

std::string errorOf(const std::vector<uint8_t> &file) {
  auto header = parseSafetensorsHeader(file, "f.safetensors");
  if (header)
    return "";
  return llvm::toString(header.takeError());
}
} // namespace

TEST(Safetensors, ParsesTensorsInOffsetOrder) {
  auto file = makeFile(
      R"({"b":{"dtype":"BF16","shape":[2,3],"data_offsets":[16,28]},)"
      R"("a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
      R"("__metadata__":{"format":"pt"}})",
      28);
  auto header = parseSafetensorsHeader(file, "f.safetensors");
  ASSERT_TRUE(bool(header)) << llvm::toString(header.takeError());
  ASSERT_EQ(header->tensors.size(), 2u);
  EXPECT_EQ(header->tensors[0].name, "a");
  EXPECT_EQ(header->tensors[1].name, "b");
  const TensorInfo *b = header->find("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->dtype, DType::BF16);
  EXPECT_EQ(b->numElements(), 6);
  // Offsets become absolute: 8 length bytes + the header text.
  size_t headerBytes = file.size() - 8 - 28;
  EXPECT_EQ(b->offset, 8 + headerBytes + 16);
  EXPECT_EQ(b->size, 12u);
  EXPECT_EQ(header->metadata.lookup("format"), "pt");
  EXPECT_EQ(header->find("missing"), nullptr);
}

TEST(Safetensors, AcceptsScalarsAndEmptyTensors) {
  auto file = makeFile(
      R"({"s":{"dtype":"F16","shape":[],"data_offsets":[0,2]},)"
      R"("e":{"dtype":"F32","shape":[0,5],"data_offsets":[2,2]}})",
      2);
  auto header = parseSafetensorsHeader(file, "f.safetensors");
  ASSERT_TRUE(bool(header)) << llvm::toString(header.takeError());
  EXPECT_EQ(header->find("s")->numElements(), 1);
  EXPECT_EQ(header->find("e")->numElements(), 0);
}

TEST(Safetensors, RejectsShortFile) {
  EXPECT_EQ(errorOf({1, 2, 3}),
            "f.safetensors: file is 3 bytes, too short for the 8-byte "
            "safetensors header length");
}

TEST(Safetensors, RejectsHeaderLengthPastEnd) {
  auto file = makeFile("{}", 0);
  file[0] = 200;
  EXPECT_EQ(errorOf(file), "f.safetensors: safetensors header length 200 runs "
                           "past the end of the file (10 bytes)");
}

TEST(Safetensors, RejectsHugeHeaderLength) {
  std::vector<uint8_t> file(16, 0xff);
  EXPECT_NE(errorOf(file).find("exceeds the 100 MB limit"), std::string::npos);
}

TEST(Safetensors, RejectsBadJson) {
  EXPECT_NE(errorOf(makeFile("{\"a\":", 0))
                .find("f.safetensors: safetensors header is not valid JSON: "
                      "parse error at line 1, column 6"),
            std::string::npos);
  EXPECT_EQ(errorOf(makeFile("[1,2]", 0)),
            "f.safetensors: safetensors header is not a JSON object");
}

TEST(Safetensors, RejectsUnknownDType) {
  EXPECT_EQ(errorOf(makeFile(
                R"({"a":{"dtype":"F7","shape":[1],"data_offsets":[0,1]}})", 1)),
            "f.safetensors: tensor \"a\": unknown dtype \"F7\"");
}

TEST(Safetensors, RejectsSizeMismatch) {
  EXPECT_EQ(
      errorOf(makeFile(
          R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8)),
      "f.safetensors: tensor \"a\": data_offsets [0, 8] span 8 bytes but F32 x "
      "3 elements need 12");
}

TEST(Safetensors, RejectsNegativeOrFractionalDims) {
  EXPECT_EQ(errorOf(makeFile(
                R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})",
                4)),
            "f.safetensors: tensor \"a\": shape dims must be non-negative "
            "integers");
  EXPECT_EQ(errorOf(makeFile(
                R"({"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})",
                4)),
            "f.safetensors: tensor \"a\": shape dims must be non-negative "
            "integers");
}

TEST(Safetensors, RejectsElementCountOverflow) {
  EXPECT_EQ(errorOf(makeFile(R"({"a":{"dtype":"F32","shape":[4294967296,)"
                             R"(4294967296],"data_offsets":[0,4]}})",
                             4)),
            "f.safetensors: tensor \"a\": shape has more than 2^56 elements");
}

TEST(Safetensors, RejectsHugeDimAfterZeroDim) {
  // Found by fuzz-safetensors-header: a zero dim kept the product at zero,
  // letting 2^63 through as a negative int64 dim.
  EXPECT_EQ(errorOf(makeFile(R"({"a":{"dtype":"F32","shape":[0,)"
                             R"(9223372036854775808],"data_offsets":[0,0]}})",
                             0)),
            "f.safetensors: tensor \"a\": shape has more than 2^56 elements");
}

TEST(Safetensors, RejectsOverlapGapAndTrailingBytes) {
  EXPECT_NE(errorOf(makeFile(
                R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                R"("b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})",
                6))
                .find("tensor \"b\" starts at data offset 2 but the previous "
                      "tensor ends at 4 (overlap or gap)"),
            std::string::npos);
  EXPECT_NE(errorOf(makeFile(
                R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[1,5]}})", 5))
                .find("(overlap or gap)"),
            std::string::npos);
  EXPECT_EQ(errorOf(makeFile(
                R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})", 9)),
            "f.safetensors: 5 bytes after the last tensor are not described "
            "by the header");
}

TEST(Safetensors, RejectsTruncatedData) {
  EXPECT_EQ(errorOf(makeFile(
                R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})", 3)),
            "f.safetensors: tensor \"a\" ends at data offset 4, past the end of "
            "the file's 3 data bytes (truncated file?)");
}

TEST(Safetensors, RejectsMalformedEntries) {
  EXPECT_EQ(errorOf(makeFile(R"({"a":3})", 0)),
            "f.safetensors: tensor \"a\": header entry is not a JSON object");
  EXPECT_EQ(errorOf(makeFile(R"({"a":{"shape":[1],"data_offsets":[0,1]}})", 1)),
            "f.safetensors: tensor \"a\": missing or non-string \"dtype\"");
  EXPECT_EQ(
      errorOf(makeFile(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[1]}})",
                       1)),
      "f.safetensors: tensor \"a\": \"data_offsets\" must be two non-negative "
      "integers");
  EXPECT_EQ(errorOf(makeFile(
                R"({"a":{"dtype":"U8","shape":[0],"data_offsets":[1,0]}})", 1)),
            "f.safetensors: tensor \"a\": data_offsets [1, 0] end before they "
            "begin");
  EXPECT_EQ(errorOf(makeFile(R"({"__metadata__":{"k":1}})", 0)),
            "f.safetensors: \"__metadata__\" value for \"k\" is not a string");
}
