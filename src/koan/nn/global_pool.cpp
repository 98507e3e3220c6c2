#include "koan/nn/global_pool.h"

#include "koan/core/error.h"
#include "koan/ops/reduce.h"

namespace koan::nn {
namespace {

void check(const Tensor& x, const GlobalPool1dOptions& o, const char* who) {
  KOAN_CHECK(x.dim() == 3, ShapeError, who, ": expected a 3-D sequence batch, got shape ", x.shape());
  KOAN_CHECK(x.size(o.dim) > 0, ShapeError, who, ": the sequence (dim ", o.dim, ") of ", x.shape(), " is empty");
}

void check_options(const GlobalPool1dOptions& o, const char* who) {
  KOAN_CHECK(o.dim == 1 || o.dim == 2, ValueError, who, ": dim must be 1 (B, T, C) or 2 (B, C, T), got ", o.dim);
}

}  // namespace

GlobalMaxPool1d::GlobalMaxPool1d(GlobalPool1dOptions o) : Module("GlobalMaxPool1d"), opts_(o) {
  check_options(o, "GlobalMaxPool1d");
}
Tensor GlobalMaxPool1d::forward(const Tensor& x) {
  check(x, opts_, "GlobalMaxPool1d");
  return amax(x, {opts_.dim});
}
std::shared_ptr<Module> GlobalMaxPool1d::clone() const { return std::make_shared<GlobalMaxPool1d>(opts_); }
std::string GlobalMaxPool1d::repr() const { return str("GlobalMaxPool1d(dim=", opts_.dim, ")"); }

GlobalAvgPool1d::GlobalAvgPool1d(GlobalPool1dOptions o) : Module("GlobalAvgPool1d"), opts_(o) {
  check_options(o, "GlobalAvgPool1d");
}
Tensor GlobalAvgPool1d::forward(const Tensor& x) {
  check(x, opts_, "GlobalAvgPool1d");
  return mean(x, {opts_.dim});
}
std::shared_ptr<Module> GlobalAvgPool1d::clone() const { return std::make_shared<GlobalAvgPool1d>(opts_); }
std::string GlobalAvgPool1d::repr() const { return str("GlobalAvgPool1d(dim=", opts_.dim, ")"); }

}  // namespace koan::nn
