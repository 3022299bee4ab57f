//===- HFConfig.cpp - Hugging Face LLaMA config.json reader -----*- C++ -*-===//
#include "llamac/frontend/HFConfig.h"
#include "llamac/frontend/Json.h"

#include <cmath>

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

using namespace llamac;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;
using nlohmann::json;

namespace {
// Bounds well above any released LLaMA (hidden 16384, vocab 202048, 126
// layers) that keep every product of dims far from int64 overflow.
constexpr int64_t kMaxDim = int64_t(1) << 24;
constexpr int64_t kMaxLayers = 4096;

/// Reads fields of one JSON object, remembering the first error.
class FieldReader {
public:
  FieldReader(const json &object, StringRef path)
      : object_(object), path_(path) {}

  Error error(const llvm::Twine &message) const {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   path_ + ": " + message);
  }

  bool has(const char *key) const {
    auto it = object_.find(key);
    return it != object_.end() && !it->is_null();
  }

  /// An integer in [lo, hi]; `fallback` when absent, an error when required.
  Expected<int64_t> integer(const char *key, int64_t lo, int64_t hi,
                            std::optional<int64_t> fallback = std::nullopt) {
    if (!has(key)) {
      if (fallback)
        return *fallback;
      return error(llvm::Twine("missing required field \"") + key + "\"");
    }
    const json &value = object_.at(key);
    if (!value.is_number_integer())
      return error(llvm::Twine("\"") + key + "\" must be an integer, got " +
                   describeJson(value));
    if (value.is_number_unsigned() && value.get<uint64_t>() > uint64_t(hi))
      return outOfRange(key, describeJson(value), lo, hi);
    int64_t v = value.get<int64_t>();
    if (v < lo || v > hi)
      return outOfRange(key, describeJson(value), lo, hi);
    return v;
  }

  /// A finite number > 0; `fallback` when absent.
  Expected<double> positive(const char *key, double fallback) {
    if (!has(key))
      return fallback;
    const json &value = object_.at(key);
    if (!value.is_number())
      return error(llvm::Twine("\"") + key + "\" must be a number, got " +
                   describeJson(value));
    double v = value.get<double>();
    if (!(v > 0.0) || !std::isfinite(v))
      return error(llvm::Twine("\"") + key + "\" must be > 0, got " +
                   describeJson(value));
    return v;
  }

  Expected<bool> boolean(const char *key, bool fallback) {
    if (!has(key))
      return fallback;
    const json &value = object_.at(key);
    if (!value.is_boolean())
      return error(llvm::Twine("\"") + key + "\" must be true or false, got " +
                   describeJson(value));
    return value.get<bool>();
  }

  Expected<std::string> string(const char *key, std::string fallback) {
    if (!has(key))
      return fallback;
    const json &value = object_.at(key);
    if (!value.is_string())
      return error(llvm::Twine("\"") + key + "\" must be a string, got " +
                   describeJson(value));
    return value.get<std::string>();
  }

private:
  Error outOfRange(const char *key, const std::string &got, int64_t lo,
                   int64_t hi) const {
    return error(llvm::formatv("\"{0}\" = {1} is out of range [{2}, {3}]", key,
                               got, lo, hi));
  }

  const json &object_;
  StringRef path_;
};

/// The rope type in `value` (rope_scaling or rope_parameters): transformers
/// accepts both spellings, "type" the older one; "" when absent.
Expected<std::string> readRopeType(const json &value, StringRef path) {
  FieldReader fields(value, path);
  for (const char *key : {"rope_type", "type"}) {
    Expected<std::string> type = fields.string(key, "");
    if (!type || !type->empty())
      return type;
  }
  return std::string();
}

