//===- TensorMaps.cpp - sm_90 tensor maps for the TMA GEMMs -----*- C++ -*-===//
//
// With llama-map-to-gpu's tma option the wgmma GEMMs load their tiles with
// cp.async.bulk.tensor, which reads a 128-byte tensor map (the operand's
// address, sizes, strides, the tile's box and its swizzle) from global
// memory. The entry's host code asks for one per operand before each
// launch; the map depends only on the operand's place and shape, which are
// the same on every call (weights uploaded once, temporaries in the planned
// workspace), so each distinct map is made and copied to the GPU once and
// its device address handed out again afterwards. The copy goes through a
// stream of its own, waited for at once: a call recorded into a CUDA graph
// (relaxed capture) records nothing for it.
//
//===----------------------------------------------------------------------===//
#include "CudaSession.h"

#include <array>
#include <map>

namespace llamac::rt::cuda {
namespace {

using MapBytes = std::array<unsigned char, 128>;

struct TensorMaps {
  std::map<MapBytes, CUdeviceptr> onDevice;
  CUstream copies = nullptr;
};

TensorMaps &tensorMaps() {
  static TensorMaps maps;
  return maps;
}

/// MLIR's ranked memref descriptor: allocated and aligned pointers, the
/// offset, then `rank` sizes and `rank` strides (in elements).
struct RankedDescriptor {
  void *allocated;
  char *aligned;
  int64_t offset;
  int64_t sizesAndStrides[10]; // 2 x rank of them (rank <= 5)
};

} // namespace
} // namespace llamac::rt::cuda

using namespace llamac::rt::cuda;

extern "C" {

/// The device address of a bf16 operand's tensor map: dimensions as the
/// memref's (the last one contiguous), a box of 1 x .. x boxRows x boxDepth,
/// the 128-byte swizzle, zeros past the ends. Null after an error, which
/// the session keeps for the call to report.
void *llamacTensorMapBf16(int64_t rank, void *descriptor, int64_t boxRows,
                          int64_t boxDepth) {
  Session &s = session();
  if (!s.driver || !s.error.empty())
    return nullptr;
  if (!s.driver->cuTensorMapEncodeTiled) {
    s.error = "the NVIDIA driver is too old for this executable's tensor "
              "maps (cuTensorMapEncodeTiled, CUDA 12.0)";
    return nullptr;
  }
  if (rank < 2 || rank > 5) {
    s.error =
        "a tensor map of rank " + std::to_string(rank) + " (TMA takes 2 to 5)";
    return nullptr;
  }
  const auto *memref = static_cast<const RankedDescriptor *>(descriptor);
  const int64_t *sizes = memref->sizesAndStrides;
  const int64_t *strides = sizes + rank;
  // The driver's order is the innermost dimension first; strides in bytes,
  // the innermost one's (1 element) implied.
  uint64_t dims[5], byteStrides[4];
  unsigned box[5], elementStrides[5];
  for (int64_t d = 0; d < rank; ++d) {
    int64_t from = rank - 1 - d;
    dims[d] = static_cast<uint64_t>(sizes[from]);
    box[d] = d == 0 ? boxDepth : d == 1 ? boxRows : 1;
    elementStrides[d] = 1;
    if (d > 0)
      byteStrides[d - 1] = static_cast<uint64_t>(strides[from]) * 2;
  }
  if (strides[rank - 1] != 1) {
    s.error = "a tensor map's innermost dimension is not contiguous";
    return nullptr;
  }
  MapBytes map{};
  void *base = memref->aligned + memref->offset * 2;
  if (!s.check(s.driver->cuTensorMapEncodeTiled(
                   map.data(), CU_TENSOR_MAP_DATA_TYPE_BFLOAT16,
                   static_cast<unsigned>(rank), base, dims, byteStrides, box,
                   elementStrides, CU_TENSOR_MAP_INTERLEAVE_NONE,
                   CU_TENSOR_MAP_SWIZZLE_128B,
                   CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                   CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE),
               "making a tensor map (cuTensorMapEncodeTiled)"))
    return nullptr;
  TensorMaps &maps = tensorMaps();
  if (auto known = maps.onDevice.find(map); known != maps.onDevice.end())
    return reinterpret_cast<void *>(known->second);
  if (!maps.copies &&
      !s.check(s.driver->cuStreamCreate(&maps.copies, CU_STREAM_NON_BLOCKING),
               "creating the tensor maps' stream"))
    return nullptr;
  CUdeviceptr onDevice = 0;
  if (!s.check(s.driver->cuMemAlloc(&onDevice, map.size()),
               "allocating a tensor map") ||
      !s.check(s.driver->cuMemcpyHtoDAsync(onDevice, map.data(), map.size(),
                                           maps.copies),
               "copying a tensor map to the GPU") ||
      !s.check(s.driver->cuStreamSynchronize(maps.copies),
               "copying a tensor map to the GPU"))
    return nullptr;
  maps.onDevice.emplace(map, onDevice);
  return reinterpret_cast<void *>(onDevice);
}

} // extern "C"
