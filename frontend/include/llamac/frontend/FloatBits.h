//===- FloatBits.h - checkpoint elements to and from float ------*- C++ -*-===//
//
// F32, F16 and BF16 elements read as float and written back rounded to
// nearest even, at the bit level: the weight packer scales billions of
// them (llama-fold-norm-gains), where APFloat would take minutes.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_FRONTEND_FLOATBITS_H
#define LLAMAC_FRONTEND_FLOATBITS_H

#include "llamac/frontend/DType.h"

#include <cstdint>

namespace llamac {

float halfToFloat(uint16_t half);
/// Round to nearest even; past 65504 to infinity, below 2^-14 to a
/// subnormal; NaN stays NaN.
uint16_t floatToHalf(float value);
/// Round to nearest even; NaN stays NaN.
uint16_t floatToBF16(float value);

/// The element at `at` (F32, F16 or BF16, unaligned) as a float.
float loadAsFloat(const uint8_t *at, DType dtype);
/// `value` stored at `at` in `dtype` (F32, F16 or BF16), rounded.
void storeRounded(uint8_t *at, DType dtype, float value);

} // namespace llamac

#endif // LLAMAC_FRONTEND_FLOATBITS_H
