// The Tensor handle: a shared pointer to storage + layout + dtype, plus the autograd fields.
//
//   Tensor x = koan::randn({2, 3}).requires_grad_();
//   Tensor y = (x * x).sum();
//   y.backward();
//   std::cout << x.grad();
//
// Copying a Tensor copies the handle, not the data (like torch.Tensor in Python).  The methods
// that are ops (view, sum, ...) are declared here for convenience and defined in ops/, as
// libtorch does; the free functions in <koan/ops/...> are the same thing.
#pragma once
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "koan/core/dtype.h"
#include "koan/core/error.h"
#include "koan/core/scalar.h"
#include "koan/core/shape.h"
#include "koan/tensor/layout.h"
#include "koan/tensor/storage.h"

namespace koan {

namespace autograd {
class Node;
// The node's op name ("MulBackward"), for printing; defined in autograd/.
std::string node_name(const Node& node);
}
struct TensorImpl;

class Tensor {
 public:
  Tensor() = default;  // undefined: holds nothing, like an empty torch.Tensor() slot
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}
  Tensor(Storage storage, Layout layout, DType dtype);

  bool defined() const { return impl_ != nullptr; }
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool is_same(const Tensor& o) const { return impl_ == o.impl_; }

  // ---- metadata
  DType dtype() const;
  const Shape& shape() const;
  const Shape& sizes() const { return shape(); }
  int64_t size(int64_t dim) const;
  const Strides& strides() const;
  int64_t stride(int64_t dim) const;
  int64_t offset() const;
  int64_t dim() const;
  int64_t numel() const;
  size_t element_size() const { return koan::element_size(dtype()); }
  bool is_contiguous() const;
  bool is_floating_point() const { return is_floating(dtype()); }
  const Layout& layout() const;
  const Storage& storage() const;
  uint64_t version() const;
  void bump_version() const;

  // ---- data access
  // Pointer to the first element; checks that T matches the dtype.
  template <class T>
  T* data_ptr() const {
    check_dtype(dtype_v<T>, "data_ptr");
    return static_cast<T*>(raw_data()) ;
  }
  void* raw_data() const;  // first element, untyped
  // Value of a one-element tensor, converted to T.
  template <class T>
  T item() const;
  // Typed element access: x.at<float>({1, 2}) = 3.f.  Checks dtype and bounds.
  template <class T>
  T& at(std::initializer_list<int64_t> index) const {
    check_dtype(dtype_v<T>, "at");
    return data_ptr<T>()[element_offset(index)];
  }
  std::vector<int64_t> shape_vec() const { return shape(); }
  // Copies the elements (in row-major order) into a vector of T, converting the dtype.
  template <class T>
  std::vector<T> to_vector() const;

  // ---- autograd fields (the engine is in autograd/)
  bool requires_grad() const;
  Tensor& requires_grad_(bool on = true);
  // The accumulated gradient, or an undefined Tensor.
  Tensor grad() const;
  void set_grad(const Tensor& g) const;
  const std::shared_ptr<autograd::Node>& grad_fn() const;
  bool is_leaf() const;
  // Ask a non-leaf to keep its gradient in grad() after backward (torch's retain_grad).
  void retain_grad() const;
  // fn(grad) -> replacement grad (or an undefined Tensor to keep it); returns a handle id.
  size_t register_hook(std::function<Tensor(const Tensor&)> fn) const;
  void remove_hook(size_t handle) const;
  // Defined in autograd/.
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false,
                bool create_graph = false) const;

  // ---- op methods (defined in ops/methods.cpp)
  Tensor view(const Shape& shape) const;
  Tensor reshape(const Shape& shape) const;
  Tensor transpose(int64_t d0, int64_t d1) const;
  Tensor t() const;
  Tensor permute(const std::vector<int64_t>& dims) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
  Tensor select(int64_t dim, int64_t index) const;
  Tensor operator[](int64_t index) const { return select(0, index); }
  Tensor expand(const Shape& shape) const;
  Tensor squeeze(std::optional<int64_t> dim = std::nullopt) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor contiguous() const;
  Tensor clone() const;
  Tensor detach() const;
  Tensor to(DType dtype) const;
  Tensor sum() const;
  Tensor mean() const;
  Tensor& zero_();
  Tensor& fill_(Scalar v);
  Tensor& copy_(const Tensor& src);

 private:
  void check_dtype(DType want, const char* op) const;
  int64_t element_offset(std::initializer_list<int64_t> index) const;
  std::shared_ptr<TensorImpl> impl_;
};

// What a Tensor points at.  The autograd fields are plain data; autograd/ gives them meaning.
struct TensorImpl {
  Storage storage;
  Layout layout;
  DType dtype = kDefaultFloat;

  bool requires_grad = false;
  bool retains_grad = false;
  std::shared_ptr<TensorImpl> grad;
  std::shared_ptr<autograd::Node> grad_fn;  // null for leaves
  uint32_t output_nr = 0;                   // which output of grad_fn this is
  std::weak_ptr<autograd::Node> grad_accumulator;  // leaves: where gradients are summed
  std::vector<std::pair<size_t, std::function<Tensor(const Tensor&)>>> hooks;
  size_t next_hook_id = 0;
  // Views remember their base so in-place ops on them can be refused while autograd is live.
  std::shared_ptr<TensorImpl> view_base;
};

// Options for creation functions: zeros({2, 3}, {.dtype = DType::Float64}).
struct TensorOptions {
  DType dtype = kDefaultFloat;
  bool requires_grad = false;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);
// PyTorch-style text, with summarisation ("...") past `threshold` elements.
std::string to_string(const Tensor& t, int64_t threshold = 1000, int64_t edgeitems = 3);

// A new tensor aliasing `src`'s storage with another layout (no autograd: ops/ wraps this).
Tensor alias_with_layout(const Tensor& src, Layout layout);
// A new contiguous, uninitialised tensor.
Tensor empty(const Shape& shape, TensorOptions opts = {});

extern template float Tensor::item<float>() const;
extern template double Tensor::item<double>() const;
extern template int64_t Tensor::item<int64_t>() const;
extern template int32_t Tensor::item<int32_t>() const;
extern template bool Tensor::item<bool>() const;
extern template uint8_t Tensor::item<uint8_t>() const;
extern template std::vector<float> Tensor::to_vector<float>() const;
extern template std::vector<double> Tensor::to_vector<double>() const;
extern template std::vector<int64_t> Tensor::to_vector<int64_t>() const;
extern template std::vector<int32_t> Tensor::to_vector<int32_t>() const;
extern template std::vector<uint8_t> Tensor::to_vector<uint8_t>() const;
extern template std::vector<bool> Tensor::to_vector<bool>() const;

}  // namespace koan
