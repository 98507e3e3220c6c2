// safetensors: round trips for every dtype, a file written by Python, and a corpus of malformed
// files that must each be refused with an IOError (never a crash or a huge allocation).
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "io/io_test_util.h"
#include "koan/io/file.h"
#include "support/testing.h"

namespace koan {
namespace {

using testing::ScratchDir;
using testing::st_bytes;
using testing::le64;
using namespace std::string_literals;

template <class T>
void expect_values(const Tensor& t, DType dtype, const Shape& shape, const std::vector<T>& values) {
  ASSERT_TRUE(t.defined());
  EXPECT_EQ(t.dtype(), dtype);
  EXPECT_EQ(t.shape(), shape);
  EXPECT_EQ(t.to_vector<T>(), values);
}

TEST(Safetensors, RoundTripsEveryDtypeWithMetadata) {
  ScratchDir dir;
  std::map<std::string, Tensor> in = {
      {"b", tensor({true, false, true})},
      {"u8", from_vector<uint8_t>({0, 7, 255}, Shape{3})},
      {"i32", from_vector<int32_t>({INT32_MIN, -1, INT32_MAX, 4}, Shape{2, 2})},
      {"i64", from_vector<int64_t>({INT64_MIN, 0, INT64_MAX}, Shape{3, 1})},
      {"f32", from_vector<float>({1.5f, -0.f, 3.4e38f, 1e-45f, -2.f, 7.f}, Shape{1, 2, 3})},
      {"f64", from_vector<double>({3.141592653589793, -1e-308}, Shape{2})},
      {"scalar", scalar_tensor(2.5, DType::Float64)},
      {"empty", zeros({2, 0, 3})},
      {"empty1", zeros({0}, {.dtype = DType::Int64})},
  };
  std::map<std::string, std::string> meta = {{"epoch", "3"}, {"note", "h\u00e9llo \"quoted\""}};
  std::string path = dir.file("all.safetensors");
  io::save_safetensors(path, in, meta);
  io::SafetensorsFile out = io::load_safetensors(path);
  EXPECT_EQ(out.metadata, meta);
  ASSERT_EQ(out.tensors.size(), in.size());
  expect_values<bool>(out.tensors.at("b"), DType::Bool, {3}, {true, false, true});
  expect_values<uint8_t>(out.tensors.at("u8"), DType::UInt8, {3}, {0, 7, 255});
  expect_values<int32_t>(out.tensors.at("i32"), DType::Int32, {2, 2}, {INT32_MIN, -1, INT32_MAX, 4});
  expect_values<int64_t>(out.tensors.at("i64"), DType::Int64, {3, 1}, {INT64_MIN, 0, INT64_MAX});
  expect_values<float>(out.tensors.at("f32"), DType::Float32, {1, 2, 3}, {1.5f, -0.f, 3.4e38f, 1e-45f, -2.f, 7.f});
  EXPECT_TRUE(std::signbit(out.tensors.at("f32").to_vector<float>()[1]));
  expect_values<double>(out.tensors.at("f64"), DType::Float64, {2}, {3.141592653589793, -1e-308});
  expect_values<double>(out.tensors.at("scalar"), DType::Float64, {}, {2.5});
  expect_values<float>(out.tensors.at("empty"), DType::Float32, {2, 0, 3}, {});
  expect_values<int64_t>(out.tensors.at("empty1"), DType::Int64, {0}, {});
  // The data starts 8-byte aligned, as the format recommends.
  std::string bytes = io::read_file(path);
  uint64_t hl = 0;
  std::memcpy(&hl, bytes.data(), 8);
  EXPECT_EQ(hl % 8, 0u);
}

TEST(Safetensors, EmptyFileOfNoTensorsRoundTrips) {
  io::SafetensorsFile f = io::parse_safetensors(io::serialize_safetensors({}));
  EXPECT_TRUE(f.tensors.empty());
  EXPECT_TRUE(f.metadata.empty());
}

TEST(Safetensors, NonContiguousTensorsAreWrittenInLogicalOrder) {
  Tensor a = arange(0, 6, 1, DType::Float32).view({2, 3});
  Tensor t = a.transpose(0, 1);                 // [3, 2], strided
  Tensor s = arange(0, 10).slice(0, 1, 9, 3);   // 1, 4, 7
  Tensor e = tensor({5.0}).expand({3});         // stride 0
  auto f = io::parse_safetensors(io::serialize_safetensors({{"t", t}, {"s", s}, {"e", e}}));
  expect_values<float>(f.tensors.at("t"), DType::Float32, {3, 2}, {0, 3, 1, 4, 2, 5});
  expect_values<int64_t>(f.tensors.at("s"), DType::Int64, {3}, {1, 4, 7});
  expect_values<float>(f.tensors.at("e"), DType::Float32, {3}, {5, 5, 5});
}

TEST(Safetensors, SaveRefusesReservedAndUndefinedNames) {
  EXPECT_THROW(io::serialize_safetensors({{"__metadata__", zeros({1})}}), ValueError);
  EXPECT_THROW(io::serialize_safetensors({{"x", Tensor()}}), ValueError);
  EXPECT_THROW(io::serialize_safetensors({{std::string("bad\xff"), zeros({1})}}), ValueError);
}

// tests/fixtures/io_python.safetensors is written by gen_io.py with Python's struct and json.
TEST(Safetensors, ReadsAFileWrittenByPython) {
  auto f = io::load_safetensors(std::string(KOAN_FIXTURE_DIR) + "/io_python.safetensors");
  EXPECT_EQ(f.metadata, (std::map<std::string, std::string>{{"format", "pt"}, {"producer", "gen_io.py"}}));
  ASSERT_EQ(f.tensors.size(), 8u);
  expect_values<float>(f.tensors.at("f32"), DType::Float32, {2, 3}, {0.5f, -1.25f, 3.f, 0.001f, -0.f, 65504.f});
  expect_values<double>(f.tensors.at("f64"), DType::Float64, {3}, {3.141592653589793, -2.5, 1e300});
  expect_values<int64_t>(f.tensors.at("i64"), DType::Int64, {2, 2}, {INT64_MIN, INT64_MAX, 0, -7});
  expect_values<int32_t>(f.tensors.at("i32"), DType::Int32, {3}, {INT32_MIN, INT32_MAX, 5});
  expect_values<uint8_t>(f.tensors.at("u8"), DType::UInt8, {4}, {0, 1, 128, 255});
  expect_values<bool>(f.tensors.at("flags"), DType::Bool, {3}, {true, false, true});
  expect_values<float>(f.tensors.at("scalar"), DType::Float32, {}, {3.5f});
  expect_values<float>(f.tensors.at("empty"), DType::Float32, {0, 3}, {});
}

TEST(Safetensors, ReadsThePyTorchFixtures) {
  auto f = io::load_safetensors(std::string(KOAN_FIXTURE_DIR) + "/unary.safetensors");
  EXPECT_GT(f.tensors.size(), 10u);
  for (auto& [k, t] : f.tensors) EXPECT_TRUE(t.defined()) << k;
}

struct Bad {
  const char* what;
  std::string bytes;
};

std::string deep_nesting(int depth) {
  return "{\"a\":" + std::string(depth, '[') + std::string(depth, ']') + "}";
}

std::vector<Bad> malformed_corpus() {
  const std::string ok4 = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  std::string four(4, '\0');
  return {
      {"empty file", ""},
      {"shorter than the length field", std::string(7, '\0')},
      {"header length only", le64(0)},
      {"header length past the end", le64(100) + "{}"},
      {"header length over the cap", le64(uint64_t{1} << 40) + "{}"},
      {"header length 2^64-1", le64(~uint64_t{0}) + "{}"},
      {"non-JSON header", st_bytes("{not json}")},
      {"truncated JSON", st_bytes("{\"a\":{\"dtype\":")},
      {"header is an array", st_bytes("[1, 2]")},
      {"header is a string", st_bytes("\"abc\"")},
      {"header starts with a space", st_bytes(" {}")},
      {"header with a NUL", st_bytes(std::string("{\"a\0\":1}", 8))},
      {"header not UTF-8", st_bytes("{\"\xff\xfe\":{}}")},
      {"entry is a number", st_bytes(R"({"a":5})")},
      {"missing dtype", st_bytes(R"({"a":{"shape":[1],"data_offsets":[0,4]}})", four)},
      {"missing shape", st_bytes(R"({"a":{"dtype":"F32","data_offsets":[0,4]}})", four)},
      {"missing data_offsets", st_bytes(R"({"a":{"dtype":"F32","shape":[1]}})", four)},
      {"dtype not a string", st_bytes(R"({"a":{"dtype":1,"shape":[1],"data_offsets":[0,4]}})", four)},
      {"unknown dtype", st_bytes(R"({"a":{"dtype":"Q7","shape":[1],"data_offsets":[0,4]}})", four)},
      {"unsupported dtype F16", st_bytes(R"({"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})", four)},
      {"negative dim", st_bytes(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", four)},
      {"float dim", st_bytes(R"({"a":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}})", four)},
      {"string dim", st_bytes(R"({"a":{"dtype":"F32","shape":["1"],"data_offsets":[0,4]}})", four)},
      {"dim over int64 beside a zero",
       st_bytes(R"({"a":{"dtype":"F32","shape":[0,18446744073709551615],"data_offsets":[0,0]}})")},
      {"shape product overflow",
       st_bytes(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,4]}})", four)},
      {"shape product times size overflows 2^64",
       st_bytes(R"({"a":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,0]}})")},
      {"shape not an array", st_bytes(R"({"a":{"dtype":"F32","shape":4,"data_offsets":[0,4]}})", four)},
      {"one data offset", st_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4]}})", four)},
      {"three data offsets", st_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,4]}})", four)},
      {"negative data offset", st_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})", four)},
      {"float data offset", st_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4.0]}})", four)},
      {"reversed data_offsets", st_bytes(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}})", four)},
      {"data_offsets past the end", st_bytes(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", four)},
      {"data_offsets far past the end",
       st_bytes(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[18446744073709551614,18446744073709551615]}})", four)},
      {"overlapping tensors",
       st_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}})",
                std::string(6, '\0'))},
      {"identical ranges", st_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", four)},
      {"gap between tensors",
       st_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                std::string(12, '\0'))},
      {"gap at the start", st_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", std::string(8, '\0'))},
      {"shape and span disagree", st_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", four)},
      {"dtype size and span disagree", st_bytes(R"({"a":{"dtype":"F64","shape":[1],"data_offsets":[0,4]}})", four)},
      {"trailing bytes", st_bytes(ok4, four + "xx")},
      {"truncated data", st_bytes(ok4, "\0\0"s)},
      {"no data", st_bytes(ok4)},
      {"duplicate name", st_bytes(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})", "ab")},
      {"BOOL byte other than 0 or 1", st_bytes(R"({"a":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}})", "\x01\x02")},
      {"metadata not an object", st_bytes(R"({"__metadata__":[1]})")},
      {"metadata value not a string", st_bytes(R"({"__metadata__":{"k":1}})")},
      {"deep nesting", st_bytes(deep_nesting(100000))},
  };
}

