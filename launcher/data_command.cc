#include <fmt/format.h>

#include <iostream>

#include "core/data/release_check.h"
#include "launcher/commands.h"

namespace pbe {

int data_command(const World& world, const std::string& name, const std::string& path) {
  if (world.rank() != 0) return 0;
  const Release release = official_release(name);
  const ReleaseCounts counts = check_release(name, path, release);
  std::cout << path << ": " << name << ", the whole release: " << counts.train() << " training images, "
            << counts.test() << " test images, " << release.classes << " classes\n"
            << "  training images per class: " << fmt::format("{}", fmt::join(counts.train_per_class, " ")) << "\n"
            << "  test images per class:     " << fmt::format("{}", fmt::join(counts.test_per_class, " ")) << "\n";
  return 0;
}

}  // namespace pbe
