//===- FloatBits.cpp - checkpoint elements to and from float ----*- C++ -*-===//
#include "llamac/frontend/FloatBits.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace llamac;

static float fromBits(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, 4);
  return value;
}

float llamac::halfToFloat(uint16_t half) {
  uint32_t sign = uint32_t(half & 0x8000) << 16;
  uint32_t exponent = (half >> 10) & 0x1f, mantissa = half & 0x3ff;
  if (exponent == 0) { // zero or subnormal: mantissa * 2^-24
    float value = float(mantissa) * (1.0f / 16777216.0f);
    return sign ? -value : value;
  }
  if (exponent == 31)
    return fromBits(sign | 0x7f800000 | mantissa << 13);
  return fromBits(sign | (exponent + 112) << 23 | mantissa << 13);
}

uint16_t llamac::floatToHalf(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  uint16_t sign = (bits >> 16) & 0x8000;
  uint32_t magnitude = bits & 0x7fffffff;
  if (magnitude >= 0x7f800000) // inf, nan
    return sign | (magnitude > 0x7f800000 ? 0x7e00 : 0x7c00);
  if (magnitude < 0x38800000) // below half's smallest normal, 2^-14
    return sign | uint16_t(std::nearbyint(fromBits(magnitude) * 16777216.0f));
  // Rebias, then round the 13 dropped bits to nearest even (a carry may
  // reach the exponent, and past 65504 infinity, as it should).
  uint32_t half = (magnitude - (112u << 23)) >> 13;
  uint32_t dropped = magnitude & 0x1fff;
  if (dropped > 0x1000 || (dropped == 0x1000 && (half & 1)))
    ++half;
  return sign | uint16_t(std::min<uint32_t>(half, 0x7c00));
}

uint16_t llamac::floatToBF16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  if ((bits & 0x7fffffff) > 0x7f800000) // nan stays nan
    return uint16_t(bits >> 16) | 0x40;
  return uint16_t((bits + 0x7fff + ((bits >> 16) & 1)) >> 16);
}

/// An element of a checkpoint tensor (F32, F16 or BF16) as a float.
float llamac::loadAsFloat(const uint8_t *at, DType dtype) {
  if (dtype == DType::F32) {
    float value;
    std::memcpy(&value, at, 4);
    return value;
  }
  uint16_t half;
  std::memcpy(&half, at, 2);
  return dtype == DType::BF16 ? fromBits(uint32_t(half) << 16)
                              : halfToFloat(half);
}

/// `value` in `dtype`, rounded to nearest even, at `at`.
void llamac::storeRounded(uint8_t *at, DType dtype, float value) {
  if (dtype == DType::F32) {
    std::memcpy(at, &value, 4);
    return;
  }
  uint16_t bits =
      dtype == DType::BF16 ? floatToBF16(value) : floatToHalf(value);
  std::memcpy(at, &bits, 2);
}
