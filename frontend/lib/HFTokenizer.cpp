//===- HFTokenizer.cpp - a tokenizer.json for the runtime -------*- C++ -*-===//
//
// Reads the parts of a Hugging Face tokenizer.json that decide the ids
// (model, pre_tokenizer, normalizer, decoder, added_tokens, post_processor)
// and writes the runtime's "tokenizer.bpe" lines.
//
//===----------------------------------------------------------------------===//
#include "llamac/frontend/HFTokenizer.h"
#include "llamac/frontend/Json.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Base64.h"
#include "llvm/Support/ConvertUTF.h"
#include "llvm/Support/FormatVariadic.h"

#include <map>
#include <optional>
#include <vector>

using namespace llamac;
using nlohmann::json;

namespace {

// The pre-tokenizer of GPT-2's ByteLevel with use_regex (the default).
constexpr const char *kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

/// GPT-2's byte-level alphabet: the character each byte is spelled with in
/// the vocabulary (printable Latin-1 bytes as themselves, the others from
/// U+0100 on), inverted: code point -> byte.
std::map<uint32_t, uint8_t> byteLevelDecoder() {
  std::map<uint32_t, uint8_t> decoder;
  uint32_t next = 256;
  for (uint32_t b = 0; b < 256; ++b) {
    bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) ||
                     (b >= 0xAE && b <= 0xFF);
    decoder[printable ? b : next++] = static_cast<uint8_t>(b);
  }
  return decoder;
}

class Renderer {
public:
  Renderer(const json &root, llvm::StringRef path) : root_(root), path_(path) {}
  llvm::Expected<std::string> render();

private:
  llvm::Error error(const llvm::Twine &message) const {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   path_ + ": " + message);
  }
  // root_[key] if an object, else null.
  const json *objectAt(const json &parent, const char *key) const {
    auto it = parent.find(key);
    return it != parent.end() && it->is_object() ? &*it : nullptr;
  }
  static bool isSet(const json &object, const char *key) {
    auto it = object.find(key);
    if (it == object.end() || it->is_null())
      return false;
    if (it->is_boolean())
      return it->get<bool>();
    if (it->is_string())
      return !it->get<std::string>().empty();
    if (it->is_number())
      return it->get<double>() != 0;
    return true;
  }

  llvm::Error checkModel(const json &model) const;
  llvm::Error readPattern(std::string &pattern) const;
  llvm::Error readVocabulary(const json &model);
  llvm::Error readAddedTokens();
  llvm::Error readMerges(const json &model);
  void readBos();

  const json &root_;
  std::string path_;
  std::vector<std::string> pieces_;
  std::vector<bool> added_;
  llvm::StringMap<int32_t> vocabIds_; // byte-level spelling -> id
  std::vector<std::pair<int32_t, int32_t>> merges_;
  int32_t bos_ = -1;
};

llvm::Error Renderer::checkModel(const json &model) const {
  auto type = model.find("type");
  if (type != model.end() && *type != "BPE")
    return error("the tokenizer model is " + describeJson(*type) +
                 "; llamac reads byte-level BPE tokenizer.json files (for a "
                 "SentencePiece tokenizer, put its tokenizer.model beside "
                 "it)");
  if (isSet(model, "byte_fallback"))
    return error("the BPE model uses byte_fallback (a SentencePiece-style "
                 "tokenizer); put its tokenizer.model beside it");
  if (isSet(model, "dropout"))
    return error("the BPE model sets dropout, which llamac does not apply");
  if (isSet(model, "continuing_subword_prefix") ||
      isSet(model, "end_of_word_suffix"))
    return error("the BPE model sets continuing_subword_prefix or "
                 "end_of_word_suffix, which llamac does not implement");
  if (!objectAt(model, "vocab"))
    return error("the BPE model has no \"vocab\" object");
  auto merges = model.find("merges");
  if (merges == model.end() || !merges->is_array())
    return error("the BPE model has no \"merges\" array");
  return llvm::Error::success();
}