/// `value`, the object under `key`, as llama3 rope scaling.
Expected<RopeScalingLlama3> readRopeScaling(const json &value, StringRef path,
                                            const char *key) {
  FieldReader fields(value, path);
  Expected<std::string> type = readRopeType(value, path);
  if (!type)
    return type.takeError();
  if (*type != "llama3")
    return fields.error(llvm::Twine(key) + " type " + jsonQuoted(*type) +
                        " is not supported (llamac supports \"llama3\")");
  RopeScalingLlama3 scaling;
  Expected<double> factor = fields.positive("factor", scaling.factor);
  Expected<double> low =
      fields.positive("low_freq_factor", scaling.lowFreqFactor);
  Expected<double> high =
      fields.positive("high_freq_factor", scaling.highFreqFactor);
  Expected<int64_t> original =
      fields.integer("original_max_position_embeddings", 1, kMaxDim,
                     scaling.originalMaxPosition);
  if (!factor) return factor.takeError();
  if (!low) return low.takeError();
  if (!high) return high.takeError();
  if (!original) return original.takeError();
  if (*factor < 1.0)
    return fields.error(
        llvm::formatv("{0} factor must be >= 1, got {1}", key, *factor));
  if (!(*high > *low))
    return fields.error(llvm::formatv(
        "{0} high_freq_factor ({1}) must exceed low_freq_factor ({2})", key,
        *high, *low));
  return RopeScalingLlama3{*factor, *low, *high, *original};
}

Expected<std::vector<int64_t>> readTokenIds(const json &value, StringRef path,
                                            const char *key) {
  std::vector<int64_t> ids;
  auto add = [&](const json &id) -> Error {
    if (!id.is_number_integer() || id.get<int64_t>() < 0)
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     path + ": \"" + key +
                                         "\" must be a non-negative integer "
                                         "or a list of them, got " +
                                         describeJson(id));
    ids.push_back(id.get<int64_t>());
    return Error::success();
  };
  if (value.is_array()) {
    if (value.empty())
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     path + ": \"" + key +
                                         "\" is an empty list");
    for (const json &id : value)
      if (Error e = add(id))
        return std::move(e);
  } else if (Error e = add(value)) {
    return std::move(e);
  }
  return ids;
}
} // namespace

