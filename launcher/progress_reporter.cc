#include "launcher/progress_reporter.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace pbe {

std::string format_duration(double seconds) {
  if (!(seconds >= 0) || seconds > 1e7) return "?";
  const auto s = static_cast<int64_t>(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
  return fmt::format("{}m{:02}s", s / 60, s % 60);
}

ProgressReporter::ProgressReporter(bool enabled, double total_image_epochs, double interval_seconds)
    : enabled_(enabled), total_(total_image_epochs), interval_(interval_seconds) {}

void ProgressReporter::start_cell(const Cell& cell, int cells) {
  start(fmt::format("cell {}/{} {} seed {}", cell.index + 1, cells, cell.key.attack, cell.key.seed));
}

void ProgressReporter::start(const std::string& label) {
  cell_label_ = label;
  phase_.clear();
  phase_images_ = 0;
  if (enabled_) spdlog::info("{}: start", cell_label_);
}

double ProgressReporter::fraction_done() const {
  return total_ > 0 ? std::clamp((done_ + resumed_) / total_, 0.0, 1.0) : 0.0;
}

double ProgressReporter::eta_seconds(double elapsed_seconds) const {
  const double rate = elapsed_seconds > 0 ? done_ / elapsed_seconds : 0;
  return rate > 0 ? std::max(0.0, total_ - done_ - resumed_) / rate : -1;
}

void ProgressReporter::on_event(const ProgressEvent& e) {
  if (e.phase != phase_ || e.images < phase_images_) {
    phase_ = e.phase;
    phase_images_ = 0;
    resumed_ += static_cast<double>(e.resumed_images);
  }
  done_ += static_cast<double>(e.images - phase_images_);
  phase_images_ = e.images;
  const auto now = Clock::now();
  const bool phase_end = e.batch == e.batches && e.epoch + 1 == e.epochs;
  if (!enabled_ || (!phase_end && std::chrono::duration<double>(now - last_print_).count() < interval_))
    return;
  last_print_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  spdlog::info("{}: {} epoch {}/{} batch {}/{} | {:.0f} img/s | done {:.0f}% | ETA {}", cell_label_,
               e.phase, e.epoch + 1, e.epochs, e.batch, e.batches, elapsed > 0 ? done_ / elapsed : 0.0,
               100.0 * fraction_done(), format_duration(eta_seconds(elapsed)));
}

ProgressFn ProgressReporter::callback() {
  return [this](const ProgressEvent& e) { on_event(e); };
}

}  // namespace pbe
