//===- TokenizerBytePair.cpp - byte-level BPE (Llama 3 family) --*- C++ -*-===//
//
// Encoding: the text is split at added tokens (leftmost, longest first);
// the text between them is cut by the pre-tokenizer regex (PCRE2, UTF + UCP
// for \p{L} \p{N}); each piece's bytes merge pairwise, always the adjacent
// pair of lowest rank first, leftmost among equals. Ranks come from the
// merges list (Hugging Face) or are the id of the pair's concatenation
// (tiktoken). A heap of candidate pairs, checked when popped, keeps a long
// piece (a run of spaces) from going quadratic.
//
// The one file that includes PCRE2; nothing throws.
//
//===----------------------------------------------------------------------===//
#include "BytePairVocabulary.h"
#include "llamac/runtime/Tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <limits>
#include <queue>
#include <unordered_map>

namespace llamac::rt {

namespace {

struct CodeDeleter {
  void operator()(pcre2_code *code) const { pcre2_code_free(code); }
};
struct MatchDataDeleter {
  void operator()(pcre2_match_data *data) const { pcre2_match_data_free(data); }
};

uint64_t pairKey(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
         static_cast<uint32_t>(right);
}

} // namespace

struct BytePairTokenizer::Impl {
  BytePairVocabulary vocab;
  std::unordered_map<std::string, int32_t> ids; // ordinary tokens only
  // Hugging Face: (left, right) -> (rank, merged id).
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges;
  // Added tokens by their first byte, longest first.
  std::vector<std::vector<int32_t>> addedByFirstByte;
  int32_t byteIds[256];
  std::unique_ptr<pcre2_code, CodeDeleter> regex;

