//===- Cli.cpp - the generated executable's command line ---------*- C++ -*-===//
//
// A small table of flags and a loop over argv: no getopt, so that the error
// messages name the flag as the user spelled it and the ranges the user may
// use, and so that long flags take both `--flag VALUE` and `--flag=VALUE`.
//
//===----------------------------------------------------------------------===//
#include "llamac/runtime/Cli.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

#define LLAMAC_RUNTIME_VERSION "0.1.0"

namespace llamac::rt {

namespace {

enum class Flag {
  Prompt, NPredict, CtxSize, Temp, TopK, TopP, Seed, Tokens, LogitsOut,
  Weights, IgnoreEos, Help, Version
};

struct FlagSpec {
  const char *shortName; // may be null
  const char *longName;
  Flag flag;
  bool takesValue;
};

constexpr FlagSpec kFlags[] = {
    {"-p", "--prompt", Flag::Prompt, true},
    {"-n", "--n-predict", Flag::NPredict, true},
    {"-c", "--ctx-size", Flag::CtxSize, true},
    {nullptr, "--temp", Flag::Temp, true},
    {nullptr, "--top-k", Flag::TopK, true},
    {nullptr, "--top-p", Flag::TopP, true},
    {nullptr, "--seed", Flag::Seed, true},
    {nullptr, "--tokens", Flag::Tokens, true},
    {nullptr, "--logits-out", Flag::LogitsOut, true},
    {nullptr, "--weights", Flag::Weights, true},
    {nullptr, "--ignore-eos", Flag::IgnoreEos, false},
    {"-h", "--help", Flag::Help, false},
    {nullptr, "--version", Flag::Version, false},
};

const FlagSpec *findFlag(const std::string &name) {
  for (const FlagSpec &spec : kFlags)
    if ((spec.shortName && name == spec.shortName) || name == spec.longName)
      return &spec;
  return nullptr;
}

// strtoll/strtod skip leading blanks; a flag value with them is a typo.
bool startsClean(const char *text) {
  return *text != '\0' && !std::isspace(static_cast<unsigned char>(*text));
}

Status parseInt(const std::string &flag, const char *text, int64_t &out) {
  errno = 0;
  char *end = nullptr;
  long long value = std::strtoll(text, &end, 10);
  if (!startsClean(text) || *end != '\0' || errno == ERANGE)
    return fail("%s '%s' is not an integer", flag.c_str(), text);
  out = value;
  return Status::success();
}

Status parseFloat(const std::string &flag, const char *text, double &out) {
  errno = 0;
  char *end = nullptr;
  double value = std::strtod(text, &end);
  if (!startsClean(text) || *end != '\0')
    return fail("%s '%s' is not a number", flag.c_str(), text);
  out = value;
  return Status::success();
}

// "1,5,9" (blanks are also accepted as separators, so "1 5 9" works too).
Status parseTokenList(const std::string &flag, const char *text,
                      std::vector<int64_t> &out) {
  out.clear();
  const char *p = text;
  while (true) {
    while (*p == ',' || std::isspace(static_cast<unsigned char>(*p)))
      ++p;
    if (*p == '\0')
      return Status::success();
    const char *start = p;
    while (*p != '\0' && *p != ',' && !std::isspace(static_cast<unsigned char>(*p)))
      ++p;
    std::string item(start, p);
    errno = 0;
    char *end = nullptr;
    long long value = std::strtoll(item.c_str(), &end, 10);
    if (*end != '\0' || errno == ERANGE)
      return fail("%s: '%s' is not a token id", flag.c_str(), item.c_str());
    out.push_back(value);
  }
}

Status applyFlag(const FlagSpec &spec, const std::string &flag,
                 const char *value, const llamac_model_info &model,
                 Options &options) {
  switch (spec.flag) {
  case Flag::Prompt:
    options.prompt = value;
    return Status::success();
  case Flag::Tokens: {
    std::vector<int64_t> ids;
    if (Status s = parseTokenList(flag, value, ids); !s.ok())
      return s;
    options.tokens = std::move(ids);
    return Status::success();
  }
  case Flag::NPredict: {
    int64_t n = 0;
    if (Status s = parseInt(flag, value, n); !s.ok())
      return s;
    if (n < 0)
      return fail("%s %s is out of range [0, inf)", flag.c_str(), value);
    options.nPredict = n;
    return Status::success();
  }
  case Flag::CtxSize: {
    int64_t n = 0;
    if (Status s = parseInt(flag, value, n); !s.ok())
      return s;
    if (n < 1 || n > model.ctx_size)
      return fail("%s %s is out of range [1, %lld] (the compiled context size)",
                  flag.c_str(), value, static_cast<long long>(model.ctx_size));
    options.ctxSize = n;
    return Status::success();
  }
  case Flag::Temp: {
    double t = 0;
    if (Status s = parseFloat(flag, value, t); !s.ok())
      return s;
    if (!(t >= 0) || !std::isfinite(t))
      return fail("%s %s is out of range [0, inf)", flag.c_str(), value);
    options.temperature = t;
    return Status::success();
  }
  case Flag::TopK: {
    int64_t k = 0;
    if (Status s = parseInt(flag, value, k); !s.ok())
      return s;
    if (k < 0)
      return fail("%s %s is out of range [0, inf)", flag.c_str(), value);
    options.topK = k;
    return Status::success();
  }
  case Flag::TopP: {
    double p = 0;
    if (Status s = parseFloat(flag, value, p); !s.ok())
      return s;
    if (!(p > 0 && p <= 1))
      return fail("%s %s is out of range (0, 1]", flag.c_str(), value);
    options.topP = p;
    return Status::success();
  }
  case Flag::Seed: {
    // -1 means "from the clock", as in llama.cpp; otherwise any uint64.
    if (std::strcmp(value, "-1") == 0) {
      options.seed.reset();
      return Status::success();
    }
    errno = 0;
    char *end = nullptr;
    unsigned long long seed = std::strtoull(value, &end, 10);
    if (!std::isdigit(static_cast<unsigned char>(value[0])) || *end != '\0' ||
        errno == ERANGE)
      return fail("%s '%s' is not a seed (an integer in [0, 2^64) or -1)",
                  flag.c_str(), value);
    options.seed = seed;
    return Status::success();
  }
  case Flag::LogitsOut:
    if (*value == '\0')
      return fail("%s needs a file name", flag.c_str());
    options.logitsOut = value;
    return Status::success();
  case Flag::Weights:
    if (*value == '\0')
      return fail("%s needs a file name", flag.c_str());
    options.weights = value;
    return Status::success();
  case Flag::IgnoreEos:
    options.ignoreEos = true;
    return Status::success();
  case Flag::Help:
    options.help = true;
    return Status::success();
  case Flag::Version:
    options.version = true;
    return Status::success();
  }
  return fail("internal error: unhandled flag %s", flag.c_str());
}

} // namespace

Status parseCli(int argc, char **argv, const llamac_model_info &model,
                Options &options) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string name = arg;
    std::optional<std::string> inlineValue;
    if (arg.rfind("--", 0) == 0) {
      size_t eq = arg.find('=');
      if (eq != std::string::npos) {
        name = arg.substr(0, eq);
        inlineValue = arg.substr(eq + 1);
      }
    }
    if (arg.size() < 2 || arg[0] != '-')
      return fail("unexpected argument '%s' (see --help)", arg.c_str());
    const FlagSpec *spec = findFlag(name);
    if (!spec)
      return fail("unknown flag '%s' (see --help)", name.c_str());
    if (!spec->takesValue && inlineValue)
      return fail("%s takes no value", name.c_str());
    const char *value = nullptr;
    if (spec->takesValue) {
      if (inlineValue) {
        value = inlineValue->c_str();
      } else {
        if (i + 1 >= argc)
          return fail("%s needs a value", name.c_str());
        value = argv[++i];
      }
    }
    if (Status s = applyFlag(*spec, name, value, model, options); !s.ok())
      return s;
  }
  if (options.help || options.version)
    return Status::success();
  if (options.prompt && options.tokens)
    return fail("-p/--prompt and --tokens are mutually exclusive");
  if (!options.prompt && !options.tokens)
    return fail("no prompt: pass -p TEXT or --tokens IDS (see --help)");
  if (options.ctxSize == 0)
    options.ctxSize = model.ctx_size;
  return Status::success();
}

