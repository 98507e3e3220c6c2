// set_flush_denormal: denormal floats become zero on every koan thread, and only when asked.
#include <cstring>
#include <limits>

#include "koan/core/compute_pool.h"
#include "koan/koan.h"
#include "support/testing.h"

namespace koan {
namespace {

#if defined(__SSE2__)
// flush_denormal() as seen by each pool worker, asked on the worker itself.
std::vector<int> on_each_worker() {
  std::vector<int> seen(detail::pool_workers(), -1);
  detail::run_on_every_worker([](void* ctx, int i) { (*static_cast<std::vector<int>*>(ctx))[i] = flush_denormal(); },
                              &seen);
  return seen;
}

double nonzeros(const Tensor& t) {
  const float* p = t.contiguous().data_ptr<float>();
  double n = 0;
  for (int64_t i = 0; i < t.numel(); ++i) n += p[i] != 0.0f;
  return n;
}

TEST(FlushDenormal, TinyProductsBecomeZeroOnEveryThreadAndComeBackWhenOff) {
  const float tiny = std::numeric_limits<float>::denorm_min() * 1000;  // a denormal
  ASSERT_LT(tiny, std::numeric_limits<float>::min());
  const int threads = get_num_threads();
  set_num_threads(2);
  // Big enough that parallel_for splits it over both threads.
  Tensor x = full({1 << 20}, tiny, {.dtype = DType::Float32});

  ASSERT_TRUE(set_flush_denormal(true));
  EXPECT_TRUE(flush_denormal());
  Tensor y = mul(x, 1.0);
  EXPECT_EQ(nonzeros(y), 0.0) << "every element flushed, on both threads";
  volatile float v = tiny;
  EXPECT_EQ(v * 1.0f, 0.0f);
  // Asked directly on every worker, including ones started after the call.
  set_num_threads(4);
  parallel_for(0, 4, 1, [](int64_t, int64_t) {});  // starts the workers
  ASSERT_EQ(detail::pool_workers(), 3);
  EXPECT_EQ(on_each_worker(), std::vector<int>(3, 1));

  ASSERT_TRUE(set_flush_denormal(false));
  EXPECT_FALSE(flush_denormal());
  Tensor z = mul(x, 1.0);
  EXPECT_EQ(nonzeros(z), double(1 << 20)) << "denormals kept";
  EXPECT_EQ(v * 1.0f, tiny);
  EXPECT_EQ(on_each_worker(), std::vector<int>(3, 0));
  set_num_threads(threads);
}
#endif

}  // namespace
}  // namespace koan
