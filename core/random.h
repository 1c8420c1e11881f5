#pragma once
// Seeds derived from a run seed, the same on every rank: one stream per purpose, never colliding.
#include <cstdint>
#include <string_view>

namespace pbe {

// A seed for one named purpose ("poison", "train", "defense/ft", ...) of a run seed (FNV-1a of
// the purpose, mixed with the seed).
inline uint64_t derive_seed(uint64_t seed, std::string_view purpose) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : purpose) h = (h ^ c) * 1099511628211ULL;
  return h ^ (seed * 0x9E3779B97F4A7C15ULL);
}

// A seed for step (a, b) of a seeded loop, e.g. (epoch, batch): splitmix64 over the tuple.
inline uint64_t mix_seed(uint64_t seed, uint64_t a, uint64_t b = 0) {
  uint64_t x = seed ^ (a * 0x9E3779B97F4A7C15ULL) ^ (b * 0xC2B2AE3D27D4EB4FULL);
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

}  // namespace pbe
