# Finds roost's dependencies and wraps each in one roost::<name> target.
#
# Libraries are searched in the system folders and, when ROOST_DEPS_PREFIX is set, in a
# folder where Debian packages were unpacked with `dpkg -x` (GPU machines without apt).
# MPI and HDF5 are searched by hand (header + library) rather than through compiler
# wrappers, because wrappers unpacked into a prefix still point at /usr.
set(ROOST_DEPS_PREFIX "" CACHE PATH "Folder holding unpacked Debian packages (usr/include, usr/lib)")
set(_roost_arch_lib lib/x86_64-linux-gnu)
if(ROOST_DEPS_PREFIX)
  list(PREPEND CMAKE_PREFIX_PATH ${ROOST_DEPS_PREFIX}/usr)
  list(PREPEND CMAKE_LIBRARY_PATH ${ROOST_DEPS_PREFIX}/usr/${_roost_arch_lib})
  list(PREPEND CMAKE_INCLUDE_PATH ${ROOST_DEPS_PREFIX}/usr/include)
endif()

set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)

# libtorch: Debian's 1.13 (CPU) or a CUDA 2.x found through CMAKE_PREFIX_PATH.
find_package(Torch REQUIRED)
set(CMAKE_CXX_FLAGS "${CMAKE_CXX_FLAGS} ${TORCH_CXX_FLAGS}")
add_library(roost::torch INTERFACE IMPORTED)
set_target_properties(roost::torch PROPERTIES INTERFACE_LINK_LIBRARIES "${TORCH_LIBRARIES}")
# A libtorch built with CUDA lists its CUDA libraries (c10_cuda, torch_cuda) apart.
if(TORCH_CUDA_LIBRARIES OR TARGET torch_cuda)
  set(ROOST_TORCH_HAS_CUDA ON)
else()
  set(ROOST_TORCH_HAS_CUDA OFF)
endif()

function(roost_find_lib target header lib)
  cmake_parse_arguments(A "" "" "HEADER_SUFFIXES;LIB_SUFFIXES" ${ARGN})
  find_path(${target}_INCLUDE_DIR ${header} PATH_SUFFIXES ${A_HEADER_SUFFIXES})
  find_library(${target}_LIBRARY NAMES ${lib} PATH_SUFFIXES ${A_LIB_SUFFIXES})
  if(${target}_INCLUDE_DIR AND ${target}_LIBRARY)
    add_library(roost::${target} INTERFACE IMPORTED GLOBAL)
    set_target_properties(roost::${target} PROPERTIES
      INTERFACE_INCLUDE_DIRECTORIES "${${target}_INCLUDE_DIR}"
      INTERFACE_LINK_LIBRARIES "${${target}_LIBRARY}")
    set(ROOST_HAVE_${target} ON PARENT_SCOPE)
  else()
    set(ROOST_HAVE_${target} OFF PARENT_SCOPE)
  endif()
endfunction()

roost_find_lib(turbojpeg turbojpeg.h turbojpeg)
roost_find_lib(png png.h png16 png)
roost_find_lib(zlib zlib.h z)
# cairo (Debian: libcairo2-dev) draws the training curves; cairo.h needs only its own folder.
roost_find_lib(cairo cairo.h cairo HEADER_SUFFIXES cairo)
# libcrypto (Debian: libssl-dev): SHA-256 of the model registry's files.
roost_find_lib(crypto openssl/evp.h crypto)
# libzip (Debian: libzip-dev): the zip archives datasets are published in (roost data fowl).
roost_find_lib(zip zip.h zip)
foreach(_lib turbojpeg png zlib cairo crypto zip)
  if(NOT ROOST_HAVE_${_lib})
    message(FATAL_ERROR "roost needs lib${_lib} (Debian: see launch/install-deps.sh)")
  endif()
endforeach()

# Optional: libjpeg's API (region decoding of JPEGs) and libcurl (`roost data fowl`).
roost_find_lib(libjpeg jpeglib.h jpeg)
roost_find_lib(curl curl/curl.h curl)

roost_find_lib(mpi mpi.h mpi
  HEADER_SUFFIXES ${_roost_arch_lib}/openmpi/include openmpi/include x86_64-linux-gnu/openmpi
  LIB_SUFFIXES openmpi/lib)
set(ROOST_HAVE_MPI ${ROOST_HAVE_mpi})
if(ROOST_HAVE_MPI)
  # roost uses MPI's C API only; the deprecated C++ bindings would need libmpi_cxx.
  set_property(TARGET roost::mpi PROPERTY INTERFACE_COMPILE_DEFINITIONS OMPI_SKIP_MPICXX MPICH_SKIP_MPICXX)
endif()
if(ROOST_HAVE_MPI)
  find_program(MPIEXEC_EXECUTABLE NAMES mpirun mpiexec HINTS ${ROOST_DEPS_PREFIX}/usr/bin)
endif()
roost_find_lib(hdf5 hdf5.h hdf5 HEADER_SUFFIXES hdf5/serial LIB_SUFFIXES hdf5/serial)
set(ROOST_HAVE_HDF5 ${ROOST_HAVE_hdf5})

find_path(CXXOPTS_INCLUDE_DIR cxxopts.hpp)
if(NOT CXXOPTS_INCLUDE_DIR AND (ROOST_HAVE_MPI AND ROOST_HAVE_HDF5))
  message(FATAL_ERROR "roost needs cxxopts.hpp (Debian: libcxxopts-dev)")
endif()

# nlohmann-json (Debian: nlohmann-json3-dev, header only): run.json and checkpoint identities.
find_path(NLOHMANN_JSON_INCLUDE_DIR nlohmann/json.hpp)
if(NOT NLOHMANN_JSON_INCLUDE_DIR AND (ROOST_HAVE_MPI AND ROOST_HAVE_HDF5))
  message(FATAL_ERROR "roost needs nlohmann/json.hpp (Debian: nlohmann-json3-dev)")
endif()
add_library(roost::json INTERFACE IMPORTED GLOBAL)
if(NLOHMANN_JSON_INCLUDE_DIR)
  set_target_properties(roost::json PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${NLOHMANN_JSON_INCLUDE_DIR}")
endif()

# SQLite (Debian: libsqlite3-dev): the run store and model registry of `roost submit`.
find_package(SQLite3)
set(ROOST_HAVE_SQLITE ${SQLite3_FOUND})
if(NOT ROOST_HAVE_SQLITE)
  message(WARNING "roost: SQLite3 not found (Debian: libsqlite3-dev): roost submit/runs/models are not built")
endif()
