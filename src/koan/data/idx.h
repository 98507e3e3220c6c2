// IDX files, the format of MNIST and Fashion-MNIST, gzip-compressed or raw.
//
//   Tensor images = data::read_idx("data/fashion-mnist/train-images-idx3-ubyte.gz");  // uint8 (60000, 28, 28)
//   data::write_idx("out.idx.gz", labels, /*gzip=*/true);
//
// Layout: two zero bytes, a type code (0x08 ubyte, 0x09 sbyte, 0x0B int16, 0x0C int32, 0x0D float32,
// 0x0E float64), the number of dims, each dim as a big-endian uint32, then the data big-endian.
// Compression is detected from the content (gzip's magic), not the name.  Element types koan lacks
// widen: sbyte and int16 read as int32.  Anything malformed or truncated is an IOError naming the
// file and what is wrong with it.
#pragma once
#include <string>

#include "koan/tensor/tensor.h"

namespace koan::data {

Tensor read_idx(const std::string& path);
// Writes t (uint8, int32, float32 or float64; contiguous or not) as IDX, gzip'd if `gzip`.
void write_idx(const std::string& path, const Tensor& t, bool gzip = false);

}  // namespace koan::data
