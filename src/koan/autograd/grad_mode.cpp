#include "koan/autograd/grad_mode.h"

namespace koan {
namespace {
thread_local bool grad_enabled = true;  // per thread, like PyTorch's
}
bool GradMode::enabled() { return grad_enabled; }
void GradMode::set_enabled(bool on) { grad_enabled = on; }
}  // namespace koan