std::string usage(const char *program, const llamac_model_info &model) {
  long long ctx = static_cast<long long>(model.ctx_size);
  return format(
      "usage: %s [options] (-p TEXT | --tokens IDS)\n"
      "\n"
      "Runs the LLaMA model compiled into this executable: processes the\n"
      "prompt, then generates up to -n tokens.\n"
      "\n"
      "options:\n"
      "  -p, --prompt TEXT      the prompt as text (needs a tokenizer; adds "
      "BOS)\n"
      "      --tokens IDS       the prompt as token ids, e.g. 1,5,9, used "
      "exactly\n"
      "                         as given (no BOS added)\n"
      "  -n, --n-predict N      tokens to generate (default: %lld, or what "
      "the\n"
      "                         context leaves if less; 0 = only process the "
      "prompt)\n"
      "  -c, --ctx-size N       context size, 1..%lld: prompt + -n must fit\n"
      "                         (default: %lld, the compiled size)\n"
      "      --temp F           temperature, >= 0 (default: 0.8; 0 = greedy)\n"
      "      --top-k N          keep the N most likely tokens (default: 40; 0 "
      "= off)\n"
      "      --top-p F          nucleus sampling, in (0, 1] (default: 0.95; 1 "
      "= off)\n"
      "      --seed N           sampling seed (default: -1 = from the clock)\n"
      "      --logits-out FILE  write the logits of every position the model\n"
      "                         processed to FILE, a float32 .npy of shape\n"
      "                         [rows, %lld]: one row per prompt token, then "
      "one\n"
      "                         per generated token fed back (a sampled EOS "
      "is\n"
      "                         not fed back, so it has no row); an "
      "executable\n"
      "                         compiled without --logits-all computes the\n"
      "                         prompt's rows a token at a time\n"
      "      --weights FILE     read the weights payload from FILE (default: "
      "the\n"
      "                         end of this executable, else EXE.weights)\n"
      "      --ignore-eos       keep generating after an end-of-sequence "
      "token\n"
      "  -h, --help             print this help and exit\n"
      "      --version          print the version and exit\n"
      "\n"
      "output: what is generated, on stdout as it comes, then a newline: for\n"
      "-p the text (decoded by the tokenizer compiled in), for --tokens the\n"
      "token ids separated by spaces (a sampled EOS id is printed, then\n"
      "generation stops); one statistics line on stderr; errors as one\n"
      "`error:` line on stderr and exit code 1.\n",
      program, static_cast<long long>(kDefaultNPredict), ctx, ctx,
      static_cast<long long>(model.vocab_size));
}

