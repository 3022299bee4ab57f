//===- HFConfigTest.cpp - config.json reading -------------------*- C++ -*-===//
#include "llamac/frontend/HFConfig.h"

#include <gtest/gtest.h>

using namespace llamac;

namespace {
const char *kLlama2 = R"({
  "architectures": ["LlamaForCausalLM"], "model_type": "llama",
  "hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32,
  "num_attention_heads": 32, "max_position_embeddings": 4096,
  "rms_norm_eps": 1e-05, "vocab_size": 32000, "torch_dtype": "float16",
  "bos_token_id": 1, "eos_token_id": 2, "rope_scaling": null
})";

// Llama-3.1-8B's config.json, abridged to the fields llamac reads.
const char *kLlama31 = R"({
  "model_type": "llama", "hidden_size": 4096, "intermediate_size": 14336,
  "num_hidden_layers": 32, "num_attention_heads": 32,
  "num_key_value_heads": 8, "max_position_embeddings": 131072,
  "rms_norm_eps": 1e-05, "rope_theta": 500000.0, "vocab_size": 128256,
  "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009],
  "tie_word_embeddings": false, "torch_dtype": "bfloat16",
  "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0,
                   "high_freq_factor": 4.0,
                   "original_max_position_embeddings": 8192,
                   "rope_type": "llama3"}
})";

std::string errorOf(const std::string &text) {
  auto config = parseLlamaConfig(text, "config.json");
  if (config)
    return "";
  return llvm::toString(config.takeError());
}

/// kLlama2 with one field replaced (or added) by `field: value`.
std::string llama2With(const std::string &field, const std::string &value) {
  std::string text = kLlama2;
  size_t at = text.find("\"" + field + "\"");
  if (at == std::string::npos)
    return text.substr(0, text.size() - 1) + ", \"" + field + "\": " + value +
           "}";
  size_t colon = text.find(':', at);
  size_t end = text.find_first_of(",}", colon);
  return text.substr(0, colon + 1) + " " + value + text.substr(end);
}
} // namespace

TEST(HFConfig, Llama2DefaultsFollowTransformers) {
  auto config = parseLlamaConfig(kLlama2, "config.json");
  ASSERT_TRUE(bool(config)) << llvm::toString(config.takeError());
  EXPECT_EQ(config->numKVHeads, 32);   // defaults to num_attention_heads
  EXPECT_EQ(config->headDim, 128);     // hidden / heads
  EXPECT_EQ(config->ropeTheta, 10000.0);
  EXPECT_FALSE(config->tieWordEmbeddings);
  EXPECT_FALSE(config->ropeScaling.has_value());
  EXPECT_EQ(config->eosTokenIds, std::vector<int64_t>{2});
  EXPECT_EQ(config->torchDtype, "float16");
}

TEST(HFConfig, Llama31GqaAndRopeScaling) {
  auto config = parseLlamaConfig(kLlama31, "config.json");
  ASSERT_TRUE(bool(config)) << llvm::toString(config.takeError());
  EXPECT_EQ(config->numKVHeads, 8);
  EXPECT_EQ(config->ropeTheta, 500000.0);
  ASSERT_TRUE(config->ropeScaling.has_value());
  EXPECT_EQ(config->ropeScaling->factor, 8.0);
  EXPECT_EQ(config->ropeScaling->highFreqFactor, 4.0);
  EXPECT_EQ(config->ropeScaling->originalMaxPosition, 8192);
  EXPECT_EQ(config->eosTokenIds, (std::vector<int64_t>{128001, 128008, 128009}));
  EXPECT_EQ(config->bosTokenId, 128000);
}

// transformers 5 writes rope_theta inside "rope_parameters" (and no
// top-level rope_theta or rope_scaling); type "default" is no scaling.
TEST(HFConfig, Transformers5RopeParameters) {
  auto plain = parseLlamaConfig(
      llama2With("rope_parameters",
                 R"({"rope_theta": 500000.0, "rope_type": "default"})"),
      "config.json");
  ASSERT_TRUE(bool(plain)) << llvm::toString(plain.takeError());
  EXPECT_EQ(plain->ropeTheta, 500000.0);
  EXPECT_FALSE(plain->ropeScaling.has_value());
  auto scaled = parseLlamaConfig(
      llama2With("rope_parameters",
                 R"({"rope_theta": 500000.0, "rope_type": "llama3",
                     "factor": 32.0, "low_freq_factor": 1.0,
                     "high_freq_factor": 4.0,
                     "original_max_position_embeddings": 8192})"),
      "config.json");
  ASSERT_TRUE(bool(scaled)) << llvm::toString(scaled.takeError());
  EXPECT_EQ(scaled->ropeTheta, 500000.0);
  ASSERT_TRUE(scaled->ropeScaling.has_value());
  EXPECT_EQ(scaled->ropeScaling->factor, 32.0);
  EXPECT_EQ(scaled->ropeScaling->originalMaxPosition, 8192);
  // and "dtype" for 4.x's "torch_dtype".
  std::string v5 = kLlama2;
  v5.replace(v5.find("\"torch_dtype\""), 13, "\"dtype\"");
  auto renamed = parseLlamaConfig(v5, "config.json");
  ASSERT_TRUE(bool(renamed)) << llvm::toString(renamed.takeError());
  EXPECT_EQ(renamed->torchDtype, "float16");
  EXPECT_EQ(errorOf(llama2With("rope_parameters",
                               R"({"rope_type": "yarn", "factor": 4.0})")),
            "config.json: rope_parameters type \"yarn\" is not supported "
            "(llamac supports \"llama3\")");
  EXPECT_EQ(errorOf(llama2With("rope_parameters", "2")),
            "config.json: \"rope_parameters\" must be an object or null, got "
            "2");
}

