// IDX and CSV readers on small generated files, including truncated and corrupt ones.
#include <gtest/gtest.h>

#include <cmath>

#include "data/data_test_util.h"
#include "koan/koan.h"

using namespace koan;
using namespace koan::data;
using koan::data::testing::read_bytes;
using koan::data::testing::TempDir;
using koan::data::testing::throws_with;
using koan::data::testing::write_bytes;
using koan::data::testing::write_text;

TEST(Idx, RoundTripsEveryWritableTypeRawAndGzip) {
  TempDir dir("idx_roundtrip");
  Generator g(1);
  std::vector<Tensor> cases = {randint(0, 256, {5, 4, 3}, DType::Int64, &g).to(DType::UInt8),
                               randint(-100000, 100000, {7}, DType::Int64, &g).to(DType::Int32),
                               randn({3, 2}, {}, &g), randn({2, 2, 2}, {.dtype = DType::Float64}, &g),
                               randn({4, 3}, {}, &g).t()};  // non-contiguous
  for (bool gz : {false, true})
    for (size_t k = 0; k < cases.size(); ++k) {
      std::string path = dir.file("t" + std::to_string(k) + (gz ? ".gz" : ""));
      write_idx(path, cases[k], gz);
      Tensor back = read_idx(path);
      EXPECT_EQ(back.dtype(), cases[k].dtype()) << path;
      EXPECT_TRUE(equal(back, cases[k])) << path;
    }
  // Compression is found from the bytes, not the name.
  write_idx(dir.file("plain.gz"), cases[0], false);
  write_idx(dir.file("packed.idx"), cases[0], true);
  EXPECT_TRUE(equal(read_idx(dir.file("plain.gz")), cases[0]));
  EXPECT_TRUE(equal(read_idx(dir.file("packed.idx")), cases[0]));
  std::vector<char> head = read_bytes(dir.file("packed.idx"));
  EXPECT_EQ(static_cast<unsigned char>(head[0]), 0x1f);  // gzip's magic
  EXPECT_EQ(static_cast<unsigned char>(head[1]), 0x8b);
}

TEST(Idx, ReadsHandWrittenBigEndianFiles) {
  TempDir dir("idx_bytes");
  // int16, dims (3): -2, 258, 1
  write_bytes(dir.file("i16"), {0, 0, 0x0B, 1, 0, 0, 0, 3, char(0xFF), char(0xFE), 1, 2, 0, 1});
  Tensor a = read_idx(dir.file("i16"));
  EXPECT_EQ(a.dtype(), DType::Int32);
  EXPECT_EQ(a.to_vector<int32_t>(), (std::vector<int32_t>{-2, 258, 1}));
  // sbyte, dims (2, 1): -1, 5
  write_bytes(dir.file("i8"), {0, 0, 0x09, 2, 0, 0, 0, 2, 0, 0, 0, 1, char(0xFF), 5});
  Tensor b = read_idx(dir.file("i8"));
  EXPECT_EQ(b.shape(), Shape({2, 1}));
  EXPECT_EQ(b.to_vector<int32_t>(), (std::vector<int32_t>{-1, 5}));
  // float32 1.5 = 0x3FC00000
  write_bytes(dir.file("f32"), {0, 0, 0x0D, 1, 0, 0, 0, 1, 0x3F, char(0xC0), 0, 0});
  EXPECT_FLOAT_EQ(read_idx(dir.file("f32")).item<float>(), 1.5f);
}

TEST(Idx, TruncatedAndCorruptFilesNameTheFileAndTheProblem) {
  TempDir dir("idx_bad");
  Tensor t = arange(600).to(DType::Float32).view({10, 60});
  std::string raw = dir.file("raw.idx"), gz = dir.file("data.idx.gz");
  write_idx(raw, t);
  write_idx(gz, t, true);

  std::vector<char> bytes = read_bytes(raw);
  std::vector<char> cut(bytes.begin(), bytes.end() - 7);
  write_bytes(dir.file("cut.idx"), cut);
  EXPECT_TRUE(throws_with<IOError>([&] { read_idx(dir.file("cut.idx")); },
                                   {dir.file("cut.idx"), "truncated", "[10, 60]", "2400", "2393"}));

  std::vector<char> header_only(bytes.begin(), bytes.begin() + 9);
  write_bytes(dir.file("header.idx"), header_only);
  EXPECT_TRUE(throws_with<IOError>([&] { read_idx(dir.file("header.idx")); }, {"header.idx", "truncated header"}));

  std::vector<char> extra = bytes;
  extra.push_back(1);
  write_bytes(dir.file("extra.idx"), extra);
  EXPECT_TRUE(throws_with<IOError>([&] { read_idx(dir.file("extra.idx")); }, {"extra.idx", "1 unexpected bytes"}));

  std::vector<char> magic = bytes;
  magic[0] = 7;
  write_bytes(dir.file("magic.idx"), magic);
  EXPECT_TRUE(throws_with<IOError>([&] { read_idx(dir.file("magic.idx")); }, {"magic.idx", "bad magic"}));
  magic = bytes;
  magic[2] = 0x0A;
  write_bytes(dir.file("type.idx"), magic);
  EXPECT_TRUE(throws_with<IOError>([&] { read_idx(dir.file("type.idx")); }, {"type.idx", "unknown element type"}));

  // A gzip stream cut short, and one with damaged compressed bytes.
  std::vector<char> zbytes = read_bytes(gz);
  write_bytes(dir.file("cut.gz"), std::vector<char>(zbytes.begin(), zbytes.begin() + zbytes.size() / 2));
  EXPECT_TRUE(throws_with<IOError>([&] { read_idx(dir.file("cut.gz")); }, {dir.file("cut.gz"), "gzip data"}));
  std::vector<char> damaged = zbytes;
  for (size_t k = 20; k < damaged.size() - 10; k += 3) damaged[k] = static_cast<char>(~damaged[k]);
  write_bytes(dir.file("damaged.gz"), damaged);
  EXPECT_TRUE(throws_with<IOError>([&] { read_idx(dir.file("damaged.gz")); },
                                   {dir.file("damaged.gz"), "corrupt gzip data"}));
  std::vector<char> bad_crc = zbytes;
  bad_crc[bad_crc.size() - 6] ^= 1;  // the CRC-32 trailer
  write_bytes(dir.file("crc.gz"), bad_crc);
  EXPECT_TRUE(throws_with<IOError>([&] { read_idx(dir.file("crc.gz")); }, {dir.file("crc.gz"), "corrupt gzip data"}));

  EXPECT_TRUE(throws_with<IOError>([&] { read_idx(dir.file("absent.idx")); }, {"absent.idx", "cannot open"}));
}