Expected<LlamaConfig> llamac::parseLlamaConfig(StringRef text, StringRef path) {
  Expected<json> parsed = parseJson(text, path, "");
  if (!parsed)
    return parsed.takeError();
  if (!parsed->is_object())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   path + ": config is not a JSON object");
  const json &root = *parsed;
  FieldReader fields(root, path);

  Expected<std::string> modelType = fields.string("model_type", "");
  if (!modelType)
    return modelType.takeError();
  if (*modelType != "llama")
    return fields.error("model_type " + jsonQuoted(*modelType) +
                        " is not supported (llamac supports \"llama\")");
  Expected<std::string> act = fields.string("hidden_act", "silu");
  if (!act)
    return act.takeError();
  if (*act != "silu")
    return fields.error("hidden_act " + jsonQuoted(*act) +
                        " is not supported (LLaMA uses \"silu\")");
  for (const char *bias : {"attention_bias", "mlp_bias"}) {
    Expected<bool> hasBias = fields.boolean(bias, false);
    if (!hasBias)
      return hasBias.takeError();
    if (*hasBias)
      return fields.error(llvm::Twine(bias) + " = true is not supported");
  }

  LlamaConfig config;
  auto set = [](int64_t &field, Expected<int64_t> value) -> Error {
    if (!value)
      return value.takeError();
    field = *value;
    return Error::success();
  };
  if (Error e = set(config.hiddenSize, fields.integer("hidden_size", 1, kMaxDim)))
    return std::move(e);
  if (Error e = set(config.intermediateSize,
                    fields.integer("intermediate_size", 1, kMaxDim)))
    return std::move(e);
  if (Error e = set(config.numLayers,
                    fields.integer("num_hidden_layers", 1, kMaxLayers)))
    return std::move(e);
  if (Error e = set(config.numHeads,
                    fields.integer("num_attention_heads", 1, kMaxDim)))
    return std::move(e);
  if (Error e = set(config.numKVHeads,
                    fields.integer("num_key_value_heads", 1, kMaxDim,
                                   config.numHeads)))
    return std::move(e);
  if (Error e = set(config.vocabSize, fields.integer("vocab_size", 1, kMaxDim)))
    return std::move(e);
  if (Error e = set(config.maxPositionEmbeddings,
                    fields.integer("max_position_embeddings", 1, kMaxDim,
                                   config.maxPositionEmbeddings)))
    return std::move(e);

  if (!fields.has("head_dim") && config.hiddenSize % config.numHeads != 0)
    return fields.error(llvm::formatv(
        "hidden_size {0} is not divisible by num_attention_heads {1} (and no "
        "head_dim is given)",
        config.hiddenSize, config.numHeads));
  if (Error e = set(config.headDim,
                    fields.integer("head_dim", 2, kMaxDim,
                                   config.hiddenSize / config.numHeads)))
    return std::move(e);
  if (config.headDim % 2 != 0)
    return fields.error(llvm::formatv(
        "head_dim {0} is odd; rotary embeddings need pairs", config.headDim));
  if (config.numHeads % config.numKVHeads != 0)
    return fields.error(llvm::formatv(
        "num_attention_heads {0} is not a multiple of num_key_value_heads {1}",
        config.numHeads, config.numKVHeads));
  if (config.numHeads * config.headDim > kMaxDim)
    return fields.error("num_attention_heads x head_dim is too large");

  Expected<double> eps = fields.positive("rms_norm_eps", config.rmsNormEps);
  Expected<double> theta = fields.positive("rope_theta", config.ropeTheta);
  Expected<bool> tie =
      fields.boolean("tie_word_embeddings", config.tieWordEmbeddings);
  // transformers 5 writes "dtype" where 4.x wrote "torch_dtype".
  Expected<std::string> dtype = fields.string("torch_dtype", "");
  if (dtype && dtype->empty())
    dtype = fields.string("dtype", "");
  if (!eps) return eps.takeError();
  if (!theta) return theta.takeError();
  if (!tie) return tie.takeError();
  if (!dtype) return dtype.takeError();
  config.rmsNormEps = *eps;
  config.ropeTheta = *theta;
  config.tieWordEmbeddings = *tie;
  config.torchDtype = *dtype;

  if (fields.has("rope_scaling")) {
    const json &scaling = root.at("rope_scaling");
    if (!scaling.is_object())
      return fields.error("\"rope_scaling\" must be an object or null, got " +
                          describeJson(scaling));
    Expected<RopeScalingLlama3> parsed =
        readRopeScaling(scaling, path, "rope_scaling");
    if (!parsed)
      return parsed.takeError();
    config.ropeScaling = *parsed;
  }
  // transformers 5 writes rope_theta and the scaling together as
  // "rope_parameters" (type "default": none); where present it is what
  // transformers runs.
  if (fields.has("rope_parameters")) {
    const json &rope = root.at("rope_parameters");
    if (!rope.is_object())
      return fields.error(
          "\"rope_parameters\" must be an object or null, got " +
          describeJson(rope));
    FieldReader ropeFields(rope, path);
    Expected<double> ropeTheta =
        ropeFields.positive("rope_theta", config.ropeTheta);
    Expected<std::string> type = readRopeType(rope, path);
    if (!ropeTheta)
      return ropeTheta.takeError();
    if (!type)
      return type.takeError();
    config.ropeTheta = *ropeTheta;
    config.ropeScaling.reset();
    if (!type->empty() && *type != "default") {
      Expected<RopeScalingLlama3> parsed =
          readRopeScaling(rope, path, "rope_parameters");
      if (!parsed)
        return parsed.takeError();
      config.ropeScaling = *parsed;
    }
  }
  if (fields.has("bos_token_id")) {
    Expected<int64_t> bos = fields.integer("bos_token_id", 0, kMaxDim);
    if (!bos)
      return bos.takeError();
    config.bosTokenId = *bos;
  }
  if (fields.has("eos_token_id")) {
    Expected<std::vector<int64_t>> eos =
        readTokenIds(root.at("eos_token_id"), path, "eos_token_id");
    if (!eos)
      return eos.takeError();
    config.eosTokenIds = std::move(*eos);
  }
  return config;
}

Expected<LlamaConfig> llamac::readLlamaConfig(StringRef dir) {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, "config.json");
  auto buffer = readSmallFile(path);
  if (!buffer)
    return buffer.takeError();
  return parseLlamaConfig((*buffer)->getBuffer(), path);
}
