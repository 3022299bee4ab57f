// The packer's bit-level element conversions against LLVM's APFloat (round
// to nearest even), on every half and on floats around each edge.
#include "llamac/frontend/FloatBits.h"

#include "llvm/ADT/APFloat.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

using namespace llamac;

namespace {
uint16_t reference(float value, const llvm::fltSemantics &semantics) {
  llvm::APFloat converted(value);
  bool lostInfo;
  converted.convert(semantics, llvm::APFloat::rmNearestTiesToEven, &lostInfo);
  return uint16_t(converted.bitcastToAPInt().getZExtValue());
}

float fromBits(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, 4);
  return value;
}

/// Floats at and next to the halves' and bf16s' rounding points, plus
/// random ones over the whole range.
std::vector<float> probes() {
  std::vector<float> values = {0.0f,
                               -0.0f,
                               1.0f,
                               65504.0f,
                               65519.0f,
                               65520.0f,
                               65536.0f,
                               1e-8f,
                               6.1e-5f,
                               5.96e-8f,
                               2.98e-8f,
                               -3.0e38f,
                               std::numeric_limits<float>::infinity(),
                               -std::numeric_limits<float>::infinity(),
                               std::numeric_limits<float>::denorm_min()};
  for (uint32_t half = 0; half < 0x7c00; ++half) {
    // Each half, the midpoints to its neighbour, and one float either side.
    uint32_t bits;
    float value = halfToFloat(uint16_t(half));
    std::memcpy(&bits, &value, 4);
    for (int32_t delta : {-1, 0, 1, 0x1000 - 1, 0x1000, 0x1000 + 1})
      values.push_back(fromBits(bits + delta));
  }
  std::mt19937 random(42);
  for (int i = 0; i < 1000000; ++i)
    values.push_back(fromBits(random() & 0x7f7fffff | (i & 1) << 31));
  return values;
}
} // namespace

TEST(FloatBits, EveryHalfConvertsExactly) {
  for (uint32_t half = 0; half < 0x10000; ++half) {
    float value = halfToFloat(uint16_t(half));
    llvm::APFloat expected(llvm::APFloat::IEEEhalf(), llvm::APInt(16, half));
    if (expected.isNaN()) {
      EXPECT_TRUE(std::isnan(value)) << half;
      EXPECT_TRUE(std::isnan(halfToFloat(floatToHalf(value)))) << half;
      continue;
    }
    EXPECT_EQ(value, expected.convertToFloat()) << half;
    EXPECT_EQ(floatToHalf(value), half) << half;
  }
}

// NaNs (a probe's neighbour may be one) stay NaNs; their payloads may
// differ from APFloat's.
TEST(FloatBits, HalfRoundsToNearestEven) {
  for (float value : probes()) {
    if (std::isnan(value)) {
      ASSERT_TRUE(std::isnan(halfToFloat(floatToHalf(value))));
      continue;
    }
    ASSERT_EQ(floatToHalf(value), reference(value, llvm::APFloat::IEEEhalf()))
        << value;
  }
}

TEST(FloatBits, BF16RoundsToNearestEven) {
  for (float value : probes()) {
    uint16_t bf16 = floatToBF16(value);
    if (std::isnan(value)) {
      ASSERT_TRUE(std::isnan(
          loadAsFloat(reinterpret_cast<const uint8_t *>(&bf16), DType::BF16)));
      continue;
    }
    ASSERT_EQ(bf16, reference(value, llvm::APFloat::BFloat())) << value;
  }
}

TEST(FloatBits, StoresAndLoadsEachDType) {
  uint8_t bytes[4];
  storeRounded(bytes, DType::F32, 1.5f);
  EXPECT_EQ(loadAsFloat(bytes, DType::F32), 1.5f);
  storeRounded(bytes, DType::BF16, 1.0f + 1.0f / 512); // a tie: stays 1
  EXPECT_EQ(loadAsFloat(bytes, DType::BF16), 1.0f);
  storeRounded(bytes, DType::F16, 1.0f + 3.0f / 2048); // a tie: rounds up
  EXPECT_EQ(loadAsFloat(bytes, DType::F16), 1.0f + 2.0f / 1024);
}
