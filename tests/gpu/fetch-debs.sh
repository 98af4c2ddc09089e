#!/usr/bin/env bash
# fetch-debs.sh — on a Debian 12 machine with apt, downloads the .deb files that
# tests/gpu/check.sh unpacks on a GPU machine without apt (Open MPI, HDF5, cxxopts,
# GoogleTest, libjpeg-turbo, libpng, libcurl, libcrypto, libzip, cairo with DejaVu Sans, and the
# libraries they load), into DIR (default .deps/debs, which git ignores). Then: tests/gpu/check.sh .deps/debs [DATASET]
set -euo pipefail
DIR=${1:-.deps/debs}
mkdir -p "$DIR"
cd "$DIR"
apt-get download \
  libopenmpi-dev libopenmpi3 openmpi-bin openmpi-common libpmix2 libhwloc15 \
  libevent-core-2.1-7 libevent-pthreads-2.1-7 libevent-2.1-7 libfabric1 libucx0 libibverbs1 \
  librdmacm1 libpsm2-2 libpsm-infinipath1 libnl-3-200 libnl-route-3-200 libnuma1 libmunge2 \
  libhdf5-dev libhdf5-103-1 libhdf5-cpp-103-1 libaec0 libsz2 libcurl4 libcurl4-openssl-dev \
  libldap-2.5-0 libnghttp2-14 librtmp1 libssh2-1 libpsl5 libsasl2-2 libbrotli1 \
  libcxxopts-dev nlohmann-json3-dev libgtest-dev libturbojpeg0-dev libturbojpeg0 libjpeg62-turbo \
  libjpeg62-turbo-dev libpng-dev libpng16-16 zlib1g-dev libgnutls30 libnettle8 libhogweed6 \
  libidn2-0 libunistring2 libtasn1-6 libp11-kit0 libffi8 libgmp10 libssl-dev libssl3 \
  libzip-dev libzip4 libbz2-1.0 \
  libcairo2-dev libcairo2 libpixman-1-0 libfontconfig1 fontconfig-config fonts-dejavu-core \
  libfreetype6 libexpat1 libxcb1 libxcb-shm0 libxcb-render0 libxrender1 libx11-6 libx11-data \
  libxext6 libxau6 libxdmcp6 libbsd0 libmd0
echo "fetch-debs: $(ls *.deb | wc -l) packages in $DIR"
