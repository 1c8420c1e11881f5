#include "launcher/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "core/errors.h"

namespace pbe {
namespace {
spdlog::level::level_enum g_requested = spdlog::level::info;
}  // namespace

void setup_logging(int rank, int size, const std::string& level) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off")
    throw ConfigError("--log-level: unknown level '" + level + "' (trace, debug, info, warn, error, off)");
  g_requested = lvl;
  if (rank != 0 && lvl > spdlog::level::debug) lvl = std::max(lvl, spdlog::level::warn);
  auto logger = spdlog::stderr_color_mt("pbe");
  logger->set_pattern(fmt::format("[%H:%M:%S] [rank {}/{}] [%^%l%$] %v", rank, size));
  logger->set_level(lvl);
  spdlog::set_default_logger(logger);
}

void log_at_requested_level() { spdlog::default_logger()->set_level(g_requested); }

}  // namespace pbe
