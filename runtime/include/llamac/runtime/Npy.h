//===- Npy.h - the --logits-out file: a float32 .npy, row by row -*- C++ -*-===//
//
// Rows are streamed to disk as the model produces them (a [ctx, vocab]
// matrix does not have to fit in memory twice); the header, whose row count
// is only known at the end, is rewritten in place by finish().
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_RUNTIME_NPY_H
#define LLAMAC_RUNTIME_NPY_H

#include "llamac/runtime/Status.h"

#include <cstdint>
#include <cstdio>
#include <string>

namespace llamac::rt {

class NpyWriter {
public:
  NpyWriter() = default;
  NpyWriter(const NpyWriter &) = delete;
  NpyWriter &operator=(const NpyWriter &) = delete;
  // A writer that was opened but not finished removes its file: a failed
  // run leaves no half-written .npy behind.
  ~NpyWriter();

  // Creates `path` for a [rows, cols] float32 C-order array.
  Status open(const std::string &path, int64_t cols);
  Status appendRow(const float *row);
  // Writes the final row count into the header and closes the file.
  Status finish();

  int64_t rows() const { return rows_; }

private:
  Status writeHeader();
  Status writeFailed();
  void removeIfRegular();

  std::string path_;
  std::FILE *file_ = nullptr;
  int64_t cols_ = 0;
  int64_t rows_ = 0;
  bool regular_ = false;
};

// The .npy v1.0 header (magic, version, length, dict, padding) for a
// [rows, cols] float32 array, padded to a multiple of 64 bytes and wide
// enough for any row count, so that every header for `cols` has one size.
std::string npyHeader(int64_t rows, int64_t cols);

} // namespace llamac::rt

#endif // LLAMAC_RUNTIME_NPY_H