// The regex that cuts the text: ByteLevel's own (GPT-2), or a Split's
// before a ByteLevel that does not split again (Llama 3).
llvm::Error Renderer::readPattern(std::string &pattern) const {
  auto normalizer = root_.find("normalizer");
  if (normalizer != root_.end() && !normalizer->is_null())
    return error("the tokenizer has a normalizer (" +
                 describeJson(normalizer->value("type", json())) +
                 "), which llamac does not implement");
  const json *pre = objectAt(root_, "pre_tokenizer");
  std::vector<json> steps;
  if (pre && pre->value("type", "") == "Sequence" &&
      pre->contains("pretokenizers") && (*pre)["pretokenizers"].is_array())
    steps = (*pre)["pretokenizers"].get<std::vector<json>>();
  else if (pre)
    steps = {*pre};
  auto unsupported = [&]() {
    return error("the pre-tokenizer is not ByteLevel, or a regex Split and "
                 "then ByteLevel; llamac implements only those");
  };
  if (steps.empty() || steps.size() > 2 || !steps.back().is_object() ||
      steps.back().value("type", "") != "ByteLevel")
    return unsupported();
  const json &byteLevel = steps.back();
  if (isSet(byteLevel, "add_prefix_space"))
    return error("the ByteLevel pre-tokenizer sets add_prefix_space, which "
                 "llamac does not implement");
  bool useRegex = byteLevel.value("use_regex", true);
  if (steps.size() == 1) {
    if (!useRegex)
      return error("the ByteLevel pre-tokenizer splits nothing (use_regex "
                   "false and no Split before it)");
    pattern = kGpt2Pattern;
    return llvm::Error::success();
  }
  const json &split = steps.front();
  if (useRegex || !split.is_object() || split.value("type", "") != "Split")
    return unsupported();
  if (split.value("behavior", "") != "Isolated" || isSet(split, "invert"))
    return error("the Split pre-tokenizer is not behavior \"Isolated\" "
                 "without invert; llamac implements only that");
  const json *splitPattern = objectAt(split, "pattern");
  if (splitPattern && splitPattern->contains("Regex") &&
      (*splitPattern)["Regex"].is_string()) {
    pattern = (*splitPattern)["Regex"].get<std::string>();
  } else if (splitPattern && splitPattern->contains("String") &&
             (*splitPattern)["String"].is_string()) {
    // A literal: quoted for PCRE2 (\Q...\E cannot hold "\E" itself).
    std::string literal = (*splitPattern)["String"].get<std::string>();
    for (char c : literal) {
      if (!llvm::isAlnum(c) && static_cast<unsigned char>(c) < 0x80)
        pattern += '\\';
      pattern += c;
    }
  } else {
    return error("the Split pre-tokenizer has no Regex or String pattern");
  }
  if (pattern.empty())
    return error("the Split pre-tokenizer's pattern is empty");
  return llvm::Error::success();
}

llvm::Error Renderer::readVocabulary(const json &model) {
  static const std::map<uint32_t, uint8_t> decoder = byteLevelDecoder();
  const json &vocab = model["vocab"];
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 ||
        it.value().get<int64_t>() >= (int64_t(1) << 31) - 1)
      return error("vocabulary token " + jsonQuoted(it.key()) +
                   " has the id " + describeJson(it.value()) +
                   ", not a non-negative 32-bit integer");
    const auto id = static_cast<size_t>(it.value().get<int64_t>());
    // Spelled with GPT-2's byte-level characters: back to bytes.
    const std::string &spelling = it.key();
    std::string bytes;
    const auto *p = reinterpret_cast<const llvm::UTF8 *>(spelling.data());
    const auto *end = p + spelling.size();
    while (p < end) {
      llvm::UTF32 code = 0;
      if (llvm::convertUTF8Sequence(&p, end, &code, llvm::strictConversion) !=
          llvm::conversionOK)
        return error("vocabulary token " + jsonQuoted(spelling) +
                     " is not valid UTF-8");
      auto byte = decoder.find(code);
      if (byte == decoder.end())
        return error("vocabulary token " + jsonQuoted(spelling) +
                     " is not spelled in the byte-level alphabet (is this a "
                     "byte-level BPE?)");
      bytes.push_back(static_cast<char>(byte->second));
    }
    if (bytes.empty())
      return error("the vocabulary has an empty token");
    if (id >= pieces_.size()) {
      pieces_.resize(id + 1);
      added_.resize(id + 1);
    }
    if (!pieces_[id].empty())
      return error(llvm::formatv("two vocabulary tokens have the id {0}", id)
                       .str());
    pieces_[id] = std::move(bytes);
    vocabIds_[spelling] = static_cast<int32_t>(id);
  }
  return llvm::Error::success();
}

llvm::Error Renderer::readAddedTokens() {
  auto list = root_.find("added_tokens");
  if (list == root_.end() || list->is_null())
    return llvm::Error::success();
  if (!list->is_array())
    return error("\"added_tokens\" is not an array");
  for (const json &token : *list) {
    if (!token.is_object() || !token.contains("id") ||
        !token["id"].is_number_integer() || token["id"].get<int64_t>() < 0 ||
        token["id"].get<int64_t>() >= (int64_t(1) << 31) - 1 ||
        !token.contains("content") || !token["content"].is_string() ||
        token["content"].get<std::string>().empty())
      return error("an added token is not {\"id\": N, \"content\": TEXT}: " +
                   describeJson(token.value("content", json())));
    std::string content = token["content"].get<std::string>();
    if (isSet(token, "lstrip") || isSet(token, "rstrip") ||
        isSet(token, "single_word"))
      return error("added token " + jsonQuoted(content) +
                   " sets lstrip, rstrip or single_word, which llamac does "
                   "not implement");
    const auto id = static_cast<size_t>(token["id"].get<int64_t>());
    if (id >= pieces_.size()) {
      pieces_.resize(id + 1);
      added_.resize(id + 1);
    }
    // An added token may repeat a vocabulary entry; its text wins, as in
    // Hugging Face's id_to_token.
    pieces_[id] = std::move(content);
    added_[id] = true;
  }
  return llvm::Error::success();
}