std::string versionText(const llamac_model_info &model) {
  const std::string longChunk =
      model.prefill_long_chunk
          ? format(" and %lld",
                   static_cast<long long>(model.prefill_long_chunk))
          : "";
  return format(
      "llamac runtime " LLAMAC_RUNTIME_VERSION
      " (model ABI %d, payload format %d)\n"
      "model: vocab %lld, context %lld, batch %lld, prefill chunk %lld%s "
      "(logits of %s), %lld layers, hidden %lld, %lld heads (%lld kv) of "
      "%lld, top lists of %lld\n",
      LLAMAC_ABI_VERSION, LLAMAC_PAYLOAD_VERSION,
      static_cast<long long>(model.vocab_size),
      static_cast<long long>(model.ctx_size),
      static_cast<long long>(model.batch),
      static_cast<long long>(model.prefill_chunk), longChunk.c_str(),
      model.prefill_logits_rows == 1 && model.prefill_chunk > 1
          ? "the last token"
          : "every token",
      static_cast<long long>(model.num_layers),
      static_cast<long long>(model.hidden_size),
      static_cast<long long>(model.num_heads),
      static_cast<long long>(model.num_kv_heads),
      static_cast<long long>(model.head_dim),
      static_cast<long long>(model.sampling_candidates));
}

} // namespace llamac::rt
