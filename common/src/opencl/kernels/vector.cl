// Vector kernels of the OpenCL backend (chapter 7.3), in OpenCL C 1.2 so that every OpenCL
// implementation builds them: PoCL on the CPU, NVIDIA's OpenCL on the GPU. Compiled at run time
// from this text (embedded into the library), or offline to SPIR / SPIR-V (chapter 7.4).
//
// Compare with the CUDA version: __global__ becomes __kernel, pointers carry an address space
// (__global), and blockIdx.x * blockDim.x + threadIdx.x is get_global_id(0).

//! [saxpy]
// y = a · x + y over n elements, one work-item per element. The global size is rounded up to a
// multiple of the work-group size, so the tail work-items must do nothing. Napkin math: 2 FLOP
// per 12 bytes moved (read x, read y, write y) — bandwidth-bound on every device.
__kernel void saxpy(const int n, const float a, __global const float* x, __global float* y) {
  const int i = (int)get_global_id(0);
  if (i < n) y[i] = fma(a, x[i], y[i]);
}
//! [saxpy]
