// safetensors: the format Hugging Face tools use for weights, read and written exactly.
//
// Layout: 8-byte little-endian header length N, N bytes of JSON header
// {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ..., "__metadata__": {...}},
// then the data buffer.  The loader validates everything and names what is wrong: a malformed or
// hostile file raises IOError, never crashes and never allocates more than the file's own size
// (header length capped, offsets bounded by the file, shapes checked against byte counts, tensors
// tiling the data buffer exactly, BOOL bytes 0 or 1, no duplicate names, bounded JSON nesting).
// save_safetensors writes atomically (see io/file.h).
//
//   koan::io::save_safetensors("w.safetensors", {{"weight", w}}, {{"epoch", "3"}});
//   auto file = koan::io::load_safetensors("w.safetensors");
//   Tensor w = file.tensors.at("weight");
#pragma once
#include <map>
#include <string>

#include "koan/tensor/tensor.h"

namespace koan::io {

struct SafetensorsFile {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> metadata;
};

// Header larger than this is refused (a corrupt length must not allocate gigabytes).
inline constexpr uint64_t kMaxHeaderBytes = 100ull << 20;
// Deeper JSON nesting than this in the header is refused (a valid header nests 3 deep).
inline constexpr int kMaxHeaderDepth = 64;

void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});
SafetensorsFile load_safetensors(const std::string& path);
// The same on an in-memory buffer; `what` names the source in errors.
SafetensorsFile parse_safetensors(const std::string& bytes, const std::string& what = "buffer");
std::string serialize_safetensors(const std::map<std::string, Tensor>& tensors,
                                  const std::map<std::string, std::string>& metadata = {});

}  // namespace koan::io
