//===- TokenizerHuggingFace.cpp - a tokenizer.json, as compiled -*- C++ -*-===//
//
// The compiler renders a Hugging Face byte-level BPE tokenizer.json
// (frontend/lib/HFTokenizer.cpp) into payload section "tokenizer.bpe", a
// line format that needs no JSON parser here:
//
//   llamac-bpe 1
//   pattern <base64 of the pre-tokenizer regex>
//   ignore-merges 0|1
//   bos <id, or -1>
//   tokens <N>
//   <base64 of the token's bytes> n|a      N lines, the id is the line's
//                                          index; a = an added token
//   merges <M>
//   <left id> <right id>                   M lines, the rank is the index
//
//===----------------------------------------------------------------------===//
#include "BytePairVocabulary.h"
#include "llamac/runtime/Tokenizer.h"

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace llamac::rt {

namespace {

constexpr const char *kWhat = "the tokenizer is not a valid tokenizer.bpe";

// Reads the section line by line; every error names the line.
class LineReader {
public:
  explicit LineReader(std::string_view text) : text_(text) {}

  // The next line, or false at the end.
  bool next(std::string_view &line) {
    if (pos_ >= text_.size())
      return false;
    size_t eol = text_.find('\n', pos_);
    if (eol == std::string_view::npos)
      eol = text_.size();
    line = text_.substr(pos_, eol - pos_);
    pos_ = eol + 1;
    ++lineNo_;
    return true;
  }
  // The value after `key `, parsed as an integer in [min, max].
  Status integer(std::string_view key, long long min, long long max,
                 long long &value) {
    std::string_view line;
    if (!next(line) || line.substr(0, key.size()) != key ||
        line.size() <= key.size() || line[key.size()] != ' ')
      return fail("%s: line %zu should be `%.*s <number>`", kWhat, lineNo_,
                  static_cast<int>(key.size()), key.data());
    std::string digits(line.substr(key.size() + 1));
    char *end = nullptr;
    errno = 0;
    value = std::strtoll(digits.c_str(), &end, 10);
    if (digits.empty() || *end != '\0' || errno != 0 || value < min ||
        value > max)
      return fail("%s: line %zu: %s is not a number in [%lld, %lld]", kWhat,
                  lineNo_, digits.c_str(), min, max);
    return Status::success();
  }
  size_t lineNo() const { return lineNo_; }

private:
  std::string_view text_;
  size_t pos_ = 0;
  size_t lineNo_ = 0;
};

} // namespace

Status BytePairTokenizer::loadHuggingFace(
    const uint8_t *data, size_t bytes,
    std::unique_ptr<BytePairTokenizer> &out) {
  LineReader reader(
      std::string_view(reinterpret_cast<const char *>(data), bytes));
  std::string_view line;
  if (!reader.next(line) || line != "llamac-bpe 1")
    return fail("%s: it does not start with `llamac-bpe 1`", kWhat);
  BytePairVocabulary vocab;
  if (!reader.next(line) || line.substr(0, 8) != "pattern " ||
      !decodeBase64(line.substr(8), vocab.pattern))
    return fail("%s: line %zu should be `pattern <base64>`", kWhat,
                reader.lineNo());
  long long value = 0;
  if (Status s = reader.integer("ignore-merges", 0, 1, value); !s.ok())
    return s;
  vocab.ignoreMerges = value != 0;
  if (Status s = reader.integer("bos", -1, INT32_MAX, value); !s.ok())
    return s;
  vocab.bos = static_cast<int32_t>(value);
  long long tokens = 0;
  if (Status s = reader.integer("tokens", 1, INT32_MAX, tokens); !s.ok())
    return s;
  if (static_cast<size_t>(tokens) > bytes / 4) // each line takes 4 bytes at least
    return fail("%s: %lld tokens do not fit in %zu bytes", kWhat, tokens,
                bytes);
  vocab.pieces.resize(tokens);
  vocab.added.resize(tokens);
  for (long long id = 0; id < tokens; ++id) {
    size_t space = 0;
    if (!reader.next(line) || (space = line.rfind(' ')) == 0 ||
        space == std::string_view::npos ||
        (line.substr(space) != " n" && line.substr(space) != " a") ||
        !decodeBase64(line.substr(0, space), vocab.pieces[id]))
      return fail("%s: line %zu should be `<base64> n|a` (token %lld)", kWhat,
                  reader.lineNo(), id);
    vocab.added[id] = line.back() == 'a';
  }
  long long merges = 0;
  if (Status s = reader.integer("merges", 0, INT32_MAX, merges); !s.ok())
    return s;
  if (static_cast<size_t>(merges) > bytes / 4)
    return fail("%s: %lld merges do not fit in %zu bytes", kWhat, merges,
                bytes);
  vocab.merges.resize(merges);
  for (long long rank = 0; rank < merges; ++rank) {
    int left = -1, right = -1, used = 0;
    std::string text;
    if (reader.next(line))
      text.assign(line);
    if (std::sscanf(text.c_str(), "%d %d%n", &left, &right, &used) != 2 ||
        static_cast<size_t>(used) != text.size())
      return fail("%s: line %zu should be `<left id> <right id>` (merge %lld)",
                  kWhat, reader.lineNo(), rank);
    vocab.merges[rank] = {left, right};
  }
  if (reader.next(line) && !line.empty())
    return fail("%s: line %zu follows the last merge", kWhat, reader.lineNo());
  return makeBytePairTokenizer(std::move(vocab), kWhat, out);
}

} // namespace llamac::rt
