//===- TokenizerTestSupport.h - shared by the tokenizer tests ---*- C++ -*-===//
//
// Reading ../shared/testdata and llama.cpp's test-tokenizer-0 vectors, and
// encode/decode wrappers that fail the test on an error status.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_TEST_UNIT_TOKENIZERTESTSUPPORT_H
#define LLAMAC_TEST_UNIT_TOKENIZERTESTSUPPORT_H

#include "llamac/runtime/Tokenizer.h"

#include <cstdint>
#include <string>
#include <vector>

namespace llamac::test {

/// ../shared/testdata/tokenizers, beside the source tree. A function, not a
/// global, so that other files' globals may be initialised from it.
std::string tokenizerDataDir();

bool readFile(const std::string &path, std::string &out);

std::vector<int32_t> encode(const rt::Tokenizer &t, const std::string &text,
                            bool addBos = false);
std::string decode(const rt::Tokenizer &t, const std::vector<int32_t> &ids);

/// One case of llama.cpp's test-tokenizer-0 vectors: the .inp cases are
/// separated by "\n__ggml_vocab_test__\n" (the file ends with one), the .out
/// has one line of ids per case.
struct VectorCase {
  std::string text;
  std::vector<int32_t> ids;
};

/// Reads `vectors`.inp/.out; false with `error` set where they are absent or
/// disagree.
bool readVectors(const std::string &vectors, std::vector<VectorCase> &cases,
                 std::string &error);

/// `text` quoted with \n, \t and \r escaped, for failure messages.
std::string printable(const std::string &text);

} // namespace llamac::test

#endif // LLAMAC_TEST_UNIT_TOKENIZERTESTSUPPORT_H
