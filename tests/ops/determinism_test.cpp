// Results must not depend on the thread count, including where vectorised math (libmvec) and
// scalar math round differently: chunk boundaries decide which elements take which path.
#include "support/testing.h"

namespace koan {
namespace {

TEST(Determinism, TranscendentalsAgreeAcrossThreadCounts) {
  Generator g(21);
  for (int64_t n : {4097, 65537, 1000003}) {
    for (DType dt : {DType::Float32, DType::Float64}) {
      Tensor x = randn({n}, {.dtype = dt}, &g);
      Tensor pos = add(abs(x), 0.1);
      auto run = [&](int threads) {
        set_num_threads(threads);
        return std::vector<Tensor>{exp(x), tanh(x), sigmoid(x), erf(x), log(pos), log1p(pos), gelu(x), silu(x),
                                   softmax(x.reshape({-1, 1}), 0)};
      };
      auto one = run(1), two = run(2);
      set_num_threads(2);
      for (size_t i = 0; i < one.size(); ++i)
        EXPECT_TRUE(equal(one[i], two[i])) << "function " << i << " n=" << n << " " << name(dt);
    }
  }
}

}  // namespace
}  // namespace koan
