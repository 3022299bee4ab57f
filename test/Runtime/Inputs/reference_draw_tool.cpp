//===- reference_draw_tool.cpp - the ABI's draw over --logits-out rows ----===//
//
// reference-draw ROWS.npy --from R --count N --listed K --temp T --top-k K
//                --top-p P --seed S
//
// Prints the N tokens that ModelABI.h's draw (reference_draw.h) picks from
// rows R, R+1, ... of a --logits-out file, given the numbers the runtime's
// seeded generator gives the model (one a tempered draw): what a compiled
// executable run with those settings must print (tests compare the two).
// The top lists come from sorting each row (NaN as -inf, the lower id
// first among equals). Standalone (the device scripts build it with g++).
//
//===----------------------------------------------------------------------===//
#include "llamac/runtime/Sampler.h"
#include "reference_draw.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

namespace {

[[noreturn]] void fail(const std::string &message) {
  std::cerr << "reference-draw: " << message << "\n";
  std::exit(2);
}

// A float32 C-order 2-D .npy (what --logits-out writes).
std::vector<float> readNpy(const std::string &path, int64_t &rows,
                           int64_t &cols) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    fail("cannot open " + path);
  char magic[10];
  if (!in.read(magic, 10) || std::memcmp(magic, "\x93NUMPY", 6) != 0)
    fail(path + " is not a .npy file");
  const size_t headerSize =
      size_t(uint8_t(magic[8])) | size_t(uint8_t(magic[9])) << 8;
  std::string header(headerSize, '\0');
  in.read(header.data(), std::streamsize(headerSize));
  if (header.find("'<f4'") == std::string::npos ||
      header.find("'fortran_order': False") == std::string::npos)
    fail(path + " is not float32 in C order");
  const size_t shape = header.find("'shape': (");
  if (shape == std::string::npos ||
      std::sscanf(header.c_str() + shape, "'shape': (%ld, %ld)", &rows,
                  &cols) != 2)
    fail(path + " is not 2-D");
  std::vector<float> data(size_t(rows * cols));
  if (!in.read(reinterpret_cast<char *>(data.data()),
               std::streamsize(data.size() * sizeof(float))))
    fail(path + " is shorter than its shape");
  return data;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2)
    fail("usage: reference-draw ROWS.npy --from R --count N --listed K "
         "--temp T --top-k K --top-p P --seed S");
  int64_t from = 0, count = 1, listed = 1;
  llamac::rt::SamplerOptions options;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const char *value = argv[i + 1];
    if (flag == "--from")
      from = std::atoll(value);
    else if (flag == "--count")
      count = std::atoll(value);
    else if (flag == "--listed")
      listed = std::atoll(value);
    else if (flag == "--temp")
      options.temperature = std::atof(value);
    else if (flag == "--top-k")
      options.topK = std::atoll(value);
    else if (flag == "--top-p")
      options.topP = std::atof(value);
    else if (flag == "--seed")
      options.seed = std::strtoull(value, nullptr, 10);
    else
      fail("unknown flag " + flag);
  }
  int64_t rows = 0, vocab = 0;
  const std::vector<float> data = readNpy(argv[1], rows, vocab);
  if (from < 0 || count < 1 || from + count > rows)
    fail("rows " + std::to_string(from) + ".." +
         std::to_string(from + count - 1) + " are not all in the file (" +
         std::to_string(rows) + " rows)");
  if (listed < 1 || listed > REFERENCE_DRAW_MAX_LISTED || listed > vocab)
    fail("--listed out of range");

  llamac::rt::Sampler generator(options);
  std::vector<int32_t> order(static_cast<size_t>(vocab));
  std::vector<float> topLogits(static_cast<size_t>(listed));
  for (int64_t r = from; r < from + count; ++r) {
    const float *row = data.data() + r * vocab;
    auto value = [&](int32_t i) {
      return std::isnan(row[i]) ? -std::numeric_limits<float>::infinity()
                                : row[i];
    };
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int32_t a, int32_t b) { return value(a) > value(b); });
    for (int64_t i = 0; i < listed; ++i)
      topLogits[size_t(i)] = value(order[size_t(i)]);
    const double settings[4] = {options.temperature,
                                static_cast<double>(options.topK), options.topP,
                                generator.greedy() ? 0.0 : generator.uniform()};
    std::cout << (r > from ? " " : "")
              << reference_next(row, vocab, topLogits.data(), order.data(),
                                int(listed), settings);
  }
  std::cout << "\n";
  return 0;
}
