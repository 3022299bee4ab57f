// The runtime's tensor maps (--tma executables): what llamacTensorMapBf16
// asks cuTensorMapEncodeTiled for, from an MLIR memref descriptor, against
// a stand-in driver that records the call; each distinct map copied to the
// GPU once; one-line errors.
#include "cuda/CudaSession.h"

#include <gtest/gtest.h>

#include <cstring>

extern "C" void *llamacTensorMapBf16(int64_t rank, void *descriptor,
                                     int64_t boxRows, int64_t boxDepth);

namespace {
using namespace llamac::rt::cuda;

struct Encoded {
  int dataType = -1, interleave = -1, swizzle = -1, promotion = -1, fill = -1;
  unsigned rank = 0;
  void *address = nullptr;
  uint64_t dims[5] = {}, strides[4] = {};
  unsigned box[5] = {}, elementStrides[5] = {};
};
Encoded last;
int allocations = 0, copies = 0;

CUresult encode(void *map, int dataType, unsigned rank, void *address,
                const uint64_t *dims, const uint64_t *strides,
                const unsigned *box, const unsigned *elementStrides,
                int interleave, int swizzle, int promotion, int fill) {
  last = Encoded{dataType, interleave, swizzle, promotion, fill, rank, address};
  std::memcpy(last.dims, dims, rank * sizeof(uint64_t));
  std::memcpy(last.strides, strides, (rank - 1) * sizeof(uint64_t));
  std::memcpy(last.box, box, rank * sizeof(unsigned));
  std::memcpy(last.elementStrides, elementStrides, rank * sizeof(unsigned));
  // The map's bytes: what identifies it (address and shape).
  std::memset(map, 0, 128);
  std::memcpy(map, &address, sizeof(address));
  std::memcpy(static_cast<char *>(map) + 8, dims, rank * sizeof(uint64_t));
  return CUDA_SUCCESS;
}
CUresult allocate(CUdeviceptr *ptr, size_t) {
  *ptr = 0x10000 + 0x100 * ++allocations;
  return CUDA_SUCCESS;
}
CUresult copy(CUdeviceptr, const void *, size_t, CUstream) {
  ++copies;
  return CUDA_SUCCESS;
}
CUresult createStream(CUstream *stream, unsigned) {
  *stream = reinterpret_cast<CUstream>(0x1);
  return CUDA_SUCCESS;
}
CUresult synchronize(CUstream) { return CUDA_SUCCESS; }

/// MLIR's descriptor of a rank-3 memref.
struct Memref3 {
  void *allocated;
  void *aligned;
  int64_t offset, sizes[3], strides[3];
};

class TensorMaps : public ::testing::Test {
protected:
  void SetUp() override {
    driver.cuTensorMapEncodeTiled = encode;
    driver.cuMemAlloc = allocate;
    driver.cuMemcpyHtoDAsync = copy;
    driver.cuStreamCreate = createStream;
    driver.cuStreamSynchronize = synchronize;
    session().driver = &driver;
    session().error.clear();
  }
  void TearDown() override {
    session().driver = nullptr;
    session().error.clear();
  }
  Driver driver{};
  alignas(16) char buffer[64] = {};
};

TEST_F(TensorMaps, FollowTheMemrefInnermostFirst) {
  // memref<1x40x256xbf16, strided<[10240, 256, 1], offset: 8>>
  Memref3 x{buffer, buffer, 8, {1, 40, 256}, {10240, 256, 1}};
  EXPECT_NE(llamacTensorMapBf16(3, &x, 128, 64), nullptr);
  EXPECT_EQ(session().error, "");
  EXPECT_EQ(last.rank, 3u);
  EXPECT_EQ(last.address, buffer + 16); // the offset, in bytes
  EXPECT_EQ(last.dims[0], 256u);
  EXPECT_EQ(last.dims[1], 40u);
  EXPECT_EQ(last.dims[2], 1u);
  EXPECT_EQ(last.strides[0], 512u); // bytes, the innermost's implied
  EXPECT_EQ(last.strides[1], 20480u);
  EXPECT_EQ(last.box[0], 64u);
  EXPECT_EQ(last.box[1], 128u);
  EXPECT_EQ(last.box[2], 1u);
  for (unsigned d = 0; d < 3; ++d)
    EXPECT_EQ(last.elementStrides[d], 1u);
  EXPECT_EQ(last.dataType, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16);
  EXPECT_EQ(last.swizzle, CU_TENSOR_MAP_SWIZZLE_128B);
  EXPECT_EQ(last.interleave, CU_TENSOR_MAP_INTERLEAVE_NONE);
  EXPECT_EQ(last.fill, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
}

TEST_F(TensorMaps, EachDistinctMapGoesToTheGpuOnce) {
  Memref3 x{buffer, buffer, 0, {1, 40, 256}, {10240, 256, 1}};
  Memref3 y{buffer, buffer, 0, {1, 48, 256}, {12288, 256, 1}};
  int allocationsBefore = allocations, copiesBefore = copies;
  void *first = llamacTensorMapBf16(3, &x, 128, 64);
  void *again = llamacTensorMapBf16(3, &x, 128, 64);
  void *other = llamacTensorMapBf16(3, &y, 128, 64);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first, again);
  EXPECT_NE(first, other);
  EXPECT_EQ(allocations - allocationsBefore, 2);
  EXPECT_EQ(copies - copiesBefore, 2);
}

TEST_F(TensorMaps, OneLineErrors) {
  Memref3 strided{buffer, buffer, 0, {1, 40, 256}, {20480, 512, 2}};
  EXPECT_EQ(llamacTensorMapBf16(3, &strided, 128, 64), nullptr);
  EXPECT_EQ(session().error,
            "a tensor map's innermost dimension is not contiguous");
  session().error.clear();
  Memref3 x{buffer, buffer, 0, {1, 40, 256}, {10240, 256, 1}};
  EXPECT_EQ(llamacTensorMapBf16(1, &x, 128, 64), nullptr);
  EXPECT_EQ(session().error, "a tensor map of rank 1 (TMA takes 2 to 5)");
  session().error.clear();
  driver.cuTensorMapEncodeTiled = nullptr;
  EXPECT_EQ(llamacTensorMapBf16(3, &x, 128, 64), nullptr);
  EXPECT_EQ(session().error,
            "the NVIDIA driver is too old for this executable's tensor maps "
            "(cuTensorMapEncodeTiled, CUDA 12.0)");
  EXPECT_EQ(session().error.find('\n'), std::string::npos);
}

} // namespace
