// Whether ops record the graph.  NoGradGuard turns recording off for its scope (torch.no_grad()).
//
//   { koan::NoGradGuard g;  w.sub_(lr * w.grad()); }
#pragma once

namespace koan {

class GradMode {
 public:
  static bool enabled();
  static void set_enabled(bool on);
};

class NoGradGuard {
 public:
  NoGradGuard() : prev_(GradMode::enabled()) { GradMode::set_enabled(false); }
  ~NoGradGuard() { GradMode::set_enabled(prev_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

// The opposite, for code that must record inside a no-grad region (rare: create_graph backward).
class EnableGradGuard {
 public:
  explicit EnableGradGuard(bool on = true) : prev_(GradMode::enabled()) { GradMode::set_enabled(on); }
  ~EnableGradGuard() { GradMode::set_enabled(prev_); }
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool prev_;
};

}  // namespace koan
