// host_device.h — ROOST_HD: functions that nvcc compiles for the device and the host (inlined
// there), and a plain C++ compiler for the host, so the host tests run what the kernels run.
#pragma once

#ifdef __CUDACC__
#define ROOST_HD __host__ __device__ __forceinline__
#else
#define ROOST_HD inline
#endif
