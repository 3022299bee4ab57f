//===- Npy.cpp - the --logits-out file: a float32 .npy, row by row -*- C++ -*-===//
//
// Format: numpy's NEP 1 "npy" v1.0: "\x93NUMPY", 1, 0, a little-endian uint16
// header length, then a Python dict literal padded with spaces and ended by
// '\n' so that the data starts at a multiple of 64 bytes.
//
//===----------------------------------------------------------------------===//
#include "llamac/runtime/Npy.h"

#include <cerrno>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

namespace llamac::rt {

std::string npyHeader(int64_t rows, int64_t cols) {
  const uint16_t probe = 1;
  const bool little = *reinterpret_cast<const uint8_t *>(&probe) == 1;
  std::string dict = format("{'descr': '%cf4', 'fortran_order': False, "
                            "'shape': (%lld, %lld), }",
                            little ? '<' : '>', static_cast<long long>(rows),
                            static_cast<long long>(cols));
  // Room for a row count of 20 digits, whatever `rows` is now.
  const size_t widest = dict.size() - format("%lld", (long long)rows).size() + 20;
  const size_t prefix = 10; // magic (6) + version (2) + length (2)
  const size_t total = (prefix + widest + 1 + 63) / 64 * 64;
  const size_t headerLength = total - prefix;
  dict.append(headerLength - 1 - dict.size(), ' ');
  dict.push_back('\n');
  std::string header("\x93NUMPY\x01\x00", 8);
  header.push_back(static_cast<char>(headerLength & 0xff));
  header.push_back(static_cast<char>(headerLength >> 8));
  return header + dict;
}

NpyWriter::~NpyWriter() {
  if (file_) {
    std::fclose(file_);
    removeIfRegular();
  }
}

// Only a file this run wrote is removed, never a device such as /dev/full.
void NpyWriter::removeIfRegular() {
  if (regular_)
    unlink(path_.c_str());
}

Status NpyWriter::writeFailed() {
  return fail("%s: cannot write: %s", path_.c_str(),
              errno ? std::strerror(errno) : "write error");
}

Status NpyWriter::open(const std::string &path, int64_t cols) {
  path_ = path;
  cols_ = cols;
  rows_ = 0;
  file_ = std::fopen(path.c_str(), "wb");
  if (!file_)
    return fail("%s: cannot write: %s", path.c_str(), std::strerror(errno));
  struct stat st;
  regular_ = fstat(fileno(file_), &st) == 0 && S_ISREG(st.st_mode);
  return writeHeader();
}

Status NpyWriter::writeHeader() {
  const std::string header = npyHeader(rows_, cols_);
  errno = 0;
  if (std::fseek(file_, 0, SEEK_SET) != 0 ||
      std::fwrite(header.data(), 1, header.size(), file_) != header.size())
    return writeFailed();
  return Status::success();
}

Status NpyWriter::appendRow(const float *row) {
  errno = 0;
  if (std::fwrite(row, sizeof(float), static_cast<size_t>(cols_), file_) !=
      static_cast<size_t>(cols_))
    return writeFailed();
  ++rows_;
  return Status::success();
}

Status NpyWriter::finish() {
  if (Status s = writeHeader(); !s.ok())
    return s;
  errno = 0;
  std::FILE *file = file_;
  file_ = nullptr;
  if (std::fclose(file) != 0) {
    Status s = writeFailed();
    removeIfRegular();
    return s;
  }
  return Status::success();
}

} // namespace llamac::rt
