// Typed errors and the checks that raise them.
//
//   KOAN_CHECK(x.dim() == 4, ShapeError, "conv2d: input ", x.shape(), " needs 4 dims (N, C, H, W)");
//
// The message is only built when the check fails, so checks are cheap on the hot path.
#pragma once
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace koan {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
class ShapeError : public Error { public: using Error::Error; };
class DTypeError : public Error { public: using Error::Error; };
class IndexError : public Error { public: using Error::Error; };
class ValueError : public Error { public: using Error::Error; };
class IOError : public Error { public: using Error::Error; };
// Raised by the autograd engine (freed graphs, in-place modification of saved tensors).
class AutogradError : public Error { public: using Error::Error; };
// An invariant that only a bug in koan can break.
class InternalError : public Error { public: using Error::Error; };

namespace detail {
template <class T>
void put(std::ostream& os, const T& v) {
  os << v;
}
template <class T>
void put(std::ostream& os, const std::vector<T>& v) {
  os << '[';
  for (size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
  os << ']';
}
inline void put(std::ostream& os, bool b) { os << (b ? "true" : "false"); }

template <class... Args>
std::string cat(const Args&... args) {
  std::ostringstream os;
  (put(os, args), ...);
  return os.str();
}
}  // namespace detail

// Builds a message from any streamable values (vectors print as [a, b, c]).
template <class... Args>
std::string str(const Args&... args) {
  return detail::cat(args...);
}

}  // namespace koan

#define KOAN_CHECK(cond, ErrorType, ...)                         \
  do {                                                           \
    if (!(cond)) [[unlikely]]                                    \
      throw ::koan::ErrorType(::koan::detail::cat(__VA_ARGS__)); \
  } while (0)

#define KOAN_ASSERT(cond, ...)                                                              \
  do {                                                                                      \
    if (!(cond)) [[unlikely]]                                                               \
      throw ::koan::InternalError(::koan::detail::cat("internal error (", __FILE__, ":",    \
                                                      __LINE__, "): " #cond " ", ##__VA_ARGS__)); \
  } while (0)
