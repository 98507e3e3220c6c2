// A reference-counted, 64-byte-aligned buffer with a version counter.
//
// Views share one Storage; in-place ops bump its version so autograd can tell when a tensor it
// saved for backward was overwritten (see docs/notes/views-and-versions.md).
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

namespace koan {

class StorageImpl {
 public:
  // Owned memory from the caching allocator.
  explicit StorageImpl(size_t nbytes);
  // Borrowed memory: `deleter` (may be empty) runs when the last reference goes.
  StorageImpl(void* data, size_t nbytes, std::function<void(void*)> deleter);
  ~StorageImpl();
  StorageImpl(const StorageImpl&) = delete;
  StorageImpl& operator=(const StorageImpl&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  uint64_t version() const { return version_.load(std::memory_order_relaxed); }
  void bump_version() { version_.fetch_add(1, std::memory_order_relaxed); }

 private:
  void* data_;
  size_t nbytes_;
  bool owned_;
  std::function<void(void*)> deleter_;
  std::atomic<uint64_t> version_{0};
};

using Storage = std::shared_ptr<StorageImpl>;

Storage make_storage(size_t nbytes);

}  // namespace koan
