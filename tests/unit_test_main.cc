// The unit tests' main: one intra-op thread, whoever starts the binary (ctest also sets
// OMP_NUM_THREADS=1), so that a result never depends on the machine's core count: some
// assertions (the defenses' efficacy margins, trained models' accuracies) hold for the
// single-thread summation order they were measured with. For the same reason LibTorch uses its
// AVX2 kernels even where the CPU has AVX-512 (unless ATEN_CPU_CAPABILITY is set): the AVX-512
// kernels round differently, and on an AVX-512 Xeon two efficacy margins measured with AVX2
// missed by a few points (ANP left ASR 0.16 against <= 0.10, FT-SAM 0.13 against <= 0.10).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>

int main(int argc, char** argv) {
  setenv("ATEN_CPU_CAPABILITY", "avx2", /*overwrite=*/0);  // read at LibTorch's first kernel call
  torch::set_num_threads(1);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
