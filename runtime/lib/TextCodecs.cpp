//===- TextCodecs.cpp - base64 and UTF-8 repair for tokenizers --*- C++ -*-===//
//
// Both byte-level BPE formats spell tokens in base64; decoding byte-level
// tokens repairs the UTF-8 of a sequence that splits a character.
//
//===----------------------------------------------------------------------===//
#include "BytePairVocabulary.h"

namespace llamac::rt {

namespace {

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

} // namespace

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

} // namespace llamac::rt
