#include "koan/kernels/rnn.h"

#include <algorithm>

#include "koan/core/parallel.h"
#include "koan/kernels/cpu/rnn_cell_row.h"

namespace koan::kernels {
namespace {

// Pointers of an optional tensor (null when undefined).
template <class T>
const T* opt(const Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}
template <class T>
T* opt_mut(const Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

// Splits the batch rows across threads; each row is independent, so results do not depend on
// the thread count.
template <class F>
void for_rows(int64_t B, int64_t G, F&& f) {
  parallel_for(0, B, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(G, 1)),
               [&](int64_t b0, int64_t b1) {
                 for (int64_t b = b0; b < b1; ++b) f(b);
               });
}

template <class T>
void forward_typed(CellKind kind, const Tensor& gi_t, const Tensor& gh_t, const Tensor& bi_t,
                   const Tensor& bh_t, const Tensor& h_t, const Tensor& c_t, const Tensor& ho_t,
                   const Tensor& co_t, const Tensor& ws_t) {
  const int64_t B = ho_t.size(0), H = ho_t.size(1), G = cell_gates(kind) * H;
  const int64_t W = cell_workspace(kind) * H;
  const T *gi = gi_t.data_ptr<T>(), *gh = gh_t.data_ptr<T>();
  const T *bi = opt<T>(bi_t), *bh = opt<T>(bh_t), *hp = opt<T>(h_t), *cp = opt<T>(c_t);
  T *ho = ho_t.data_ptr<T>(), *co = opt_mut<T>(co_t), *ws = ws_t.data_ptr<T>();
  for_rows(B, G, [&](int64_t b) {
    rnn_row::forward(kind, H, H, gi + b * G, gh + b * G, H, bi, bh, hp ? hp + b * H : nullptr,
                     cp ? cp + b * H : nullptr, ho + b * H, co ? co + b * H : nullptr, ws + b * W);
  });
}

template <class T>
void backward_typed(CellKind kind, const Tensor& dh_t, const Tensor& dc_t, const Tensor& ws_t,
                    const Tensor& c_t, const Tensor& h_t, const Tensor& dgi_t, const Tensor& dgh_t,
                    const Tensor& dcp_t, const Tensor& dhd_t) {
  const int64_t B = dh_t.size(0), H = dh_t.size(1), G = cell_gates(kind) * H;
  const int64_t W = cell_workspace(kind) * H;
  const T *dh = dh_t.data_ptr<T>(), *dc = opt<T>(dc_t), *ws = ws_t.data_ptr<T>();
  const T *cp = opt<T>(c_t), *hp = opt<T>(h_t);
  T *dgi = dgi_t.data_ptr<T>(), *dgh = opt_mut<T>(dgh_t), *dcp = opt_mut<T>(dcp_t),
    *dhd = opt_mut<T>(dhd_t);
  for_rows(B, G, [&](int64_t b) {
    rnn_row::backward(kind, H, H, dh + b * H, dc ? dc + b * H : nullptr, ws + b * W, cp ? cp + b * H : nullptr,
                      hp ? hp + b * H : nullptr, dgi + b * G, dgh ? dgh + b * G : nullptr,
                      dcp ? dcp + b * H : nullptr, dhd ? dhd + b * H : nullptr);
  });
}

}  // namespace

void rnn_cell_forward(CellKind kind, const Tensor& gi, const Tensor& gh, const Tensor& b_ih,
                      const Tensor& b_hh, const Tensor& h, const Tensor& c, const Tensor& h_out,
                      const Tensor& c_out, const Tensor& ws) {
  KOAN_ASSERT(gi.is_contiguous() && gh.is_contiguous() && h_out.is_contiguous() && ws.is_contiguous());
  KOAN_ASSERT(kind != CellKind::Lstm || (c.defined() && c_out.defined() && c.is_contiguous()));
  KOAN_ASSERT(kind != CellKind::Gru || (h.defined() && h.is_contiguous()));
  if (h_out.numel() == 0) return;
  visit_floating(gi.dtype(), "rnn_cell", [&]<class T>() {
    forward_typed<T>(kind, gi, gh, b_ih, b_hh, h, c, h_out, c_out, ws);
  });
}

void rnn_cell_backward(CellKind kind, const Tensor& dh, const Tensor& dc, const Tensor& ws,
                       const Tensor& c, const Tensor& h, const Tensor& dgi, const Tensor& dgh,
                       const Tensor& dc_prev, const Tensor& dh_direct) {
  KOAN_ASSERT(dh.is_contiguous() && ws.is_contiguous() && dgi.is_contiguous());
  KOAN_ASSERT(!dc.defined() || dc.is_contiguous());
  KOAN_ASSERT(kind != CellKind::Lstm || (c.defined() && c.is_contiguous()));
  KOAN_ASSERT(kind != CellKind::Gru || (h.defined() && dgh.defined() && h.is_contiguous()));
  if (dh.numel() == 0) return;
  visit_floating(dh.dtype(), "rnn_cell_backward", [&]<class T>() {
    backward_typed<T>(kind, dh, dc, ws, c, h, dgi, dgh, dc_prev, dh_direct);
  });
}

}  // namespace koan::kernels
