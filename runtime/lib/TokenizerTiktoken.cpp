//===- TokenizerTiktoken.cpp - TiktokenTokenizer (Llama 3) ------*- C++ -*-===//
//
// Byte-level BPE over Meta's tiktoken-format tokenizer.model: one line
// `<base64 token bytes> <rank>` per token, the rank being the token id.
// Text is split into special tokens ("<|eot_id|>") and ordinary text; the
// ordinary text is cut by Llama 3's pre-tokenizer regex (PCRE2, UTF + UCP
// for \p{L} \p{N}) and each piece is merged as tiktoken does: a piece that is
// a token is that token, otherwise its bytes merge pairwise, always the
// adjacent pair whose concatenation has the lowest rank first.
//
// The one file that includes PCRE2; nothing throws.
//
//===----------------------------------------------------------------------===//
#include "llamac/runtime/Tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <climits>
#include <limits>
#include <unordered_map>

namespace llamac::rt {

namespace {

// Llama 3's pre-tokenizer (Meta's llama3 tokenizer.py, pat_str).
constexpr const char *kPattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

constexpr int kNumSpecialTokens = 256;

// Llama 3's special tokens, ids from the number of ranks on (Meta's llama3
// tokenizer.py).
std::vector<std::string> llama3SpecialTokens() {
  std::vector<std::string> names = {
      "<|begin_of_text|>",
      "<|end_of_text|>",
      "<|reserved_special_token_0|>",
      "<|reserved_special_token_1|>",
      "<|reserved_special_token_2|>",
      "<|reserved_special_token_3|>",
      "<|start_header_id|>",
      "<|end_header_id|>",
      "<|reserved_special_token_4|>",
      "<|eot_id|>",
  };
  for (int i = 5; i < kNumSpecialTokens - 5; ++i)
    names.push_back("<|reserved_special_token_" + std::to_string(i) + "|>");
  return names;
}

int base64Value(unsigned char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

// Standard base64 with '=' padding; false on anything else.
bool decodeBase64(std::string_view in, std::string &out) {
  out.clear();
  if (in.empty() || in.size() % 4 != 0)
    return false;
  size_t pad = 0;
  while (pad < 2 && in[in.size() - 1 - pad] == '=')
    ++pad;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < in.size() - pad; ++i) {
    int v = base64Value(static_cast<unsigned char>(in[i]));
    if (v < 0)
      return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return true;
}

// `text` with every ill-formed UTF-8 sequence replaced by U+FFFD (one per
// maximal ill-formed subpart, as Python's errors="replace" does).
std::string sanitizeUtf8(const std::string &text) {
  static const char kReplacement[] = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(text.size());
  const auto *s = reinterpret_cast<const unsigned char *>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0)
        lo = 0xA0;
      else if (c == 0xED)
        hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0)
        lo = 0x90;
      else if (c == 0xF4)
        hi = 0x8F;
    } else {
      out += kReplacement;
      ++i;
      continue;
    }
    size_t j = 1;
    for (; j < len && i + j < n; ++j) {
      unsigned char b = s[i + j];
      unsigned char l = j == 1 ? lo : 0x80, h = j == 1 ? hi : 0xBF;
      if (b < l || b > h)
        break;
    }
    if (j == len) {
      out.append(text, i, len);
    } else {
      out += kReplacement;
    }
    i += j;
  }
  return out;
}

struct CodeDeleter {
  void operator()(pcre2_code *code) const { pcre2_code_free(code); }
};
struct MatchDataDeleter {
  void operator()(pcre2_match_data *data) const { pcre2_match_data_free(data); }
};

} // namespace

struct TiktokenTokenizer::Impl {
  std::vector<std::string> pieces; // id -> bytes (specials: name)
  std::unordered_map<std::string, int32_t> ranks; // ordinary tokens only
  std::unordered_map<std::string, int32_t> specials;
  int32_t numRanks = 0;
  std::unique_ptr<pcre2_code, CodeDeleter> regex;

  int32_t rankOf(const std::string &bytes) const {
    auto it = ranks.find(bytes);
    return it == ranks.end() ? -1 : it->second;
  }
  int32_t rankOf(std::string_view piece, size_t begin, size_t end) const {
    return rankOf(std::string(piece.substr(begin, end - begin)));
  }
  void bytePairEncode(std::string_view piece, std::vector<int32_t> &ids) const;
  Status encodeOrdinary(std::string_view text, std::vector<int32_t> &ids) const;
};

