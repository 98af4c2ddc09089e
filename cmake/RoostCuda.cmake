# Decides ROOST_WITH_CUDA and ROOST_WITH_NCCL from ROOST_CUDA / ROOST_NCCL (AUTO|ON|OFF).
# CUDA is enabled when nvcc is found; NCCL when both nccl.h and libnccl are found
# (NCCL_ROOT or CUDAToolkit's folders are searched). Neither needs a GPU to be present.
set(ROOST_WITH_CUDA OFF)
set(ROOST_WITH_NCCL OFF)

if(NOT ROOST_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES 80 90)
    endif()
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    set(ROOST_WITH_CUDA ON)
  elseif(ROOST_CUDA STREQUAL "ON")
    message(FATAL_ERROR "ROOST_CUDA=ON but no CUDA compiler (nvcc) was found")
  endif()
endif()

if(ROOST_WITH_CUDA AND NOT ROOST_NCCL STREQUAL "OFF")
  find_path(NCCL_INCLUDE_DIR nccl.h HINTS ${NCCL_ROOT} ${NCCL_ROOT}/include ${CUDAToolkit_INCLUDE_DIRS})
  find_library(NCCL_LIBRARY NAMES nccl libnccl.so.2
               HINTS ${NCCL_ROOT} ${NCCL_ROOT}/lib ${NCCL_ROOT}/lib64 ${CUDAToolkit_LIBRARY_DIR})
  if(NCCL_INCLUDE_DIR AND NCCL_LIBRARY)
    add_library(roost::nccl INTERFACE IMPORTED)
    set_target_properties(roost::nccl PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${NCCL_INCLUDE_DIR}
                                                 INTERFACE_LINK_LIBRARIES ${NCCL_LIBRARY})
    set(ROOST_WITH_NCCL ON)
  elseif(ROOST_NCCL STREQUAL "ON")
    message(FATAL_ERROR "ROOST_NCCL=ON but nccl.h / libnccl were not found (set NCCL_ROOT)")
  endif()
elseif(ROOST_NCCL STREQUAL "ON" AND NOT ROOST_WITH_CUDA)
  message(FATAL_ERROR "ROOST_NCCL=ON needs CUDA")
endif()
