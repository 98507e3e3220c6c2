// A list that keeps its first N elements inside the object and moves to the heap only beyond N.
// A graph node's edges and output records are one or two for almost every op, so with N = 2
// they cost no allocation of their own (recording an op was eleven heap allocations, two of them
// these lists' buffers).  Only what Node needs: iteration, indexing, push_back, resize, reserve.
#pragma once
#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

#include "koan/core/error.h"

namespace koan::autograd {

template <class T, size_t N>
class InlineList {
 public:
  size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  T* begin() { return heap_.empty() ? inline_ : heap_.data(); }
  const T* begin() const { return heap_.empty() ? inline_ : heap_.data(); }
  T* end() { return begin() + n_; }
  const T* end() const { return begin() + n_; }
  T& operator[](size_t i) { return begin()[i]; }
  const T& operator[](size_t i) const { return begin()[i]; }
  const T& at(size_t i) const {
    KOAN_CHECK(i < n_, IndexError, "InlineList: index ", i, " out of range (size ", n_, ")");
    return begin()[i];
  }

  void reserve(size_t n) {
    if (n <= N) return;
    if (heap_.empty()) spill(n);
    else heap_.reserve(n);
  }
  void push_back(T v) {
    if (heap_.empty() && n_ < N) {
      inline_[n_++] = std::move(v);
      return;
    }
    if (heap_.empty()) spill(n_ + 1);
    heap_.push_back(std::move(v));
    ++n_;
  }
  void resize(size_t n) {
    if (heap_.empty() && n <= N) {
      for (size_t i = n; i < n_; ++i) inline_[i] = T();  // release what the dropped ones held
      n_ = n;
      return;
    }
    if (heap_.empty()) spill(n);
    heap_.resize(n);
    n_ = n;
  }

 private:
  // Moves the inline elements to the heap, which from then on holds the whole list.
  void spill(size_t capacity) {
    heap_.reserve(std::max(capacity, N + 1));
    for (size_t i = 0; i < n_; ++i) {
      heap_.push_back(std::move(inline_[i]));
      inline_[i] = T();
    }
  }

  T inline_[N] = {};
  std::vector<T> heap_;
  size_t n_ = 0;
};

}  // namespace koan::autograd
