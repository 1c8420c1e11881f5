// The unit tests' main: one intra-op thread, whoever starts the binary (ctest also sets
// OMP_NUM_THREADS=1), so that a result never depends on the machine's core count: some
// assertions (the defenses' efficacy margins, trained models' accuracies) hold for the
// single-thread summation order they were measured with.
#include <gtest/gtest.h>
#include <torch/torch.h>

int main(int argc, char** argv) {
  torch::set_num_threads(1);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
