#include "koan/tensor/storage.h"

#include "koan/tensor/allocator.h"

namespace koan {

StorageImpl::StorageImpl(size_t nbytes)
    : data_(allocate(nbytes)), nbytes_(nbytes), owned_(true) {}

StorageImpl::StorageImpl(void* data, size_t nbytes, std::function<void(void*)> deleter)
    : data_(data), nbytes_(nbytes), owned_(false), deleter_(std::move(deleter)) {}

StorageImpl::~StorageImpl() {
  if (owned_) deallocate(data_, nbytes_);
  else if (deleter_) deleter_(data_);
}

Storage make_storage(size_t nbytes) { return std::make_shared<StorageImpl>(nbytes); }

}  // namespace koan