// tiktoken's byte_pair_merge: `parts` are the piece's boundaries; each holds
// the rank of the bytes from it to the boundary after next, the token its
// removal would make.
void TiktokenTokenizer::Impl::bytePairEncode(std::string_view piece,
                                             std::vector<int32_t> &ids) const {
  if (int32_t r = rankOf(std::string(piece)); r >= 0) {
    ids.push_back(r);
    return;
  }
  constexpr int32_t kNone = std::numeric_limits<int32_t>::max();
  struct Part {
    size_t start;
    int32_t rank;
  };
  std::vector<Part> parts;
  parts.reserve(piece.size() + 1);
  for (size_t i = 0; i <= piece.size(); ++i)
    parts.push_back({i, kNone});
  auto rankAt = [&](size_t i) -> int32_t {
    if (i + 2 >= parts.size())
      return kNone;
    int32_t r = rankOf(piece, parts[i].start, parts[i + 2].start);
    return r < 0 ? kNone : r;
  };
  for (size_t i = 0; i + 2 < parts.size(); ++i)
    parts[i].rank = rankAt(i);
  while (parts.size() > 2) {
    size_t best = 0;
    int32_t bestRank = kNone;
    for (size_t i = 0; i + 1 < parts.size(); ++i)
      if (parts[i].rank < bestRank) {
        bestRank = parts[i].rank;
        best = i;
      }
    if (bestRank == kNone)
      break;
    parts.erase(parts.begin() + best + 1);
    parts[best].rank = rankAt(best);
    if (best > 0)
      parts[best - 1].rank = rankAt(best - 1);
  }
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    // Every single byte is a token in a byte-level vocabulary (load checks).
    ids.push_back(rankOf(piece, parts[i].start, parts[i + 1].start));
  }
}

Status
TiktokenTokenizer::Impl::encodeOrdinary(std::string_view text,
                                        std::vector<int32_t> &ids) const {
  if (text.empty())
    return Status::success();
  std::unique_ptr<pcre2_match_data, MatchDataDeleter> match(
      pcre2_match_data_create_from_pattern(regex.get(), nullptr));
  if (!match)
    return fail("cannot tokenize the prompt: out of memory");
  const auto *subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  PCRE2_SIZE offset = 0;
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
    if (ov[1] == ov[0]) // the pattern matches nothing empty, but be safe
      break;
    bytePairEncode(text.substr(ov[0], ov[1] - ov[0]), ids);
    offset = ov[1];
  }
  return Status::success();
}