  int32_t idOf(std::string_view bytes) const {
    auto it = ids.find(std::string(bytes));
    return it == ids.end() ? -1 : it->second;
  }
  // The rank and result of merging `left` and `right`, or rank -1.
  std::pair<int32_t, int32_t> mergeOf(int32_t left, int32_t right) const;
  void encodePiece(std::string_view piece, std::vector<int32_t> &out) const;
  Status encodeOrdinary(std::string_view text, std::vector<int32_t> &out) const;
  // The added token that starts at text[pos] (the longest), or -1.
  int32_t addedAt(std::string_view text, size_t pos) const;
};

std::pair<int32_t, int32_t>
BytePairTokenizer::Impl::mergeOf(int32_t left, int32_t right) const {
  if (vocab.mergesByRank) {
    int32_t id = idOf(vocab.pieces[left] + vocab.pieces[right]);
    return {id, id};
  }
  auto it = merges.find(pairKey(left, right));
  return it == merges.end() ? std::pair<int32_t, int32_t>{-1, -1}
                            : it->second;
}

void BytePairTokenizer::Impl::encodePiece(std::string_view piece,
                                          std::vector<int32_t> &out) const {
  if (vocab.ignoreMerges)
    if (int32_t id = idOf(piece); id >= 0) {
      out.push_back(id);
      return;
    }
  // Symbols in a list; a merge folds the right symbol into the left one.
  struct Symbol {
    int32_t id;
    int32_t prev, next; // -1 at the ends
  };
  std::vector<Symbol> symbols(piece.size());
  for (size_t i = 0; i < piece.size(); ++i)
    symbols[i] = {byteIds[static_cast<unsigned char>(piece[i])],
                  static_cast<int32_t>(i) - 1,
                  i + 1 < piece.size() ? static_cast<int32_t>(i + 1) : -1};
  struct Candidate {
    int32_t rank, left, right, leftId, rightId, merged;
    bool operator>(const Candidate &o) const {
      return rank != o.rank ? rank > o.rank : left > o.left;
    }
  };
  std::priority_queue<Candidate, std::vector<Candidate>,
                      std::greater<Candidate>>
      heap;
  auto consider = [&](int32_t left) {
    if (left < 0)
      return;
    int32_t right = symbols[left].next;
    if (right < 0)
      return;
    auto [rank, merged] = mergeOf(symbols[left].id, symbols[right].id);
    if (rank >= 0)
      heap.push({rank, left, right, symbols[left].id, symbols[right].id,
                 merged});
  };
  for (int32_t i = 0; i + 1 < static_cast<int32_t>(piece.size()); ++i)
    consider(i);
  while (!heap.empty()) {
    Candidate c = heap.top();
    heap.pop();
    // Stale where either side has merged since it was pushed.
    Symbol &left = symbols[c.left];
    if (left.id != c.leftId || left.next != c.right ||
        symbols[c.right].id != c.rightId)
      continue;
    left.id = c.merged;
    left.next = symbols[c.right].next;
    if (left.next >= 0)
      symbols[left.next].prev = c.left;
    symbols[c.right].id = -1;
    consider(left.prev);
    consider(c.left);
  }
  for (int32_t i = 0; i >= 0 && !piece.empty(); i = symbols[i].next)
    out.push_back(symbols[i].id);
}

Status
BytePairTokenizer::Impl::encodeOrdinary(std::string_view text,
                                        std::vector<int32_t> &out) const {
  if (text.empty())
    return Status::success();
  std::unique_ptr<pcre2_match_data, MatchDataDeleter> match(
      pcre2_match_data_create_from_pattern(regex.get(), nullptr));
  if (!match)
    return fail("cannot tokenize the prompt: out of memory");
  const auto *subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  // Text the regex does not match is a piece of its own, as in Hugging
  // Face's Split with behavior "Isolated".
  PCRE2_SIZE offset = 0, gap = 0;
  uint32_t options = 0;
  while (offset < text.size()) {
    int rc = pcre2_match(regex.get(), subject, text.size(), offset, options,
                         match.get(), nullptr);
    if (rc == PCRE2_ERROR_NOMATCH)
      break;
    if (rc < 0) {
      if (rc <= PCRE2_ERROR_UTF8_ERR1 && rc >= PCRE2_ERROR_UTF8_ERR21)
        return fail("cannot tokenize the prompt: it is not valid UTF-8 "
                    "(byte %zu)",
                    pcre2_get_startchar(match.get()));
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(rc, message, sizeof message);
      return fail("cannot tokenize the prompt: %s",
                  reinterpret_cast<const char *>(message));
    }
    // The whole subject was checked once; later matches skip the check.
    options = PCRE2_NO_UTF_CHECK;
    const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(match.get());
    if (ov[1] == ov[0]) { // an empty match: search on from the next character
      offset = ov[0] + 1;
      while (offset < text.size() && (text[offset] & 0xC0) == 0x80)
        ++offset;
      continue;
    }
    if (ov[0] > gap)
      encodePiece(text.substr(gap, ov[0] - gap), out);
    encodePiece(text.substr(ov[0], ov[1] - ov[0]), out);
    offset = gap = ov[1];
  }
  if (gap < text.size())
    encodePiece(text.substr(gap), out);
  return Status::success();
}

int32_t BytePairTokenizer::Impl::addedAt(std::string_view text,
                                         size_t pos) const {
  for (int32_t id :
       addedByFirstByte[static_cast<unsigned char>(text[pos])]) {
    const std::string &piece = vocab.pieces[id];
    if (text.compare(pos, piece.size(), piece) == 0)
      return id;
  }
  return -1;
}

Status makeBytePairTokenizer(BytePairVocabulary vocabulary, const char *what,
                             std::unique_ptr<BytePairTokenizer> &out) {
  auto impl = std::make_unique<BytePairTokenizer::Impl>();
  BytePairVocabulary &v = impl->vocab;
  v = std::move(vocabulary);
  const size_t n = v.pieces.size();
  if (n == 0)
    return fail("%s: it has no tokens", what);
  if (n > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    return fail("%s: too many tokens", what);
  v.added.resize(n, false);
  impl->addedByFirstByte.assign(256, {});
  for (size_t id = 0; id < n; ++id) {
    if (v.pieces[id].empty())
      return fail("%s: token %zu is empty", what, id);
    if (v.added[id]) {
      impl->addedByFirstByte[static_cast<unsigned char>(v.pieces[id][0])]
          .push_back(static_cast<int32_t>(id));
      continue;
    }
    if (!impl->ids.emplace(v.pieces[id], static_cast<int32_t>(id)).second)
      return fail("%s: a token appears twice (id %zu)", what, id);
  }
  for (auto &list : impl->addedByFirstByte)
    std::sort(list.begin(), list.end(), [&](int32_t a, int32_t b) {
      size_t sa = v.pieces[a].size(), sb = v.pieces[b].size();
      return sa != sb ? sa > sb : a < b;
    });
  for (int b = 0; b < 256; ++b) {
    impl->byteIds[b] = impl->idOf(std::string(1, static_cast<char>(b)));
    if (impl->byteIds[b] < 0)
      return fail("%s: byte 0x%02X is not a token", what, b);
  }
  for (size_t rank = 0; rank < v.merges.size(); ++rank) {
    auto [left, right] = v.merges[rank];
    if (left < 0 || right < 0 || static_cast<size_t>(left) >= n ||
        static_cast<size_t>(right) >= n)
      return fail("%s: merge %zu names a token out of range", what, rank);
    int32_t merged = impl->idOf(v.pieces[left] + v.pieces[right]);
    if (merged < 0)
      return fail("%s: merge %zu makes no token of the vocabulary", what,
                  rank);
    // A repeated pair keeps its first (lowest) rank.
    impl->merges.emplace(pairKey(left, right),
                         std::pair<int32_t, int32_t>{
                             static_cast<int32_t>(rank), merged});
  }
  if (v.bos >= static_cast<int64_t>(n))
    return fail("%s: the BOS id %d is out of range", what, v.bos);

  int error = 0;
  PCRE2_SIZE errorOffset = 0;
  impl->regex.reset(pcre2_compile(
      reinterpret_cast<PCRE2_SPTR>(v.pattern.data()), v.pattern.size(),
      PCRE2_UTF | PCRE2_UCP, &error, &errorOffset, nullptr));
  if (!impl->regex) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof message);
    return fail("%s: cannot compile the pre-tokenizer regex: %s (at %zu)",
                what, reinterpret_cast<const char *>(message),
                static_cast<size_t>(errorOffset));
  }
  // JIT where PCRE2 has it; the interpreter otherwise.
  (void)pcre2_jit_compile(impl->regex.get(), PCRE2_JIT_COMPLETE);
  out.reset(new BytePairTokenizer(std::move(impl)));
  return Status::success();
}

