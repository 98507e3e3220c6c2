// Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1-p), so
// the expected value is unchanged and eval mode is the identity.
//
//   Tensor h = koan::dropout(x, 0.5, /*training=*/true);
//   koan::Generator g(7);
//   Tensor a = koan::dropout(x, 0.2, true, &g);   // a seed gives one mask at any thread count
#pragma once
#include "koan/tensor/random.h"
#include "koan/tensor/tensor.h"

namespace koan {

// p in [0, 1] (1 gives zeros).  With training false, p == 0 or an empty x it returns x itself,
// as torch does.  The mask is drawn from gen (the default generator when null), one counter per
// element.  Floating inputs only.
Tensor dropout(const Tensor& x, double p = 0.5, bool training = true, Generator* gen = nullptr);

}  // namespace koan