TiktokenTokenizer::TiktokenTokenizer(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {
  bosId_ = impl_->specials.at("<|begin_of_text|>");
}

TiktokenTokenizer::~TiktokenTokenizer() = default;

Status TiktokenTokenizer::load(const uint8_t *data, size_t bytes,
                               std::unique_ptr<TiktokenTokenizer> &out) {
  auto impl = std::make_unique<Impl>();
  std::string_view text(reinterpret_cast<const char *>(data), bytes);
  std::vector<std::pair<int64_t, std::string>> entries;
  size_t lineNo = 0;
  std::string token;
  for (size_t pos = 0; pos < text.size();) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos)
      eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++lineNo;
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (line.empty())
      continue;
    size_t space = line.find(' ');
    if (space == std::string_view::npos || space == 0 ||
        space + 1 == line.size())
      return fail("the tokenizer is not a valid tiktoken model: line %zu is "
                  "not `<base64> <rank>`",
                  lineNo);
    if (!decodeBase64(line.substr(0, space), token) || token.empty())
      return fail("the tokenizer is not a valid tiktoken model: line %zu has "
                  "bad base64",
                  lineNo);
    int64_t rank = 0;
    for (char c : line.substr(space + 1)) {
      if (c < '0' || c > '9' || rank > INT32_MAX / 10)
        return fail("the tokenizer is not a valid tiktoken model: line %zu "
                    "has a bad rank",
                    lineNo);
      rank = rank * 10 + (c - '0');
    }
    entries.emplace_back(rank, token);
  }
  if (entries.empty())
    return fail("the tokenizer is not a valid tiktoken model: it has no "
                "tokens");
  if (entries.size() > static_cast<size_t>(INT32_MAX - kNumSpecialTokens))
    return fail("the tokenizer is not a valid tiktoken model: too many "
                "tokens");
  // Ranks are the ids: each of [0, n) exactly once.
  const int32_t n = static_cast<int32_t>(entries.size());
  impl->pieces.assign(n, std::string());
  std::vector<bool> seen(n, false);
  for (auto &[rank, bytes] : entries) {
    if (rank >= n || seen[rank])
      return fail("the tokenizer is not a valid tiktoken model: rank %lld is "
                  "%s",
                  static_cast<long long>(rank),
                  rank >= n ? "out of range" : "repeated");
    seen[rank] = true;
    if (!impl->ranks.emplace(bytes, static_cast<int32_t>(rank)).second)
      return fail("the tokenizer is not a valid tiktoken model: a token "
                  "appears twice (rank %lld)",
                  static_cast<long long>(rank));
    impl->pieces[rank] = std::move(bytes);
  }
  for (int b = 0; b < 256; ++b)
    if (!impl->ranks.count(std::string(1, static_cast<char>(b))))
      return fail("the tokenizer is not a valid tiktoken model: byte 0x%02X "
                  "is not a token",
                  b);
  impl->numRanks = n;
  for (const std::string &name : llama3SpecialTokens()) {
    impl->specials.emplace(name, static_cast<int32_t>(impl->pieces.size()));
    impl->pieces.push_back(name);
  }

  int error = 0;
  PCRE2_SIZE errorOffset = 0;
  impl->regex.reset(pcre2_compile(reinterpret_cast<PCRE2_SPTR>(kPattern),
                                  PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP,
                                  &error, &errorOffset, nullptr));
  if (!impl->regex) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof message);
    return fail("cannot compile the pre-tokenizer regex: %s",
                reinterpret_cast<const char *>(message));
  }
  // JIT where PCRE2 has it; the interpreter otherwise.
  (void)pcre2_jit_compile(impl->regex.get(), PCRE2_JIT_COMPLETE);
  out.reset(new TiktokenTokenizer(std::move(impl)));
  return Status::success();
}

int64_t TiktokenTokenizer::vocabSize() const {
  return static_cast<int64_t>(impl_->pieces.size());
}

Status TiktokenTokenizer::encode(std::string_view text, bool addBos,
                                 std::vector<int32_t> &ids) const {
  ids.clear();
  if (addBos)
    ids.push_back(bosId_);
  // Special tokens are recognised anywhere in the text; what lies between
  // them is ordinary text.
  size_t start = 0, pos = 0;
  while ((pos = text.find("<|", pos)) != std::string_view::npos) {
    size_t close = text.find("|>", pos + 2);
    if (close == std::string_view::npos)
      break;
    auto it =
        impl_->specials.find(std::string(text.substr(pos, close + 2 - pos)));
    if (it == impl_->specials.end()) {
      pos += 1;
      continue;
    }
    if (Status s = impl_->encodeOrdinary(text.substr(start, pos - start), ids);
        !s.ok())
      return s;
    ids.push_back(it->second);
    start = pos = close + 2;
  }
  return impl_->encodeOrdinary(text.substr(start), ids);
}

Status TiktokenTokenizer::decode(const std::vector<int32_t> &ids,
                                 std::string &text) const {
  const int64_t vocab = vocabSize();
  std::string bytes;
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab)
      return fail("cannot decode token id %d: out of the tokenizer's range "
                  "[0, %lld)",
                  id, static_cast<long long>(vocab));
    bytes += impl_->pieces[id];
  }
  // Byte-level tokens may split a character; what is not UTF-8 reads as
  // U+FFFD, as in Hugging Face's decode (StreamDecoder waits on it).
  text = sanitizeUtf8(bytes);
  return Status::success();
}

std::string TiktokenTokenizer::tokenToPiece(int32_t id) const {
  if (id < 0 || id >= vocabSize())
    return std::string();
  return impl_->pieces[id];
}

} // namespace llamac::rt
