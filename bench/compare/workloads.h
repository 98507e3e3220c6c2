// The comparison suite's one list of measurements: both workers report under these keys, and the
// driver prints them in this order with these labels.  Adding a workload = one row here plus its
// code in koan_compare.cpp and torch_compare.cpp.
#pragma once
#include <string_view>

namespace compare {

enum class Better { Higher, Lower, None };  // None: no ratio (accuracy)

struct Workload {
  std::string_view key;    // "mlp.train.b64": group before the first dot
  std::string_view label;  // what the table prints
  std::string_view unit;
  Better better;
  double flops = 0;        // per call, for GEMM rows: the driver adds the share of peak
};

inline constexpr Workload kWorkloads[] = {
    {"mlp.train.b64", "MLP 784-256-128-10 train, SGD+momentum, batch 64", "samples/s", Better::Higher},
    {"mlp.train.b256", "MLP 784-256-128-10 train, SGD+momentum, batch 256", "samples/s", Better::Higher},
    {"mlp.infer.b64", "MLP inference, batch 64", "samples/s", Better::Higher},
    {"mlp.infer.b256", "MLP inference, batch 256", "samples/s", Better::Higher},
    {"cnn.train.b64", "seed CNN train, Adam, batch 64", "samples/s", Better::Higher},
    {"cnn.train.b256", "seed CNN train, Adam, batch 256", "samples/s", Better::Higher},
    {"cnn.infer.b64", "seed CNN inference, batch 64", "samples/s", Better::Higher},
    {"cnn.infer.b256", "seed CNN inference, batch 256", "samples/s", Better::Higher},
    {"lstm.train", "char LSTM LM train (emb 64, LSTM 256, seq 64, batch 32), Adam", "tokens/s", Better::Higher},
    {"gemm.sq256", "GEMM 256x256x256", "GFLOP/s", Better::Higher, 2.0 * 256 * 256 * 256},
    {"gemm.sq512", "GEMM 512x512x512", "GFLOP/s", Better::Higher, 2.0 * 512 * 512 * 512},
    {"gemm.sq1024", "GEMM 1024x1024x1024", "GFLOP/s", Better::Higher, 2.0 * 1024 * 1024 * 1024},
    {"gemm.sq2048", "GEMM 2048x2048x2048", "GFLOP/s", Better::Higher, 2.0 * 2048 * 2048 * 2048},
    {"gemm.mlp1.b64", "linear 64x784 -> 256 (MLP layer 1, batch 64)", "GFLOP/s", Better::Higher, 2.0 * 64 * 784 * 256},
    {"gemm.mlp1.b256", "linear 256x784 -> 256 (MLP layer 1, batch 256)", "GFLOP/s", Better::Higher,
     2.0 * 256 * 784 * 256},
    {"gemm.mlp2.b256", "linear 256x256 -> 128 (MLP layer 2, batch 256)", "GFLOP/s", Better::Higher,
     2.0 * 256 * 256 * 128},
    {"gemm.cnnfc.b64", "linear 64x1600 -> 128 (CNN dense, batch 64)", "GFLOP/s", Better::Higher,
     2.0 * 64 * 1600 * 128},
    {"gemm.cnnfc.b256", "linear 256x1600 -> 128 (CNN dense, batch 256)", "GFLOP/s", Better::Higher,
     2.0 * 256 * 1600 * 128},
    {"gemm.lstm.hh", "linear 32x256 -> 1024 (LSTM recurrent step)", "GFLOP/s", Better::Higher,
     2.0 * 32 * 256 * 1024},
    {"gemm.lstm.ih", "linear 2048x64 -> 1024 (LSTM input projection)", "GFLOP/s", Better::Higher,
     2.0 * 2048 * 64 * 1024},
    {"op.add.nograd", "1-element add, no graph", "us/op", Better::Lower},
    {"op.add.graph", "1-element add, graph recorded", "us/op", Better::Lower},
    {"op.linear_step", "Linear(16,16) fwd+bwd+SGD step, batch 8", "us/step", Better::Lower},
    {"mem.cnn.peak", "CNN train b64: peak resident memory (process total, 7680 images loaded)", "MiB", Better::Lower},
    {"mem.cnn.train", "CNN train b64: peak RSS above data-loaded RSS", "MiB", Better::Lower},
    {"mem.cnn.faults", "CNN train b64: page faults per steady-state step", "faults/step", Better::Lower},
    {"epochs.cnn.time", "seed CNN, 5 epochs batch 64, Adam + one-cycle: training wall time", "s", Better::Lower},
    {"epochs.cnn.acc", "seed CNN, 5 epochs, Adam + one-cycle: test accuracy", "%", Better::None},
};

inline const Workload* find_workload(std::string_view key) {
  for (const Workload& w : kWorkloads)
    if (w.key == key) return &w;
  return nullptr;
}

inline std::string_view group_of(std::string_view key) { return key.substr(0, key.find('.')); }

// Groups a run can select with --only; memory and epochs run in processes of their own.
inline constexpr std::string_view kGroups[] = {"mlp", "cnn", "lstm", "gemm", "op", "mem", "epochs"};

}  // namespace compare