llvm::Error Renderer::readMerges(const json &model) {
  for (const json &merge : model["merges"]) {
    std::string left, right;
    if (merge.is_string()) { // "left right"
      std::string text = merge.get<std::string>();
      size_t space = text.find(' ');
      if (space == std::string::npos || text.find(' ', space + 1) !=
                                            std::string::npos)
        return error("merge " + jsonQuoted(text) +
                     " is not two tokens separated by a space");
      left = text.substr(0, space);
      right = text.substr(space + 1);
    } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() &&
               merge[1].is_string()) { // ["left", "right"]
      left = merge[0].get<std::string>();
      right = merge[1].get<std::string>();
    } else {
      return error("a merge is neither \"LEFT RIGHT\" nor [LEFT, RIGHT]: " +
                   describeJson(merge));
    }
    auto l = vocabIds_.find(left), r = vocabIds_.find(right);
    if (l == vocabIds_.end() || r == vocabIds_.end())
      return error("merge " + jsonQuoted(left + " " + right) +
                   " names a token not in the vocabulary");
    if (!vocabIds_.count(left + right))
      return error("merge " + jsonQuoted(left + " " + right) +
                   " makes a token not in the vocabulary");
    merges_.emplace_back(l->second, r->second);
  }
  return llvm::Error::success();
}

// BOS: the special token the template puts before a single sequence.
void Renderer::readBos() {
  const json *processor = objectAt(root_, "post_processor");
  std::vector<json> processors;
  if (processor && processor->value("type", "") == "Sequence" &&
      processor->contains("processors") &&
      (*processor)["processors"].is_array())
    processors = (*processor)["processors"].get<std::vector<json>>();
  else if (processor)
    processors = {*processor};
  for (const json &p : processors) {
    if (!p.is_object() || p.value("type", "") != "TemplateProcessing")
      continue;
    auto single = p.find("single");
    if (single == p.end() || !single->is_array() || single->empty())
      continue;
    const json &first = (*single)[0];
    if (!first.is_object() || !first.contains("SpecialToken"))
      continue;
    std::string name = first["SpecialToken"].value("id", "");
    const json *specials = objectAt(p, "special_tokens");
    if (!specials || !specials->contains(name))
      continue;
    const json &ids = (*specials)[name].value("ids", json());
    if (ids.is_array() && ids.size() == 1 && ids[0].is_number_integer() &&
        ids[0].get<int64_t>() >= 0 &&
        ids[0].get<int64_t>() < static_cast<int64_t>(pieces_.size()))
      bos_ = static_cast<int32_t>(ids[0].get<int64_t>());
  }
}

llvm::Expected<std::string> Renderer::render() {
  if (!root_.is_object())
    return error("not a tokenizer.json (no top-level object)");
  const json *model = objectAt(root_, "model");
  if (!model)
    return error("not a tokenizer.json (no \"model\" object)");
  if (llvm::Error e = checkModel(*model))
    return std::move(e);
  const json *decoderJson = objectAt(root_, "decoder");
  if (!decoderJson || decoderJson->value("type", "") != "ByteLevel")
    return error("the decoder is not ByteLevel; llamac reads byte-level BPE "
                 "tokenizer.json files");
  std::string pattern;
  if (llvm::Error e = readPattern(pattern))
    return std::move(e);
  if (llvm::Error e = readVocabulary(*model))
    return std::move(e);
  if (llvm::Error e = readAddedTokens())
    return std::move(e);
  if (llvm::Error e = readMerges(*model))
    return std::move(e);
  for (size_t id = 0; id < pieces_.size(); ++id)
    if (pieces_[id].empty())
      return error(llvm::formatv("no token has the id {0} (the ids must be "
                                 "0 to {1} without gaps)",
                                 id, pieces_.size() - 1)
                       .str());
  readBos();

  std::string out;
  llvm::raw_string_ostream os(out);
  os << "llamac-bpe 1\n";
  os << "pattern " << llvm::encodeBase64(pattern) << "\n";
  os << "ignore-merges " << (isSet(*model, "ignore_merges") ? 1 : 0) << "\n";
  os << "bos " << bos_ << "\n";
  os << "tokens " << pieces_.size() << "\n";
  for (size_t id = 0; id < pieces_.size(); ++id)
    os << llvm::encodeBase64(pieces_[id]) << (added_[id] ? " a\n" : " n\n");
  os << "merges " << merges_.size() << "\n";
  for (auto [left, right] : merges_)
    os << left << " " << right << "\n";
  return out;
}

} // namespace

llvm::Expected<std::string> llamac::renderHFTokenizer(llvm::StringRef text,
                                                      llvm::StringRef path) {
  auto root = parseJson(text, path, "the tokenizer");
  if (!root)
    return root.takeError();
  try {
    return Renderer(*root, path).render();
  } catch (const json::exception &e) {
    // A value of an unexpected type somewhere the checks above did not
    // reach.
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   path + ": not a tokenizer.json llamac "
                                          "understands: " +
                                       e.what());
  }
}
