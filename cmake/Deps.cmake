# The third-party libraries besides LibTorch, MPI, HDF5 and yaml-cpp, from deps/ (scripts/deps.sh
# copies them from Debian's packages; the GPU machine gets the folder carried): the same headers
# and libraries in every build. Plain -I directories, so they come before every -isystem one: LibTorch
# 2.11's include directory holds fmt 12 headers, while spdlog 1.10 wants fmt 9.
set(PBE_DEPS ${PROJECT_SOURCE_DIR}/deps)
if(NOT EXISTS ${PBE_DEPS}/STAMP)
  message(FATAL_ERROR "${PBE_DEPS} is missing: run scripts/setup.sh (or scripts/deps.sh)")
endif()
find_package(Threads REQUIRED)

add_library(pbe_deps_headers INTERFACE)
target_include_directories(pbe_deps_headers INTERFACE ${PBE_DEPS}/include)

add_library(pbe_deps_fmt INTERFACE)
target_compile_definitions(pbe_deps_fmt INTERFACE FMT_HEADER_ONLY)
target_link_libraries(pbe_deps_fmt INTERFACE pbe_deps_headers)
add_library(fmt::fmt ALIAS pbe_deps_fmt)

add_library(pbe_deps_spdlog INTERFACE)  # header-only: no SPDLOG_COMPILED_LIB
target_compile_definitions(pbe_deps_spdlog INTERFACE SPDLOG_FMT_EXTERNAL)
target_link_libraries(pbe_deps_spdlog INTERFACE pbe_deps_fmt Threads::Threads)
add_library(spdlog::spdlog ALIAS pbe_deps_spdlog)

add_library(CLI11::CLI11 ALIAS pbe_deps_headers)

add_library(pbe_deps_gtest INTERFACE)
target_link_libraries(pbe_deps_gtest INTERFACE pbe_deps_headers ${PBE_DEPS}/lib/libgtest.a Threads::Threads)
add_library(GTest::gtest ALIAS pbe_deps_gtest)
add_library(pbe_deps_gtest_main INTERFACE)
target_link_libraries(pbe_deps_gtest_main INTERFACE ${PBE_DEPS}/lib/libgtest_main.a pbe_deps_gtest)
add_library(GTest::gtest_main ALIAS pbe_deps_gtest_main)

add_library(pbe_deps_benchmark INTERFACE)
target_link_libraries(pbe_deps_benchmark INTERFACE pbe_deps_headers ${PBE_DEPS}/lib/libbenchmark.so.1.7.1 Threads::Threads)
add_library(benchmark::benchmark ALIAS pbe_deps_benchmark)