TEST(HFConfig, ExplicitHeadDim) {
  auto config =
      parseLlamaConfig(llama2With("head_dim", "64"), "config.json");
  ASSERT_TRUE(bool(config)) << llvm::toString(config.takeError());
  EXPECT_EQ(config->headDim, 64);
}

TEST(HFConfig, RejectsUnsupportedModels) {
  EXPECT_EQ(errorOf(llama2With("model_type", "\"mistral\"")),
            "config.json: model_type \"mistral\" is not supported (llamac "
            "supports \"llama\")");
  EXPECT_EQ(errorOf(llama2With("hidden_act", "\"gelu\"")),
            "config.json: hidden_act \"gelu\" is not supported (LLaMA uses "
            "\"silu\")");
  EXPECT_EQ(errorOf(llama2With("attention_bias", "true")),
            "config.json: attention_bias = true is not supported");
  EXPECT_EQ(errorOf(llama2With("rope_scaling", "{\"type\": \"linear\", "
                                               "\"factor\": 2.0}")),
            "config.json: rope_scaling type \"linear\" is not supported "
            "(llamac supports \"llama3\")");
}

TEST(HFConfig, RejectsBadValues) {
  EXPECT_EQ(errorOf(llama2With("hidden_size", "\"4096\"")),
            "config.json: \"hidden_size\" must be an integer, got \"4096\"");
  EXPECT_EQ(errorOf(llama2With("hidden_size", "4096.5")),
            "config.json: \"hidden_size\" must be an integer, got 4096.5");
  EXPECT_EQ(errorOf(llama2With("num_hidden_layers", "-1")),
            "config.json: \"num_hidden_layers\" = -1 is out of range [1, "
            "4096]");
  EXPECT_EQ(errorOf(llama2With("vocab_size", "18446744073709551615")),
            "config.json: \"vocab_size\" = 18446744073709551615 is out of "
            "range [1, 16777216]");
  EXPECT_EQ(errorOf(llama2With("rms_norm_eps", "0")),
            "config.json: \"rms_norm_eps\" must be > 0, got 0");
  EXPECT_EQ(errorOf(llama2With("num_attention_heads", "30")),
            "config.json: hidden_size 4096 is not divisible by "
            "num_attention_heads 30 (and no head_dim is given)");
  EXPECT_EQ(errorOf(llama2With("head_dim", "63")),
            "config.json: head_dim 63 is odd; rotary embeddings need pairs");
  EXPECT_EQ(errorOf(llama2With("num_key_value_heads", "5")),
            "config.json: num_attention_heads 32 is not a multiple of "
            "num_key_value_heads 5");
  EXPECT_EQ(errorOf(llama2With("eos_token_id", "[2, \"x\"]")),
            "config.json: \"eos_token_id\" must be a non-negative integer or "
            "a list of them, got \"x\"");
  EXPECT_EQ(errorOf(llama2With("tie_word_embeddings", "1")),
            "config.json: \"tie_word_embeddings\" must be true or false, got "
            "1");
}

TEST(HFConfig, ErrorsStayOnOneLine) {
  // Names are quoted with their control characters escaped, and nested
  // values are described by kind rather than printed (which would recurse).
  EXPECT_EQ(errorOf(llama2With("model_type", "\"llama\\nextra\"")),
            "config.json: model_type \"llama\\nextra\" is not supported (llamac "
            "supports \"llama\")");
  EXPECT_EQ(errorOf(llama2With("hidden_size", "[[[1]]]")),
            "config.json: \"hidden_size\" must be an integer, got a JSON array");
  EXPECT_EQ(errorOf(llama2With("eos_token_id", "[]")),
            "config.json: \"eos_token_id\" is an empty list");
}

TEST(HFConfig, RejectsBadRopeScaling) {
  std::string scaling = R"({"rope_type": "llama3", "factor": 0.5})";
  EXPECT_EQ(errorOf(llama2With("rope_scaling", scaling)),
            "config.json: rope_scaling factor must be >= 1, got 0.50");
  EXPECT_EQ(errorOf(llama2With("rope_scaling", "[1]")),
            "config.json: \"rope_scaling\" must be an object or null, got a "
            "JSON array");
}

TEST(HFConfig, RejectsMissingFieldsAndSyntax) {
  EXPECT_EQ(errorOf(R"({"model_type": "llama"})"),
            "config.json: missing required field \"hidden_size\"");
  EXPECT_EQ(errorOf("[]"), "config.json: config is not a JSON object");
  EXPECT_NE(errorOf("{\"model_type\": ").find(
                "config.json: not valid JSON: parse error at line 1"),
            std::string::npos);
}
