#include "koan/io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "koan/io/file.h"
#include "koan/tensor/creation.h"

namespace koan::io {
namespace {

using json = nlohmann::json;

const char* st_dtype(DType t) {
  switch (t) {
    case DType::Bool: return "BOOL";
    case DType::UInt8: return "U8";
    case DType::Int32: return "I32";
    case DType::Int64: return "I64";
    case DType::Float32: return "F32";
    case DType::Float64: return "F64";
  }
  return "?";
}

DType parse_dtype(const std::string& s, const std::string& what, const std::string& key) {
  if (s == "BOOL") return DType::Bool;
  if (s == "U8") return DType::UInt8;
  if (s == "I32") return DType::Int32;
  if (s == "I64") return DType::Int64;
  if (s == "F32") return DType::Float32;
  if (s == "F64") return DType::Float64;
  throw IOError(str("safetensors: ", what, ": tensor \"", key, "\" has dtype \"", s,
                    "\", which koan does not support (supported: BOOL U8 I32 I64 F32 F64)"));
}

}  // namespace

std::string serialize_safetensors(const std::map<std::string, Tensor>& tensors,
                                  const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  std::vector<std::pair<const Tensor*, uint64_t>> order;
  for (auto& [name, t] : tensors) {
    KOAN_CHECK(name != "__metadata__", ValueError, "save_safetensors: \"__metadata__\" is reserved");
    KOAN_CHECK(t.defined(), ValueError, "save_safetensors: tensor \"", name, "\" is undefined");
    uint64_t n = static_cast<uint64_t>(t.numel()) * t.element_size();
    header[name] = {{"dtype", st_dtype(t.dtype())}, {"shape", t.shape()}, {"data_offsets", {offset, offset + n}}};
    order.push_back({&t, offset});
    offset += n;
  }
  std::string h;
  try {
    h = header.dump();
  } catch (const json::exception& e) {  // names or metadata that are not valid UTF-8
    throw ValueError(str("save_safetensors: cannot encode the header: ", e.what()));
  }
  h.append((8 - h.size() % 8) % 8, ' ');  // pad so the data starts 8-byte aligned
  std::string out(8, '\0');
  uint64_t hl = h.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((hl >> (8 * i)) & 0xff);
  out += h;
  size_t base = out.size();
  out.resize(base + offset);
  // Strided copy without calling ops: io/ sits beside ops, not above it.
  for (auto& [t, off] : order) {
    size_t es = t->element_size();
    const char* src = static_cast<const char*>(t->storage()->data());
    char* dst = out.data() + base + off;
    if (t->is_contiguous()) {
      if (t->numel()) std::memcpy(dst, t->raw_data(), t->numel() * es);
      continue;
    }
    for_each_offset(t->layout(), [&](int64_t o) {
      std::memcpy(dst, src + o * static_cast<int64_t>(es), es);
      dst += es;
    });
  }
  return out;
}

void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  atomic_write(path, serialize_safetensors(tensors, metadata));
}