TEST(Safetensors, MalformedFilesAreRefusedWithIOError) {
  ScratchDir dir;
  int i = 0;
  for (const Bad& bad : malformed_corpus()) {
    SCOPED_TRACE(bad.what);
    try {
      io::parse_safetensors(bad.bytes, "case");
      ADD_FAILURE() << "accepted";
    } catch (const IOError& e) {
      EXPECT_NE(std::string(e.what()).find("case"), std::string::npos) << e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "wrong exception type: " << e.what();
    }
    // Through a file too: the message names the path.
    std::string path = dir.file(str("bad", i++, ".safetensors"));
    std::ofstream(path, std::ios::binary) << bad.bytes;
    try {
      io::load_safetensors(path);
      ADD_FAILURE() << "accepted from a file";
    } catch (const IOError& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  }
}

TEST(Safetensors, ErrorsNameTheProblem) {
  auto message = [](const std::string& bytes) {
    try {
      io::parse_safetensors(bytes, "f");
    } catch (const IOError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(message(le64(uint64_t{1} << 40) + "{}").find("limit"), std::string::npos);
  EXPECT_NE(message(st_bytes(R"({"a":{"dtype":"Q7","shape":[1],"data_offsets":[0,4]}})", "abcd")).find("Q7"),
            std::string::npos);
  EXPECT_NE(message(st_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", "abcdef")).find("trailing"),
            std::string::npos);
  EXPECT_NE(message(st_bytes(R"({"a":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,0]}})"))
                .find("too large"),
            std::string::npos);
}

// Every truncation and many single-byte corruptions of a valid file either load or raise IOError.
TEST(Safetensors, TruncationsAndCorruptionsNeverCrash) {
  std::string good = io::serialize_safetensors(
      {{"w", from_vector<float>({1, 2, 3, 4, 5, 6}, Shape{2, 3})}, {"b", tensor({true, false})},
       {"n", from_vector<int64_t>({-1, 7}, Shape{2})}},
      {{"k", "v"}});
  for (size_t n = 0; n < good.size(); ++n) EXPECT_THROW(io::parse_safetensors(good.substr(0, n)), IOError) << n;
  int accepted = 0;
  for (size_t i = 0; i < good.size(); ++i)
    for (unsigned char x : {0x00, 0x01, 0x20, 0x22, 0x2c, 0x30, 0x39, 0x5b, 0x7b, 0x7d, 0xff}) {
      std::string bad = good;
      bad[i] = static_cast<char>(x);
      try {
        io::parse_safetensors(bad);
        ++accepted;  // e.g. a changed data byte or a digit in a tensor name
      } catch (const IOError&) {
      }
    }
  EXPECT_GT(accepted, 0);
}

TEST(Safetensors, LoadNamesMissingFilesAndDirectories) {
  ScratchDir dir;
  try {
    io::load_safetensors(dir.file("nope.safetensors"));
    FAIL();
  } catch (const IOError& e) {
    EXPECT_NE(std::string(e.what()).find("nope.safetensors"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("No such file"), std::string::npos) << e.what();
  }
  EXPECT_THROW(io::load_safetensors(dir.path().string()), IOError);
}

}  // namespace
}  // namespace koan