TEST(Csv, TypedColumnsInferredAndDeclared) {
  TempDir dir("csv_ok");
  std::string path = dir.file("t.csv");
  write_text(path,
             "id,weight,name,code\r\n"
             "1, 2.5,\"Smith, J\",7\r\n"
             "2,3,\"say \"\"hi\"\"\",8\n"
             "\n"
             "3,,plain,09\n");
  CsvTable t = read_csv(path, {.types = {{"code", ColumnType::String}}});
  EXPECT_EQ(t.rows(), 3);
  EXPECT_EQ(t.names(), (std::vector<std::string>{"id", "weight", "name", "code"}));
  EXPECT_EQ(t.type("id"), ColumnType::Int);
  EXPECT_EQ(t.type("weight"), ColumnType::Float);
  EXPECT_EQ(t.type("name"), ColumnType::String);
  EXPECT_EQ(t.type("code"), ColumnType::String);  // declared: "09" keeps its zero
  EXPECT_EQ(t.strings("name"), (std::vector<std::string>{"Smith, J", "say \"hi\"", "plain"}));
  EXPECT_EQ(t.strings("code")[2], "09");

  Tensor id = t.column("id");
  EXPECT_EQ(id.dtype(), DType::Int64);
  EXPECT_EQ(id.to_vector<int64_t>(), (std::vector<int64_t>{1, 2, 3}));
  std::vector<float> w = t.column("weight").to_vector<float>();
  EXPECT_FLOAT_EQ(w[0], 2.5f);
  EXPECT_FLOAT_EQ(w[1], 3.f);
  EXPECT_TRUE(std::isnan(w[2]));  // empty float field = missing

  Tensor x = t.to_tensor({"weight", "id"}, DType::Float64);
  EXPECT_EQ(x.shape(), Shape({3, 2}));
  EXPECT_DOUBLE_EQ(x.at<double>({1, 0}), 3.0);
  EXPECT_DOUBLE_EQ(x.at<double>({2, 1}), 3.0);
  EXPECT_THROW(t.to_tensor({"name"}), DTypeError);
  EXPECT_TRUE(throws_with<ValueError>([&] { t.column("nope"); }, {"nope", "id", "weight"}));
}

TEST(Csv, InferredIntWidensToFloat) {
  CsvTable t = parse_csv("a;b\n1;x\n2.5;y\n", {.delimiter = ';'});
  EXPECT_EQ(t.type("a"), ColumnType::Float);
  EXPECT_EQ(t.column("a").to_vector<float>(), (std::vector<float>{1.f, 2.5f}));
  CsvTable nh = parse_csv("4,5\n6,7\n", {.header = false});
  EXPECT_EQ(nh.names(), (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(nh.column("1").to_vector<int64_t>(), (std::vector<int64_t>{5, 7}));
}

TEST(Csv, MalformedRowsNameFileLineAndColumn) {
  TempDir dir("csv_bad");
  std::string path = dir.file("bad.csv");
  write_text(path, "x,y,label\n1.0,2.0,0\n1.5,oops,1\n");
  EXPECT_TRUE(throws_with<IOError>([&] { read_csv(path); },
                                   {path + ":3", "column 2 ('y')", "'oops'", "float"}));

  write_text(path, "x,y,label\n1.0,2.0,0\n1.5,2.5\n");
  EXPECT_TRUE(throws_with<IOError>([&] { read_csv(path); }, {path + ":3", "2 fields, expected 3"}));

  write_text(path, "x,label\n1.0,0\n2.0,1.5\n");  // declared int
  EXPECT_TRUE(throws_with<IOError>([&] { read_csv(path, {.types = {{"label", ColumnType::Int}}}); },
                                   {path + ":3", "column 2 ('label')", "'1.5'", "int"}));

  write_text(path, "x,name\n1,\"open\n");
  EXPECT_TRUE(throws_with<IOError>([&] { read_csv(path); }, {path + ":2", "column 2", "unterminated"}));

  EXPECT_THROW(read_csv(path, {.types = {{"typo", ColumnType::Int}}}), ValueError);
  EXPECT_TRUE(throws_with<IOError>([&] { read_csv(dir.file("none.csv")); }, {"none.csv"}));
  write_text(path, "");
  EXPECT_TRUE(throws_with<IOError>([&] { read_csv(path); }, {"empty"}));
}
