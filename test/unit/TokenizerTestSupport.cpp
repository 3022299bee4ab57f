//===- TokenizerTestSupport.cpp - shared by the tokenizer tests -*- C++ -*-===//
#include "TokenizerTestSupport.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace llamac::test {

std::string tokenizerDataDir() {
  return std::string(LLAMAC_SOURCE_DIR) + "/../shared/testdata/tokenizers";
}

bool readFile(const std::string &path, std::string &out) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  std::ostringstream s;
  s << in.rdbuf();
  out = s.str();
  return true;
}

std::vector<int32_t> encode(const rt::Tokenizer &t, const std::string &text,
                            bool addBos) {
  std::vector<int32_t> ids;
  rt::Status s = t.encode(text, addBos, ids);
  EXPECT_TRUE(s.ok()) << s.message();
  return ids;
}

std::string decode(const rt::Tokenizer &t, const std::vector<int32_t> &ids) {
  std::string text;
  rt::Status s = t.decode(ids, text);
  EXPECT_TRUE(s.ok()) << s.message();
  return text;
}

bool readVectors(const std::string &vectors, std::vector<VectorCase> &cases,
                 std::string &error) {
  std::string inp, out;
  if (!readFile(vectors + ".inp", inp) || !readFile(vectors + ".out", out)) {
    error = vectors + ".inp/.out are absent (../shared/testdata)";
    return false;
  }
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  for (size_t pos = 0; pos < inp.size();) {
    size_t next = inp.find(sep, pos);
    if (next == std::string::npos) {
      texts.push_back(inp.substr(pos));
      break;
    }
    texts.push_back(inp.substr(pos, next - pos));
    pos = next + sep.size();
  }
  std::istringstream lines(out);
  std::vector<std::vector<int32_t>> idLines;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::vector<int32_t> ids;
    for (int32_t id; words >> id;)
      ids.push_back(id);
    idLines.push_back(ids);
  }
  if (texts.size() != idLines.size()) {
    error = "the .inp and .out files have different numbers of cases";
    return false;
  }
  for (size_t i = 0; i < texts.size(); ++i)
    cases.push_back({texts[i], idLines[i]});
  return true;
}

std::string printable(const std::string &text) {
  std::string out;
  for (char c : text)
    out += c == '\n'   ? std::string("\\n")
           : c == '\t' ? "\\t"
           : c == '\r' ? "\\r"
                       : std::string(1, c);
  return "'" + out + "'";
}

} // namespace llamac::test