SafetensorsFile parse_safetensors(const std::string& bytes, const std::string& what) {
  KOAN_CHECK(bytes.size() >= 8, IOError, "safetensors: ", what, ": file is ", bytes.size(),
             " bytes, too short for the 8-byte header length");
  uint64_t hl = 0;
  for (int i = 0; i < 8; ++i) hl |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  KOAN_CHECK(hl <= kMaxHeaderBytes, IOError, "safetensors: ", what, ": header length ", hl,
             " exceeds the ", kMaxHeaderBytes, "-byte limit (corrupt file?)");
  KOAN_CHECK(hl <= bytes.size() - 8, IOError, "safetensors: ", what, ": header length ", hl,
             " runs past the end of the file (", bytes.size(), " bytes): truncated?");
  KOAN_CHECK(hl >= 2 && bytes[8] == '{', IOError, "safetensors: ", what,
             ": header must be a JSON object starting with '{'");
  json header;
  std::set<std::string> seen;
  // The callback bounds nesting (a hostile header of nested brackets must not exhaust memory or
  // the stack) and refuses duplicate top-level names, which JSON parsers would silently merge.
  json::parser_callback_t guard = [&](int depth, json::parse_event_t event, json& parsed) {
    KOAN_CHECK(depth <= kMaxHeaderDepth, IOError, "safetensors: ", what, ": header nests deeper than ",
               kMaxHeaderDepth, " levels");
    if (event == json::parse_event_t::key && depth == 1) {
      std::string key = parsed.get<std::string>();
      KOAN_CHECK(seen.insert(key).second, IOError, "safetensors: ", what, ": header names \"", key,
                 "\" twice");
    }
    return true;
  };
  try {
    header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(hl), guard);
  } catch (const json::exception& e) {
    throw IOError(str("safetensors: ", what, ": header is not valid JSON: ", e.what()));
  }
  KOAN_CHECK(header.is_object(), IOError, "safetensors: ", what, ": header must be a JSON object");
  uint64_t data_size = bytes.size() - 8 - hl;
  const char* data = bytes.data() + 8 + hl;
  SafetensorsFile file;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (auto& [key, v] : header.items()) {
    if (key == "__metadata__") {
      KOAN_CHECK(v.is_object(), IOError, "safetensors: ", what, ": __metadata__ must be an object");
      for (auto& [mk, mv] : v.items()) {
        KOAN_CHECK(mv.is_string(), IOError, "safetensors: ", what, ": metadata \"", mk, "\" must be a string");
        file.metadata[mk] = mv.get<std::string>();
      }
      continue;
    }
    KOAN_CHECK(v.is_object() && v.contains("dtype") && v.contains("shape") && v.contains("data_offsets") &&
                   v["dtype"].is_string() && v["shape"].is_array() && v["data_offsets"].is_array() &&
                   v["data_offsets"].size() == 2,
               IOError, "safetensors: ", what, ": entry \"", key,
               "\" needs \"dtype\" (string), \"shape\" (array) and \"data_offsets\" ([begin, end])");
    DType dt = parse_dtype(v["dtype"].get<std::string>(), what, key);
    Shape shape;
    unsigned __int128 count = 1;
    for (auto& d : v["shape"]) {
      KOAN_CHECK(d.is_number_unsigned(), IOError, "safetensors: ", what, ": tensor \"", key,
                 "\" has a non-integer or negative dimension ", d.dump());
      uint64_t dv = d.get<uint64_t>();
      // Each dimension must fit Shape's int64 even when another dimension is 0.
      KOAN_CHECK(dv < (uint64_t{1} << 62), IOError, "safetensors: ", what, ": tensor \"", key,
                 "\" has dimension ", dv, ", too large");
      count *= dv;
      KOAN_CHECK(count < (static_cast<unsigned __int128>(1) << 62), IOError, "safetensors: ", what,
                 ": tensor \"", key, "\" shape overflows");
      shape.push_back(static_cast<int64_t>(dv));
    }
    auto& off = v["data_offsets"];
    KOAN_CHECK(off[0].is_number_unsigned() && off[1].is_number_unsigned(), IOError, "safetensors: ",
               what, ": tensor \"", key, "\" has invalid data_offsets ", off.dump());
    uint64_t b = off[0].get<uint64_t>(), e = off[1].get<uint64_t>();
    KOAN_CHECK(b <= e && e <= data_size, IOError, "safetensors: ", what, ": tensor \"", key,
               "\" data_offsets [", b, ", ", e, "] are reversed or fall outside the ", data_size,
               "-byte data buffer");
    unsigned __int128 nbytes = count * element_size(dt);
    KOAN_CHECK(nbytes < (static_cast<unsigned __int128>(1) << 62), IOError, "safetensors: ", what,
               ": tensor \"", key, "\" of shape ", shape, " and dtype ", name(dt), " is too large");
    KOAN_CHECK(nbytes == e - b, IOError, "safetensors: ", what, ": tensor \"", key, "\" of shape ",
               shape, " and dtype ", name(dt), " needs ", static_cast<uint64_t>(nbytes),
               " bytes but its data_offsets span ", e - b);
    if (dt == DType::Bool) {
      // Any other byte would be an invalid C++ bool (undefined behaviour on read).
      for (uint64_t i = b; i < e; ++i)
        KOAN_CHECK(static_cast<unsigned char>(data[i]) <= 1, IOError, "safetensors: ", what,
                   ": BOOL tensor \"", key, "\" holds byte ", static_cast<int>(static_cast<unsigned char>(data[i])),
                   " at element ", i - b, " (only 0 and 1 are valid)");
    }
    ranges.push_back({b, e});
    file.tensors[key] = copy_from(data + b, shape, dt);
  }
  std::sort(ranges.begin(), ranges.end());
  uint64_t pos = 0;
  for (auto& [b, e] : ranges) {
    KOAN_CHECK(b == pos, IOError, "safetensors: ", what, ": data buffer has ",
               b < pos ? "overlapping tensors" : "a gap", " at byte ", std::min(b, pos));
    pos = e;
  }
  KOAN_CHECK(pos == data_size, IOError, "safetensors: ", what, ": ", data_size - pos,
             " trailing bytes after the last tensor");
  return file;
}

SafetensorsFile load_safetensors(const std::string& path) {
  return parse_safetensors(read_file(path), path);
}

}  // namespace koan::io
