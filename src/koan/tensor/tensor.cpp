#include "koan/tensor/tensor.h"

namespace koan {

Tensor::Tensor(Storage storage, Layout layout, DType dtype) : impl_(std::make_shared<TensorImpl>()) {
  impl_->storage = std::move(storage);
  impl_->layout = std::move(layout);
  impl_->dtype = dtype;
}

namespace {
const TensorImpl& checked(const std::shared_ptr<TensorImpl>& p) {
  KOAN_CHECK(p != nullptr, ValueError, "tensor: this Tensor is undefined (default-constructed)");
  return *p;
}
}  // namespace

DType Tensor::dtype() const { return checked(impl_).dtype; }
const Shape& Tensor::shape() const { return checked(impl_).layout.shape; }
const Strides& Tensor::strides() const { return checked(impl_).layout.strides; }
const Layout& Tensor::layout() const { return checked(impl_).layout; }
const Storage& Tensor::storage() const { return checked(impl_).storage; }
int64_t Tensor::offset() const { return layout().offset; }
int64_t Tensor::dim() const { return layout().dim(); }
int64_t Tensor::numel() const { return layout().numel(); }
bool Tensor::is_contiguous() const { return layout().is_contiguous(); }
uint64_t Tensor::version() const { return storage()->version(); }
void Tensor::bump_version() const { storage()->bump_version(); }

int64_t Tensor::size(int64_t d) const { return shape()[wrap_dim(d, dim(), "size")]; }
int64_t Tensor::stride(int64_t d) const { return strides()[wrap_dim(d, dim(), "stride")]; }

void* Tensor::raw_data() const {
  const TensorImpl& t = checked(impl_);
  return static_cast<char*>(t.storage->data()) + t.layout.offset * koan::element_size(t.dtype);
}

void Tensor::check_dtype(DType want, const char* op) const {
  KOAN_CHECK(dtype() == want, DTypeError, op, ": tensor has dtype ", name(dtype()),
             " but the requested element type is ", name(want));
}

int64_t Tensor::element_offset(std::initializer_list<int64_t> index) const {
  KOAN_CHECK(static_cast<int64_t>(index.size()) == dim(), IndexError, "at: got ", index.size(),
             " indices for a tensor with ", dim(), " dims (shape ", shape(), ")");
  int64_t off = 0, d = 0;
  for (int64_t i : index) {
    int64_t n = shape()[d];
    KOAN_CHECK(i >= -n && i < n, IndexError, "at: index ", i, " out of range for dim ", d,
               " of size ", n);
    off += (i < 0 ? i + n : i) * strides()[d];
    ++d;
  }
  return off;
}

template <class T>
T Tensor::item() const {
  KOAN_CHECK(numel() == 1, ValueError, "item: only one-element tensors can be converted to a ",
             "scalar, got shape ", shape(), " (", numel(), " elements)");
  return visit_dtype(dtype(), [&]<class S>() { return static_cast<T>(*static_cast<S*>(raw_data())); });
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  std::vector<T> out;
  out.reserve(numel());
  visit_dtype(dtype(), [&]<class S>() {
    const S* base = static_cast<const S*>(storage()->data());
    for_each_offset(layout(), [&](int64_t off) { out.push_back(static_cast<T>(base[off])); });
  });
  return out;
}

template float Tensor::item<float>() const;
template double Tensor::item<double>() const;
template int64_t Tensor::item<int64_t>() const;
template int32_t Tensor::item<int32_t>() const;
template bool Tensor::item<bool>() const;
template uint8_t Tensor::item<uint8_t>() const;
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<int64_t> Tensor::to_vector<int64_t>() const;
template std::vector<int32_t> Tensor::to_vector<int32_t>() const;
template std::vector<uint8_t> Tensor::to_vector<uint8_t>() const;
template std::vector<bool> Tensor::to_vector<bool>() const;

// ---- autograd data accessors; the behaviour lives in autograd/.
bool Tensor::requires_grad() const { return checked(impl_).requires_grad; }

Tensor& Tensor::requires_grad_(bool on) {
  TensorImpl& t = const_cast<TensorImpl&>(checked(impl_));
  KOAN_CHECK(t.grad_fn == nullptr || on, ValueError,
             "requires_grad_: you can only change requires_grad of leaf tensors; use detach() to "
             "get a tensor that does not require grad");
  KOAN_CHECK(!on || is_floating(t.dtype), DTypeError,
             "requires_grad_: only floating-point tensors can require gradients, got ",
             name(t.dtype));
  t.requires_grad = on;
  return *this;
}

Tensor Tensor::grad() const {
  const TensorImpl& t = checked(impl_);
  return t.grad ? Tensor(t.grad) : Tensor();
}

void Tensor::set_grad(const Tensor& g) const {
  TensorImpl& t = const_cast<TensorImpl&>(checked(impl_));
  if (g.defined())
    KOAN_CHECK(g.shape() == t.layout.shape, ShapeError, "set_grad: gradient shape ", g.shape(),
               " does not match tensor shape ", t.layout.shape);
  t.grad = g.impl_ptr();
}

const std::shared_ptr<autograd::Node>& Tensor::grad_fn() const { return checked(impl_).grad_fn; }
bool Tensor::is_leaf() const { return checked(impl_).grad_fn == nullptr; }

void Tensor::retain_grad() const {
  TensorImpl& t = const_cast<TensorImpl&>(checked(impl_));
  KOAN_CHECK(t.requires_grad, ValueError, "retain_grad: tensor does not require grad");
  t.retains_grad = true;
}

size_t Tensor::register_hook(std::function<Tensor(const Tensor&)> fn) const {
  TensorImpl& t = const_cast<TensorImpl&>(checked(impl_));
  KOAN_CHECK(t.requires_grad, ValueError,
             "register_hook: cannot register a hook on a tensor that does not require grad");
  size_t id = t.next_hook_id++;
  t.hooks.emplace_back(id, std::move(fn));
  return id;
}

void Tensor::remove_hook(size_t handle) const {
  TensorImpl& t = const_cast<TensorImpl&>(checked(impl_));
  std::erase_if(t.hooks, [&](const auto& h) { return h.first == handle; });
}

Tensor alias_with_layout(const Tensor& src, Layout layout) {
  Tensor r(src.storage(), std::move(layout), src.dtype());
  r.impl()->view_base = src.impl()->view_base ? src.impl()->view_base : src.impl_ptr();
  return r;
}

Tensor empty(const Shape& shape, TensorOptions opts) {
  for (auto d : shape)
    KOAN_CHECK(d >= 0, ShapeError, "empty: negative dimension ", d, " in shape ", shape);
  Tensor t(make_storage(std::max<int64_t>(numel(shape), 1) * koan::element_size(opts.dtype)),
           Layout::contiguous(shape), opts.dtype);
  if (opts.requires_grad) t.requires_grad_();
  return t;
}

}  // namespace koan
