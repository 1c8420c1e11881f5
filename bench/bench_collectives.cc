// Collectives and sharded adversarial generation, under mpirun: all-reduce bandwidth over buffer
// sizes (baseline: a local copy of the same buffer) and PGD throughput with the images sharded over
// the ranks (bench/run.sh compares 1 rank x 1 thread, 2 ranks x 1 thread, 1 rank x 2 threads).
// usage: mpirun -np R pbe_bench_collectives [THREADS]; rank 0 prints one JSON object.
#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "core/adversarial/pgd.h"
#include "core/data/dataset.h"
#include "core/models/classifier.h"
#include "distributed/world.h"

namespace {

using Clock = std::chrono::steady_clock;

// Seconds per call of `op`, run until at least `budget` seconds have passed (after 2 warm-ups);
// every rank runs the same count (rank 0's decision is broadcast).
template <class Op>
double seconds_per_call(Op op, pbe::ProcessGroup& group, double budget = 1.0) {
  op();
  op();
  int64_t calls = 0;
  group.barrier();
  const auto start = Clock::now();
  for (;;) {
    op();
    ++calls;
    auto done = torch::tensor({std::chrono::duration<double>(Clock::now() - start).count() >= budget ? 1 : 0});
    group.broadcast(done, 0);
    if (done.item<int64_t>()) break;
  }
  group.barrier();
  return std::chrono::duration<double>(Clock::now() - start).count() / static_cast<double>(calls);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"All-reduce bandwidth against a local copy, and PGD throughput sharded over the ranks; run "
               "under mpirun, rank 0 prints one JSON object",
               "pbe_bench_collectives"};
  int threads = 1;
  app.add_option("threads", threads, "intra-op threads per rank")->check(CLI::Range(1, 1024))->capture_default_str();
  CLI11_PARSE(app, argc, argv);  // before MPI: --help and bad arguments need no job
  pbe::World world(&argc, &argv);
  torch::set_num_threads(threads);
  auto group = world.make_process_group();
  std::string json = "{\"ranks\": " + std::to_string(world.size()) + ", \"threads\": " + std::to_string(threads);

  // All-reduce (sum) of float buffers, against copying the same buffer locally.
  json += ", \"allreduce\": [";
  bool first = true;
  for (int64_t bytes : {int64_t{4} << 10, int64_t{256} << 10, int64_t{4} << 20, int64_t{64} << 20}) {
    auto buffer = torch::ones({bytes / 4});
    auto target = torch::empty_like(buffer);
    const double copy = seconds_per_call([&] { target.copy_(buffer); }, *group, 0.5);
    const double reduce = seconds_per_call([&] { group->allreduce(buffer); }, *group, 0.5);
    char row[160];
    std::snprintf(row, sizeof row, "%s{\"bytes\": %lld, \"allreduce_s\": %.9g, \"copy_s\": %.9g}", first ? "" : ", ",
                  static_cast<long long>(bytes), reduce, copy);
    json += row;
    first = false;
  }
  json += "]";

  // PGD (the paper's settings: 7 steps) on 512 Fashion-MNIST-shaped images, sharded over the ranks.
  torch::manual_seed(0);
  pbe::ModelOptions m;  // small-cnn, 1x28x28, 10 classes
  auto model = pbe::make_model(m);
  pbe::Dataset data;
  data.num_classes = 10;
  data.images = torch::randint(256, {512, 1, 28, 28}, torch::kLong).to(torch::kByte);
  data.labels = torch::randint(10, {512}, torch::kLong);
  const auto rows = torch::arange(512);
  const double pgd = seconds_per_call(
      [&] { pbe::pgd_sharded(*model, data, rows, data.labels, pbe::pbe_pgd_options(), *group, 1, 128); }, *group, 3.0);
  char tail[96];
  std::snprintf(tail, sizeof tail, ", \"pgd_images_per_s\": %.6g}", 512.0 / pgd);
  json += tail;
  if (world.rank() == 0) std::printf("%s\n", json.c_str());
  return 0;
}
