// The time loop of a recurrent layer (kernels/rnn.h, rnn_sequence_*).  A step is a small GEMM
// (the char LSTM's: 32 x 1024 x 256, ~8M multiply-adds, ~60 us on one core) and a little
// pointwise work, so at 2 threads what matters is how often the threads meet.  The hidden units
// are cut into panels; one step's work for a panel (its slice of h W_hh^T for every gate, then
// the gate math on it while it is in cache) is one chunk, so a step is one parallel region with
// one barrier.  The panels are cut by size only, each is one GEMM call and its gate math is
// per element, so the results are the same at any thread count.
//
// The backward through time does the same per step (the panel's slice of dh_{t} = dgates_{t+1}
// W_hh, then the gate gradients), keeps every step's gate gradients, and leaves the weight
// gradient for the end: dW_hh = sum_t dgates_t^T h_{t-1} is one (G x T*B) x (T*B x H) GEMM, which
// splits well, instead of T small ones and T accumulations.
#include <algorithm>
#include <cstring>
#include <utility>

#include "koan/core/parallel.h"
#include "koan/kernels/cpu/rnn_cell_row.h"
#include "koan/kernels/gemm.h"
#include "koan/tensor/creation.h"

namespace koan::kernels {
namespace {

// Hidden units per panel: 64 (for H = 256, four panels of 32 x 256 x 256 multiply-adds each, two
// per thread at 2 threads), or all of them when H is small.  A step is split across threads
// only from 2^21 multiply-adds (kernels::gemm's threshold of about 2^20 per thread), below which
// waking a thread costs more than it saves.
constexpr int64_t kPanelUnits = 64;
constexpr int64_t kSplitMacs = int64_t(1) << 21;

struct Panels {
  int64_t H, width, count;
  bool split;
  Panels(int64_t B, int64_t G, int64_t H_)
      : H(H_),
        width(H_ >= 2 * kPanelUnits ? kPanelUnits : H_),
        count((H_ + width - 1) / width),
        split(count > 1 && B * G * H_ >= kSplitMacs) {}
  int64_t start(int64_t p) const { return p * width; }
  int64_t size(int64_t p) const { return std::min(width, H - p * width); }
  // fn(p) for every panel: one parallel region, or inline.
  template <class F>
  void run(F&& fn) const {
    auto body = [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) fn(p);
    };
    if (split)
      parallel_for(0, count, 1, body);
    else
      body(0, count);
  }
};

template <class T>
const T* opt(const Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

template <class T>
void forward_typed(CellKind kind, bool reverse, const Tensor& gx_t, const Tensor& h0_t, const Tensor& c0_t,
                   const Tensor& whh_t, const Tensor& bhh_t, const Tensor& y_t, const Tensor& cs_t,
                   const Tensor& ws_t) {
  const int64_t S = gx_t.size(0), B = gx_t.size(1), G = gx_t.size(2), H = whh_t.size(1);
  const int64_t gates = cell_gates(kind), W = cell_workspace(kind) * H;
  const bool lstm = kind == CellKind::Lstm;
  const Panels pn(B, G, H);
  const T *gx = gx_t.data_ptr<T>(), *h0 = h0_t.data_ptr<T>(), *c0 = opt<T>(c0_t), *bh = opt<T>(bhh_t);
  T *y = y_t.data_ptr<T>(), *cs = lstm ? cs_t.data_ptr<T>() : nullptr, *ws = ws_t.data_ptr<T>();
  // W_hh's rows regrouped panel by panel (panel p: gate 0's rows j0.., then gate 1's, ...), so a
  // panel's pre-activations for every gate are one GEMM.  With one panel that is W_hh itself.
  Tensor wp_t = whh_t;
  if (pn.count > 1) {
    wp_t = empty({G, H}, {.dtype = whh_t.dtype()});
    const T* w = whh_t.data_ptr<T>();
    T* wp = wp_t.data_ptr<T>();
    for (int64_t p = 0; p < pn.count; ++p)
      for (int64_t k = 0; k < gates; ++k)
        std::memcpy(wp + (gates * pn.start(p) + k * pn.size(p)) * H, w + (k * H + pn.start(p)) * H,
                    sizeof(T) * pn.size(p) * H);
  }
  const T* wp = wp_t.data_ptr<T>();
  Tensor pre_t = empty({B * G}, {.dtype = whh_t.dtype()});  // panel p's block at B * gates * j0
  T* pre = pre_t.data_ptr<T>();
  for (int64_t s = 0; s < S; ++s) {
    const int64_t t = reverse ? S - 1 - s : s, tp = reverse ? t + 1 : t - 1;
    const T* hprev = s == 0 ? h0 : y + tp * B * H;
    const T* cprev = !lstm ? nullptr : s == 0 ? c0 : cs + tp * B * H;
    pn.run([&](int64_t p) {
      const int64_t j0 = pn.start(p), n = pn.size(p), gn = gates * n;
      T* pp = pre + B * gates * j0;
      gemm<T>(false, true, B, gn, H, T(1), hprev, H, wp + gates * j0 * H, H, T(0), pp, gn);
      for (int64_t b = 0; b < B; ++b) {
        const int64_t row = t * B + b;
        rnn_row::forward(kind, n, H, gx + row * G + j0, pp + b * gn, n, static_cast<const T*>(nullptr),
                         bh ? bh + j0 : nullptr, hprev + b * H + j0, cprev ? cprev + b * H + j0 : nullptr,
                         y + row * H + j0, lstm ? cs + row * H + j0 : nullptr, ws + row * W + j0);
      }
    });
  }
}

template <class T>
void backward_typed(CellKind kind, bool reverse, const Tensor& dy_t, const Tensor& dhn_t, const Tensor& dcn_t,
                    const Tensor& h0_t, const Tensor& c0_t, const Tensor& whh_t, const Tensor& y_t,
                    const Tensor& cs_t, const Tensor& ws_t, const Tensor& dgi_t, const Tensor& dgh_t,
                    const Tensor& dh0_t, const Tensor& dc0_t, const Tensor& dw_t, const Tensor& db_t) {
  const int64_t S = y_t.size(0), B = y_t.size(1), H = y_t.size(2), G = whh_t.size(0);
  const int64_t W = cell_workspace(kind) * H;
  const bool lstm = kind == CellKind::Lstm, gru = kind == CellKind::Gru;
  const Panels pn(B, G, H);
  const DType dt = y_t.dtype();
  const T *dy = opt<T>(dy_t), *dhn = opt<T>(dhn_t), *dcn = opt<T>(dcn_t), *h0 = h0_t.data_ptr<T>();
  const T *c0 = opt<T>(c0_t), *whh = whh_t.data_ptr<T>(), *y = y_t.data_ptr<T>(), *cs = opt<T>(cs_t);
  const T* ws = ws_t.data_ptr<T>();
  T* dgi = dgi_t.data_ptr<T>();
  T* dgh = gru ? dgh_t.data_ptr<T>() : dgi;  // what multiplies W_hh and h_{t-1}
  // dh of the step being processed (panel p's block at B * j0), and the carries between steps:
  // dc (LSTM) and the GRU's direct part of dh_{t-1}, each written by one step and read by the next.
  Tensor dh_t = empty({B * H}, {.dtype = dt});
  Tensor carry[2] = {empty({2, B, H}, {.dtype = dt}), empty({2, B, H}, {.dtype = dt})};
  T* dh = dh_t.data_ptr<T>();
  T *carry_in = nullptr, *carry_out = carry[0].data_ptr<T>();
  for (int64_t s = 0; s < S; ++s) {
    const int64_t sf = S - 1 - s;  // the forward's step
    const int64_t t = reverse ? S - 1 - sf : sf, tp = reverse ? t + 1 : t - 1, tn = reverse ? t - 1 : t + 1;
    const T* hprev = sf == 0 ? h0 : y + tp * B * H;
    const T* cprev = !lstm ? nullptr : sf == 0 ? c0 : cs + tp * B * H;
    const T* dc_in = s == 0 ? dcn : carry_in;            // LSTM: dc_t
    const T* dd_in = s == 0 ? nullptr : carry_in + B * H;  // GRU: dh_t's part that bypasses W_hh
    pn.run([&](int64_t p) {
      const int64_t j0 = pn.start(p), n = pn.size(p);
      T* g = dh + B * j0;
      if (s == 0) {
        for (int64_t b = 0; b < B; ++b)
          for (int64_t j = 0; j < n; ++j) g[b * n + j] = dhn ? dhn[b * H + j0 + j] : T(0);
      } else {
        gemm<T>(false, false, B, n, G, T(1), dgh + tn * B * G, G, whh + j0, H, T(0), g, n);
        if (gru)
          for (int64_t b = 0; b < B; ++b)
            for (int64_t j = 0; j < n; ++j) g[b * n + j] += dd_in[b * H + j0 + j];
      }
      if (dy)
        for (int64_t b = 0; b < B; ++b)
          for (int64_t j = 0; j < n; ++j) g[b * n + j] += dy[(t * B + b) * H + j0 + j];
      for (int64_t b = 0; b < B; ++b) {
        const int64_t row = t * B + b, at = b * H + j0;
        rnn_row::backward(kind, n, H, g + b * n, dc_in ? dc_in + at : nullptr, ws + row * W + j0,
                          cprev ? cprev + at : nullptr, hprev + at, dgi + row * G + j0,
                          gru ? dgh + row * G + j0 : nullptr, lstm ? carry_out + at : nullptr,
                          gru ? carry_out + B * H + at : nullptr);
      }
    });
    carry_in = carry_out;
    carry_out = carry[(s + 1) % 2].data_ptr<T>();
  }
  // What reaches the initial state: dh_0 through W_hh from the first step (plus the GRU's direct
  // part), dc_0 from the LSTM's carry.
  const int64_t t_first = reverse ? S - 1 : 0;
  const T* dg_first = dgh + t_first * B * G;
  if (dh0_t.defined()) {
    T* dh0 = dh0_t.data_ptr<T>();
    if (gru) std::memcpy(dh0, carry_in + B * H, sizeof(T) * B * H);
    gemm<T>(false, false, B, H, G, T(1), dg_first, G, whh, H, gru ? T(1) : T(0), dh0, H);
  }
  if (dc0_t.defined()) std::memcpy(dc0_t.data_ptr<T>(), carry_in, sizeof(T) * B * H);
  if (dw_t.defined()) {
    // Every step but the first multiplies the previous step's output; the first multiplies h0.
    T* dw = dw_t.data_ptr<T>();
    if (S > 1) {
      const T* dg_rest = reverse ? dgh : dgh + B * G;
      const T* h_rest = reverse ? y + B * H : y;
      gemm<T>(true, false, G, H, (S - 1) * B, T(1), dg_rest, G, h_rest, H, T(0), dw, H);
    }
    gemm<T>(true, false, G, H, B, T(1), dg_first, G, h0, H, S > 1 ? T(1) : T(0), dw, H);
  }
  if (db_t.defined()) {
    // Column sums over all S * B rows, each column in row order whatever the split.
    T* db = db_t.data_ptr<T>();
    const int64_t rows = S * B;
    parallel_for(0, G, std::max<int64_t>(16, kParallelGrain / std::max<int64_t>(rows, 1)),
                 [&](int64_t j0, int64_t j1) {
                   for (int64_t j = j0; j < j1; ++j) db[j] = T(0);
                   for (int64_t r = 0; r < rows; ++r)
                     for (int64_t j = j0; j < j1; ++j) db[j] += dgh[r * G + j];
                 });
  }
}

}  // namespace

void rnn_sequence_forward(CellKind kind, bool reverse, const Tensor& gx, const Tensor& h0, const Tensor& c0,
                          const Tensor& w_hh, const Tensor& b_hh, const Tensor& y, const Tensor& cs,
                          const Tensor& ws) {
  KOAN_ASSERT(gx.dim() == 3 && gx.is_contiguous() && h0.is_contiguous() && w_hh.is_contiguous() &&
              y.is_contiguous() && ws.is_contiguous());
  KOAN_ASSERT(kind != CellKind::Lstm || (c0.defined() && c0.is_contiguous() && cs.is_contiguous()));
  KOAN_ASSERT(!b_hh.defined() || b_hh.is_contiguous());
  if (y.numel() == 0) return;
  visit_floating(gx.dtype(), "rnn_sequence", [&]<class T>() {
    forward_typed<T>(kind, reverse, gx, h0, c0, w_hh, b_hh, y, cs, ws);
  });
}

void rnn_sequence_backward(CellKind kind, bool reverse, const Tensor& dy, const Tensor& dh_n,
                           const Tensor& dc_n, const Tensor& h0, const Tensor& c0, const Tensor& w_hh,
                           const Tensor& y, const Tensor& cs, const Tensor& ws, const Tensor& dgi,
                           const Tensor& dgh, const Tensor& dh0, const Tensor& dc0, const Tensor& dw_hh,
                           const Tensor& db_hh) {
  for (const Tensor* t : {&dy, &dh_n, &dc_n, &h0, &c0, &w_hh, &y, &cs, &ws, &dgi, &dgh, &dh0, &dc0, &dw_hh, &db_hh})
    KOAN_ASSERT(!t->defined() || t->is_contiguous());
  KOAN_ASSERT(kind != CellKind::Lstm || (c0.defined() && cs.defined()));
  KOAN_ASSERT(kind != CellKind::Gru || dgh.defined());
  if (y.numel() == 0) return;
  visit_floating(y.dtype(), "rnn_sequence_backward", [&]<class T>() {
    backward_typed<T>(kind, reverse, dy, dh_n, dc_n, h0, c0, w_hh, y, cs, ws, dgi, dgh, dh0, dc0, dw_hh, db_hh);
  });
}

}  // namespace koan::kernels
