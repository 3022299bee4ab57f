// RUN: llamac-opt %s --llama-merge-kernel-modules | FileCheck %s

// Two outlined kernels of the same name in two modules, both reading the
// same global: one module, each kernel named after its old module, the
// global kept once, the launches pointed at the new symbols. Shared-memory
// buffers are aligned: 1,024 bytes from 1 KiB on (wgmma's swizzled tiles),
// else 16 (cp.async's 16-byte copies).

// CHECK: gpu.module @llamac_kernels {
// CHECK-NEXT: memref.global "private" constant @table
// CHECK-NEXT: gpu.func @f_kernel_0(%{{.*}}: memref<4xf32>) kernel
// CHECK: gpu.func @f_kernel_1(%{{.*}}: memref<4xf32>) workgroup(%{{.*}} : memref<512xbf16, #gpu.address_space<workgroup>> {llvm.align = 1024 : i64}, %{{.*}} : memref<8xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}) kernel
// CHECK-NOT: memref.global
// CHECK-NOT: gpu.module
// CHECK: func.func @f
// CHECK-NEXT: %[[C1:.*]] = arith.constant 1 : index
// CHECK-NEXT: gpu.launch_func @llamac_kernels::@f_kernel_0
// CHECK-NEXT: gpu.launch_func @llamac_kernels::@f_kernel_1
module attributes {gpu.container_module} {
  gpu.module @f_kernel_0 {
    memref.global "private" constant @table : memref<4xf32> = dense<1.0>
    gpu.func @f_kernel(%m: memref<4xf32>) kernel {
      %t = memref.get_global @table : memref<4xf32>
      memref.copy %t, %m : memref<4xf32> to memref<4xf32>
      gpu.return
    }
  }
  gpu.module @f_kernel_1 {
    memref.global "private" constant @table : memref<4xf32> = dense<1.0>
    gpu.func @f_kernel(%m: memref<4xf32>) workgroup(%tile: memref<512xbf16, #gpu.address_space<workgroup>>, %sums: memref<8xf32, #gpu.address_space<workgroup>>) kernel {
      %t = memref.get_global @table : memref<4xf32>
      memref.copy %m, %t : memref<4xf32> to memref<4xf32>
      gpu.return
    }
  }
  func.func @f(%m: memref<4xf32>) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @f_kernel_0::@f_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%m : memref<4xf32>)
    gpu.launch_func @f_kernel_1::@f_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%m : memref<4xf32>)
    return
  }
}
