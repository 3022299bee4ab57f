//===- Payload.cpp - finding, checking and mapping the payload ---*- C++ -*-===//
//
// Every number in the trailer and the table is checked against the file's
// size before it is used, so a truncated or corrupt payload is an error line
// rather than a fault on first touch of a mapping.
//
//===----------------------------------------------------------------------===//
#include "llamac/runtime/Payload.h"
#include "llamac/abi/ModelABI.h"

#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace llamac::rt {

static_assert(sizeof(llamac_payload_trailer) == 24, "trailer layout");
static_assert(sizeof(llamac_payload_section) == 40, "section layout");

Mapping &Mapping::operator=(Mapping &&other) noexcept {
  if (this != &other) {
    reset();
    base_ = other.base_;
    length_ = other.length_;
    data_ = other.data_;
    other.base_ = nullptr;
    other.length_ = 0;
    other.data_ = nullptr;
  }
  return *this;
}

void Mapping::reset() {
  if (base_)
    munmap(base_, length_);
  base_ = nullptr;
  length_ = 0;
  data_ = nullptr;
}

namespace {

// An open file descriptor, closed on destruction (the mappings outlive it).
class File {
public:
  File() = default;
  File(const File &) = delete;
  File &operator=(const File &) = delete;
  ~File() {
    if (fd_ >= 0)
      close(fd_);
  }
  // errno is kept for the caller's message.
  bool open(const std::string &path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    return fd_ >= 0;
  }
  int fd() const { return fd_; }

private:
  int fd_ = -1;
};

bool readAt(int fd, void *buffer, size_t bytes, uint64_t offset) {
  auto *out = static_cast<char *>(buffer);
  while (bytes > 0) {
    ssize_t n = pread(fd, out, bytes, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR)
      continue;
    if (n == 0)
      errno = 0; // a short file, not a failed read
    if (n <= 0)
      return false;
    out += n;
    bytes -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return true;
}

// An opened candidate file: its size and, when present, its trailer.
struct Candidate {
  File file;
  uint64_t size = 0;
  bool hasTrailer = false;
  llamac_payload_trailer trailer{};
};

// Opens `path`; a missing file is reported through `missing` (not an error)
// so that the caller can fall back to the next place.
Status openCandidate(const std::string &path, Candidate &c, bool *missing) {
  if (missing)
    *missing = false;
  if (!c.file.open(path)) {
    if (missing && errno == ENOENT) {
      *missing = true;
      return Status::success();
    }
    return fail("%s: cannot open: %s", path.c_str(), std::strerror(errno));
  }
  struct stat st;
  if (fstat(c.file.fd(), &st) != 0)
    return fail("%s: cannot stat: %s", path.c_str(), std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    return fail("%s: not a regular file", path.c_str());
  c.size = static_cast<uint64_t>(st.st_size);
  if (c.size < sizeof(llamac_payload_trailer))
    return Status::success();
  if (!readAt(c.file.fd(), &c.trailer, sizeof(c.trailer),
              c.size - sizeof(c.trailer)))
    return fail("%s: cannot read: %s", path.c_str(),
                errno ? std::strerror(errno) : "unexpected end of file");
  c.hasTrailer = std::memcmp(c.trailer.magic, LLAMAC_PAYLOAD_MAGIC,
                             sizeof(c.trailer.magic)) == 0;
  return Status::success();
}

std::string sectionName(const llamac_payload_section &s) {
  return std::string(s.name, strnlen(s.name, sizeof(s.name)));
}

// Checks the trailer and the table of `c` (which has a trailer) and maps
// every section.
Status readPayload(const std::string &path, Candidate &c, int64_t weightsBytes,
                   std::vector<PayloadSection> &sections) {
  const llamac_payload_trailer &t = c.trailer;
  if (t.version != LLAMAC_PAYLOAD_VERSION)
    return fail("%s: payload format version %u, this runtime reads version %d",
                path.c_str(), t.version, LLAMAC_PAYLOAD_VERSION);
  // The table lies between the section data and the trailer.
  const uint64_t tableEnd = c.size - sizeof(llamac_payload_trailer);
  const uint64_t tableBytes =
      uint64_t(t.num_sections) * sizeof(llamac_payload_section);
  if (t.table_offset > tableEnd || tableBytes > tableEnd - t.table_offset)
    return fail("%s: corrupt payload: the section table (%u entries at offset "
                "%llu) does not fit before the trailer at offset %llu",
                path.c_str(), t.num_sections,
                static_cast<unsigned long long>(t.table_offset),
                static_cast<unsigned long long>(tableEnd));
  std::vector<llamac_payload_section> table(t.num_sections);
  if (tableBytes > 0 &&
      !readAt(c.file.fd(), table.data(), tableBytes, t.table_offset))
    return fail("%s: cannot read the section table: %s", path.c_str(),
                errno ? std::strerror(errno) : "unexpected end of file");

  const long page = sysconf(_SC_PAGESIZE) > 0 ? sysconf(_SC_PAGESIZE) : 4096;
  sections.clear();
  sections.reserve(table.size());
  for (const llamac_payload_section &entry : table) {
    std::string name = sectionName(entry);
    if (name.empty())
      return fail("%s: corrupt payload: a section has no name", path.c_str());
    for (const PayloadSection &seen : sections)
      if (seen.name == name)
        return fail("%s: corrupt payload: two sections named '%s'",
                    path.c_str(), name.c_str());
    if (entry.offset % LLAMAC_PAYLOAD_ALIGN != 0)
      return fail("%s: corrupt payload: section '%s' at offset %llu is not "
                  "aligned to %d bytes",
                  path.c_str(), name.c_str(),
                  static_cast<unsigned long long>(entry.offset),
                  LLAMAC_PAYLOAD_ALIGN);
    if (entry.offset > t.table_offset ||
        entry.bytes > t.table_offset - entry.offset)
      return fail("%s: corrupt payload: section '%s' (%llu bytes at offset "
                  "%llu) runs past the section data, which ends at %llu",
                  path.c_str(), name.c_str(),
                  static_cast<unsigned long long>(entry.bytes),
                  static_cast<unsigned long long>(entry.offset),
                  static_cast<unsigned long long>(t.table_offset));
    PayloadSection section;
    section.name = std::move(name);
    section.offset = entry.offset;
    section.bytes = entry.bytes;
    sections.push_back(std::move(section));
  }

  const PayloadSection *weights = nullptr;
  for (const PayloadSection &s : sections)
    if (s.name == "weights")
      weights = &s;
  if (!weights)
    return fail("%s: the payload has no 'weights' section", path.c_str());
  if (weights->bytes != static_cast<uint64_t>(weightsBytes))
    return fail("%s: the 'weights' section is %llu bytes, but this executable "
                "was compiled for %lld",
                path.c_str(), static_cast<unsigned long long>(weights->bytes),
                static_cast<long long>(weightsBytes));

  for (PayloadSection &s : sections) {
    if (s.bytes == 0)
      continue;
    if (s.bytes > SIZE_MAX - static_cast<uint64_t>(page))
      return fail("%s: section '%s' is too large to map", path.c_str(),
                  s.name.c_str());
    const uint64_t start = s.offset - s.offset % static_cast<uint64_t>(page);
    const size_t delta = static_cast<size_t>(s.offset - start);
    const size_t length = delta + static_cast<size_t>(s.bytes);
    void *base = mmap(nullptr, length, PROT_READ, MAP_PRIVATE, c.file.fd(),
                      static_cast<off_t>(start));
    if (base == MAP_FAILED)
      return fail("%s: cannot map section '%s' (%llu bytes): %s", path.c_str(),
                  s.name.c_str(), static_cast<unsigned long long>(s.bytes),
                  std::strerror(errno));
    // Start reading the weights in now; the first call would fault them in
    // anyway, one page at a time.
    madvise(base, length, MADV_WILLNEED);
    s.mapping = Mapping(base, length, static_cast<const uint8_t *>(base) + delta);
  }
  return Status::success();
}

} // namespace

Status Payload::load(const std::string &weightsFlag, const std::string &exePath,
                     int64_t weightsBytes, Payload &out) {
  Candidate first, sidecar;
  Candidate *chosen = &first;
  std::string path = weightsFlag.empty() ? exePath : weightsFlag;
  if (Status s = openCandidate(path, first, nullptr); !s.ok())
    return s;
  if (!first.hasTrailer && !weightsFlag.empty())
    return fail("%s: not a llamac payload (no trailer at the end of the file)",
                path.c_str());
  if (!first.hasTrailer) {
    // An executable without a payload appended: try the sidecar.
    const std::string sidecarPath = exePath + ".weights";
    bool missing = false;
    if (Status s = openCandidate(sidecarPath, sidecar, &missing); !s.ok())
      return s;
    if (missing)
      return fail("%s: no llamac payload found (no trailer in the executable "
                  "and no %s)",
                  exePath.c_str(), sidecarPath.c_str());
    if (!sidecar.hasTrailer)
      return fail("%s: not a llamac payload (no trailer at the end of the "
                  "file)",
                  sidecarPath.c_str());
    path = sidecarPath;
    chosen = &sidecar;
  }
  out.path_ = path;
  return readPayload(path, *chosen, weightsBytes, out.sections_);
}

const PayloadSection *Payload::find(const std::string &name) const {
  for (const PayloadSection &s : sections_)
    if (s.name == name)
      return &s;
  return nullptr;
}

std::string executablePath(const char *argv0) {
  char buffer[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
  if (n > 0) {
    buffer[n] = '\0';
    return buffer;
  }
  return argv0 ? argv0 : "";
}

} // namespace llamac::rt
