// set_flush_denormal: denormal floats become zero on every koan thread, and only when asked.
#include <cstring>
#include <limits>

#include "koan/koan.h"
#include "support/testing.h"

namespace koan {
namespace {

#if defined(__SSE2__)
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

  ASSERT_TRUE(set_flush_denormal(false));
  EXPECT_FALSE(flush_denormal());
  Tensor z = mul(x, 1.0);
  EXPECT_EQ(nonzeros(z), double(1 << 20)) << "denormals kept";
  EXPECT_EQ(v * 1.0f, tiny);
  set_num_threads(threads);
}
#endif

}  // namespace
}  // namespace koan