BytePairTokenizer::BytePairTokenizer(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {
  bosId_ = impl_->vocab.bos;
}

BytePairTokenizer::~BytePairTokenizer() = default;

int64_t BytePairTokenizer::vocabSize() const {
  return static_cast<int64_t>(impl_->vocab.pieces.size());
}

Status BytePairTokenizer::encode(std::string_view text, bool addBos,
                                 std::vector<int32_t> &ids) const {
  ids.clear();
  if (addBos) {
    if (bosId_ < 0)
      return fail("cannot add BOS: the tokenizer and the model name none");
    ids.push_back(bosId_);
  }
  size_t start = 0;
  for (size_t pos = 0; pos < text.size(); ++pos) {
    int32_t id = impl_->addedAt(text, pos);
    if (id < 0)
      continue;
    if (Status s = impl_->encodeOrdinary(text.substr(start, pos - start), ids);
        !s.ok())
      return s;
    ids.push_back(id);
    start = pos + impl_->vocab.pieces[id].size();
    pos = start - 1;
  }
  return impl_->encodeOrdinary(text.substr(start), ids);
}

Status BytePairTokenizer::decode(const std::vector<int32_t> &ids,
                                 std::string &text) const {
  const int64_t vocab = vocabSize();
  std::string bytes;
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab)
      return fail("cannot decode token id %d: out of the tokenizer's range "
                  "[0, %lld)",
                  id, static_cast<long long>(vocab));
    bytes += impl_->vocab.pieces[id];
  }
  // Byte-level tokens may split a character; what is not UTF-8 reads as
  // U+FFFD, as in Hugging Face's decode (StreamDecoder waits on it).
  text = sanitizeUtf8(bytes);
  return Status::success();
}

std::string BytePairTokenizer::tokenToPiece(int32_t id) const {
  if (id < 0 || id >= vocabSize())
    return std::string();
  return impl_->vocab.pieces[id];
}

} // namespace llamac::rt
