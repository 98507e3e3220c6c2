#include "koan/data/idx.h"

#include <zlib.h>

#include <bit>
#include <cstring>
#include <vector>

#include "koan/tensor/creation.h"

namespace koan::data {
namespace {

// zlib's message without the file name it prefixes (ours already names the file).
std::string zlib_reason(gzFile f, const std::string& path, int* code) {
  const char* why = gzerror(f, code);
  std::string msg = why ? why : "";
  if (msg.rfind(path + ": ", 0) == 0) msg.erase(0, path.size() + 2);
  return msg;
}

// The whole file, decompressed when it is gzip (zlib's gzread passes raw files through).
std::vector<uint8_t> read_all(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  KOAN_CHECK(f != nullptr, IOError, "read_idx: cannot open ", path, ": ", std::strerror(errno));
  std::vector<uint8_t> bytes;
  std::vector<uint8_t> chunk(1 << 20);
  for (;;) {
    int got = gzread(f, chunk.data(), static_cast<unsigned>(chunk.size()));
    if (got < 0) {
      int code = 0;
      std::string why = zlib_reason(f, path, &code);
      gzclose(f);
      throw IOError(str("read_idx: ", path, ": corrupt gzip data (", why, ")"));
    }
    if (got == 0) break;
    bytes.insert(bytes.end(), chunk.begin(), chunk.begin() + got);
  }
  // A gzip stream cut short reads as a clean end of file; gzerror still reports it.
  int code = 0;
  std::string msg = zlib_reason(f, path, &code);
  gzclose(f);
  KOAN_CHECK(code == Z_OK || code == Z_STREAM_END, IOError, "read_idx: ", path, ": truncated or corrupt gzip data (",
             msg, ")");
  return bytes;
}

uint32_t be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

struct TypeInfo {
  int bytes;
  DType dtype;
  const char* name;
};

bool type_info(uint8_t code, TypeInfo& info) {
  switch (code) {
    case 0x08: info = {1, DType::UInt8, "ubyte"}; return true;
    case 0x09: info = {1, DType::Int32, "sbyte"}; return true;
    case 0x0B: info = {2, DType::Int32, "int16"}; return true;
    case 0x0C: info = {4, DType::Int32, "int32"}; return true;
    case 0x0D: info = {4, DType::Float32, "float32"}; return true;
    case 0x0E: info = {8, DType::Float64, "float64"}; return true;
    default: return false;
  }
}

// Big-endian element k of width W as an unsigned integer.
template <int W>
uint64_t be_at(const uint8_t* p, int64_t k) {
  uint64_t v = 0;
  for (int b = 0; b < W; ++b) v = (v << 8) | p[k * W + b];
  return v;
}

}  // namespace

Tensor read_idx(const std::string& path) {
  std::vector<uint8_t> bytes = read_all(path);
  KOAN_CHECK(bytes.size() >= 4, IOError, "read_idx: ", path, ": truncated: ", bytes.size(),
             " bytes, shorter than the 4-byte IDX magic");
  KOAN_CHECK(bytes[0] == 0 && bytes[1] == 0, IOError, "read_idx: ", path, ": bad magic: the first two bytes are ",
             int(bytes[0]), " and ", int(bytes[1]), ", expected 0 and 0 (not an IDX file?)");
  TypeInfo ti;
  KOAN_CHECK(type_info(bytes[2], ti), IOError, "read_idx: ", path, ": bad magic: unknown element type code ",
             int(bytes[2]), " (expected 8, 9, 11, 12, 13 or 14, i.e. 0x08, 0x09, 0x0B, 0x0C, 0x0D or 0x0E)");
  int ndim = bytes[3];
  KOAN_CHECK(ndim >= 1, IOError, "read_idx: ", path, ": bad magic: 0 dims");
  size_t header = 4 + 4 * static_cast<size_t>(ndim);
  KOAN_CHECK(bytes.size() >= header, IOError, "read_idx: ", path, ": truncated header: ", ndim, " dims need ",
             header, " header bytes, the file has ", bytes.size());
  Shape shape(ndim);
  int64_t count = 1;
  for (int d = 0; d < ndim; ++d) {
    shape[d] = be32(bytes.data() + 4 + 4 * d);
    // Checked as we go: 2^31 * 2^31 * ... would overflow int64 silently.
    KOAN_CHECK(shape[d] == 0 || count <= (int64_t(1) << 40) / shape[d], IOError, "read_idx: ", path,
               ": dims ", shape, " are implausibly large (corrupt header?)");
    count *= shape[d];
  }
  size_t want = header + static_cast<size_t>(count) * ti.bytes;
  KOAN_CHECK(bytes.size() >= want, IOError, "read_idx: ", path, ": truncated: dims ", shape, " of ", ti.name,
             " need ", want - header, " data bytes, the file has ", bytes.size() - header);
  KOAN_CHECK(bytes.size() == want, IOError, "read_idx: ", path, ": ", bytes.size() - want,
             " unexpected bytes after the data for dims ", shape, " of ", ti.name);

  const uint8_t* p = bytes.data() + header;
  Tensor t = empty(shape, {.dtype = ti.dtype});
  switch (bytes[2]) {
    case 0x08: std::memcpy(t.raw_data(), p, count); break;
    case 0x09: {
      auto* o = t.data_ptr<int32_t>();
      for (int64_t k = 0; k < count; ++k) o[k] = static_cast<int8_t>(p[k]);
      break;
    }
    case 0x0B: {
      auto* o = t.data_ptr<int32_t>();
      for (int64_t k = 0; k < count; ++k) o[k] = static_cast<int16_t>(be_at<2>(p, k));
      break;
    }
    case 0x0C: {
      auto* o = t.data_ptr<int32_t>();
      for (int64_t k = 0; k < count; ++k) o[k] = static_cast<int32_t>(be_at<4>(p, k));
      break;
    }
    case 0x0D: {
      auto* o = t.data_ptr<float>();
      for (int64_t k = 0; k < count; ++k) {
        auto u = static_cast<uint32_t>(be_at<4>(p, k));
        std::memcpy(o + k, &u, 4);
      }
      break;
    }
    case 0x0E: {
      auto* o = t.data_ptr<double>();
      for (int64_t k = 0; k < count; ++k) {
        uint64_t u = be_at<8>(p, k);
        std::memcpy(o + k, &u, 8);
      }
      break;
    }
  }
  return t;
}

static_assert(std::endian::native == std::endian::little, "write_idx swaps bytes assuming a little-endian host");

void write_idx(const std::string& path, const Tensor& t, bool gzip) {
  KOAN_CHECK(t.defined() && t.dim() >= 1 && t.dim() <= 255, ShapeError, "write_idx: ", path,
             ": needs a tensor with 1 to 255 dims");
  uint8_t code;
  int w;
  switch (t.dtype()) {
    case DType::UInt8: code = 0x08, w = 1; break;
    case DType::Int32: code = 0x0C, w = 4; break;
    case DType::Float32: code = 0x0D, w = 4; break;
    case DType::Float64: code = 0x0E, w = 8; break;
    default: throw DTypeError(str("write_idx: ", path, ": IDX has no type for ", name(t.dtype())));
  }
  Tensor c = t.contiguous();
  std::vector<uint8_t> out = {0, 0, code, static_cast<uint8_t>(t.dim())};
  for (int64_t s : t.shape()) {
    KOAN_CHECK(s <= 0xffffffffLL, ShapeError, "write_idx: ", path, ": dim ", s, " does not fit IDX's uint32");
    for (int b = 3; b >= 0; --b) out.push_back(static_cast<uint8_t>(s >> (8 * b)));
  }
  const auto* src = static_cast<const uint8_t*>(c.raw_data());
  for (int64_t k = 0; k < c.numel(); ++k)
    for (int b = w - 1; b >= 0; --b) out.push_back(src[k * w + b]);  // little-endian host -> big-endian

  if (gzip) {
    gzFile f = gzopen(path.c_str(), "wb");
    KOAN_CHECK(f != nullptr, IOError, "write_idx: cannot open ", path, ": ", std::strerror(errno));
    int wrote = out.empty() ? 0 : gzwrite(f, out.data(), static_cast<unsigned>(out.size()));
    int rc = gzclose(f);
    KOAN_CHECK(wrote == static_cast<int>(out.size()) && rc == Z_OK, IOError, "write_idx: ", path, ": write failed");
  } else {
    FILE* f = std::fopen(path.c_str(), "wb");
    KOAN_CHECK(f != nullptr, IOError, "write_idx: cannot open ", path, ": ", std::strerror(errno));
    size_t wrote = std::fwrite(out.data(), 1, out.size(), f);
    int rc = std::fclose(f);
    KOAN_CHECK(wrote == out.size() && rc == 0, IOError, "write_idx: ", path, ": write failed");
  }
}

}  // namespace koan::data
