//===- Payload.cpp - sections appended to the executable --------*- C++ -*-===//
#include "llamac/compiler/Payload.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"

#include <cstring>
#include <unistd.h>

using namespace llamac;
using llvm::Error;

namespace {
Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}
} // namespace

void llamac::writeZeros(llvm::raw_ostream &out, uint64_t count) {
  static const char zeros[4096] = {};
  while (count > 0) {
    uint64_t n = std::min<uint64_t>(count, sizeof(zeros));
    out.write(zeros, n);
    count -= n;
  }
}

llvm::Expected<std::unique_ptr<PayloadWriter>>
PayloadWriter::open(llvm::StringRef path, bool append) {
  // Offsets in the table are from the start of the file, so the stream must
  // know where it starts: open and seek to the end rather than O_APPEND,
  // under which the stream's position would start at 0.
  int fd;
  if (std::error_code ec = llvm::sys::fs::openFileForWrite(
          path, fd,
          append ? llvm::sys::fs::CD_OpenExisting
                 : llvm::sys::fs::CD_CreateAlways))
    return fail(path + ": " + ec.message());
  if (::lseek(fd, 0, SEEK_END) < 0) {
    ::close(fd);
    return fail(path + ": cannot seek to the end");
  }
  auto out = std::make_unique<llvm::raw_fd_ostream>(fd, /*shouldClose=*/true);
  return std::unique_ptr<PayloadWriter>(
      new PayloadWriter(path.str(), std::move(out)));
}

Error PayloadWriter::padTo(uint64_t offset) {
  uint64_t position = out_->tell();
  if (offset < position)
    return fail("internal error: payload offset moves backwards");
  writeZeros(*out_, offset - position);
  return Error::success();
}

Error PayloadWriter::addSection(
    llvm::StringRef name, uint64_t bytes,
    llvm::function_ref<Error(llvm::raw_ostream &)> write) {
  llamac_payload_section section = {};
  if (name.size() >= sizeof(section.name))
    return fail("internal error: payload section name too long: " + name);
  std::memcpy(section.name, name.data(), name.size());
  section.offset = llvm::alignTo(out_->tell(), LLAMAC_PAYLOAD_ALIGN);
  section.bytes = bytes;
  if (Error e = padTo(section.offset))
    return e;
  if (Error e = write(*out_))
    return e;
  if (out_->tell() != section.offset + bytes)
    return fail(llvm::formatv("internal error: payload section '{0}' wrote "
                              "{1} bytes, expected {2}",
                              name, out_->tell() - section.offset, bytes));
  sections_.push_back(section);
  return Error::success();
}

Error PayloadWriter::finish() {
  llamac_payload_trailer trailer = {};
  std::memcpy(trailer.magic, LLAMAC_PAYLOAD_MAGIC, sizeof(trailer.magic));
  trailer.version = LLAMAC_PAYLOAD_VERSION;
  trailer.num_sections = sections_.size();
  trailer.table_offset = llvm::alignTo(out_->tell(), 8);
  if (Error e = padTo(trailer.table_offset))
    return e;
  out_->write(reinterpret_cast<const char *>(sections_.data()),
              sections_.size() * sizeof(llamac_payload_section));
  out_->write(reinterpret_cast<const char *>(&trailer), sizeof(trailer));
  out_->close();
  if (out_->has_error()) {
    std::error_code ec = out_->error();
    out_->clear_error();
    return fail(path_ + ": write error: " + ec.message());
  }
  return Error::success();
}
