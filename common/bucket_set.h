// BucketSet: a set of buckets 0..kBucketCount-1 of one rule, as a fixed 2 KB bitmap. The form in
// which connection tracking passes "buckets that still hold connections" between the data path,
// convergence and the wire (docs/connection-tracking.md). Plain value; thread-compatible.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "common/flow_hash.h"

namespace nlb {

class BucketSet {
 public:
  static constexpr size_t kWords = kBucketCount / 64;
  using Words = std::array<uint64_t, kWords>;

  // Buckets >= kBucketCount are never members.
  bool Contains(uint32_t bucket) const {
    return bucket < kBucketCount && ((words_[bucket / 64] >> (bucket % 64)) & 1) != 0;
  }
  void Add(uint32_t bucket) {
    if (bucket < kBucketCount) words_[bucket / 64] |= uint64_t{1} << (bucket % 64);
  }
  void Remove(uint32_t bucket) {
    if (bucket < kBucketCount) words_[bucket / 64] &= ~(uint64_t{1} << (bucket % 64));
  }
  void Clear() { words_.fill(0); }
  bool Empty() const {
    for (uint64_t w : words_) {
      if (w != 0) return false;
    }
    return true;
  }
  uint32_t Count() const {
    uint32_t n = 0;
    for (uint64_t w : words_) n += static_cast<uint32_t>(std::popcount(w));
    return n;
  }
  BucketSet& operator|=(const BucketSet& other) {
    for (size_t i = 0; i < kWords; ++i) words_[i] |= other.words_[i];
    return *this;
  }
  // Word i holds buckets 64*i .. 64*i+63, bucket 64*i+j in bit j.
  uint64_t word(size_t i) const { return words_[i]; }
  void set_word(size_t i, uint64_t value) { words_[i] = value; }

  friend bool operator==(const BucketSet&, const BucketSet&) = default;

 private:
  Words words_{};
};

}  // namespace nlb
