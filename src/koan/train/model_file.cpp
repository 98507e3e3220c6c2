#include "koan/train/model_file.h"

#include <functional>
#include <map>
#include <set>

#include "koan/io/safetensors.h"
#include "koan/nn/activation.h"
#include "koan/nn/conv.h"
#include "koan/nn/dropout.h"
#include "koan/nn/embedding.h"
#include "koan/autograd/grad_mode.h"
#include "koan/nn/global_pool.h"
#include "koan/nn/init.h"
#include "koan/nn/linear.h"
#include "koan/nn/norm.h"
#include "koan/nn/pool.h"
#include "koan/nn/rnn.h"

namespace koan::train {
namespace {

using json = nlohmann::json;

// Reads options from a layer spec and refuses keys nobody read, so typos are errors.
class Spec {
 public:
  explicit Spec(const json& j) : j_(j) {
    KOAN_CHECK(j.is_object() && j.contains("type") && j["type"].is_string(), ValueError,
               "model config: each layer must be an object with a \"type\" string, got ", j.dump());
    type_ = j["type"].get<std::string>();
    used_.insert("type");
  }
  const std::string& type() const { return type_; }
  bool has(const char* k) const { return j_.contains(k); }
  int64_t integer(const char* k, std::optional<int64_t> def = std::nullopt) {
    used_.insert(k);
    if (!j_.contains(k)) {
      KOAN_CHECK(def.has_value(), ValueError, "model config: ", type_, " needs \"", k, "\" (an integer)");
      return *def;
    }
    KOAN_CHECK(j_[k].is_number_integer(), ValueError, "model config: ", type_, ".", k,
               " must be an integer, got ", j_[k].dump());
    return j_[k].get<int64_t>();
  }
  double number(const char* k, double def) {
    used_.insert(k);
    if (!j_.contains(k)) return def;
    KOAN_CHECK(j_[k].is_number(), ValueError, "model config: ", type_, ".", k, " must be a number, got ",
               j_[k].dump());
    return j_[k].get<double>();
  }
  bool boolean(const char* k, bool def) {
    used_.insert(k);
    if (!j_.contains(k)) return def;
    KOAN_CHECK(j_[k].is_boolean(), ValueError, "model config: ", type_, ".", k, " must be true or false, got ",
               j_[k].dump());
    return j_[k].get<bool>();
  }
  std::string string(const char* k, const std::string& def) {
    used_.insert(k);
    if (!j_.contains(k)) return def;
    KOAN_CHECK(j_[k].is_string(), ValueError, "model config: ", type_, ".", k, " must be a string, got ",
               j_[k].dump());
    return j_[k].get<std::string>();
  }
  // An int or a [h, w] pair.
  koan::Int2 pair(const char* k, std::optional<int64_t> def = std::nullopt) {
    used_.insert(k);
    if (!j_.contains(k)) {
      KOAN_CHECK(def.has_value(), ValueError, "model config: ", type_, " needs \"", k, "\" (an integer or [h, w])");
      return koan::Int2(*def);
    }
    const json& v = j_[k];
    if (v.is_number_integer()) return koan::Int2(v.get<int64_t>());
    KOAN_CHECK(v.is_array() && v.size() == 2 && v[0].is_number_integer() && v[1].is_number_integer(), ValueError,
               "model config: ", type_, ".", k, " must be an integer or [h, w], got ", v.dump());
    return koan::Int2(v[0].get<int64_t>(), v[1].get<int64_t>());
  }
  const json& raw(const char* k) {
    used_.insert(k);
    return j_.at(k);
  }
  void finish() const {
    for (auto& [k, v] : j_.items())
      KOAN_CHECK(used_.count(k), ValueError, "model config: ", type_, " has no option \"", k, "\"");
  }

 private:
  const json& j_;
  std::string type_;
  std::set<std::string> used_;
};

koan::Padding2 padding2(Spec& s) {
  if (s.has("padding") && s.raw("padding").is_string()) return koan::Padding2(s.raw("padding").get<std::string>());
  return koan::Padding2(s.pair("padding", 0));
}

nn::LSTMOptions recurrent_options(Spec& s) {
  return nn::LSTMOptions{.input_size = s.integer("input_size"),
                         .hidden_size = s.integer("hidden_size"),
                         .num_layers = s.integer("num_layers", 1),
                         .bias = s.boolean("bias", true),
                         .batch_first = s.boolean("batch_first", false),
                         .dropout = s.number("dropout", 0),
                         .bidirectional = s.boolean("bidirectional", false)};
}

koan::Padding1 padding1(Spec& s) {
  if (s.has("padding") && s.raw("padding").is_string()) return koan::Padding1(s.raw("padding").get<std::string>());
  return koan::Padding1(s.integer("padding", 0));
}

using Builder = std::function<std::shared_ptr<nn::Module>(Spec&)>;

const std::map<std::string, Builder>& builders() {
  static const std::map<std::string, Builder> b = {
      {"Linear", [](Spec& s) {
         return std::make_shared<nn::Linear>(
             nn::LinearOptions{.in = s.integer("in"), .out = s.integer("out"), .bias = s.boolean("bias", true)});
       }},
      {"Conv2d", [](Spec& s) {
         nn::Conv2dOptions o{.in = s.integer("in"), .out = s.integer("out"), .kernel = s.pair("kernel")};
         o.stride = s.pair("stride", 1);
         o.padding = padding2(s);
         o.dilation = s.pair("dilation", 1);
         o.groups = s.integer("groups", 1);
         o.bias = s.boolean("bias", true);
         o.activation = s.string("activation", "");
         return std::make_shared<nn::Conv2d>(o);
       }},
      {"Conv1d", [](Spec& s) {
         nn::Conv1dOptions o{.in = s.integer("in"), .out = s.integer("out"), .kernel = s.integer("kernel")};
         o.stride = s.integer("stride", 1);
         o.padding = padding1(s);
         o.dilation = s.integer("dilation", 1);
         o.groups = s.integer("groups", 1);
         o.bias = s.boolean("bias", true);
         return std::make_shared<nn::Conv1d>(o);
       }},
      {"ConvTranspose2d", [](Spec& s) {
         nn::ConvTranspose2dOptions o{.in = s.integer("in"), .out = s.integer("out"), .kernel = s.pair("kernel")};
         o.stride = s.pair("stride", 1);
         o.padding = s.pair("padding", 0);
         o.output_padding = s.pair("output_padding", 0);
         o.groups = s.integer("groups", 1);
         o.bias = s.boolean("bias", true);
         o.dilation = s.pair("dilation", 1);
         return std::make_shared<nn::ConvTranspose2d>(o);
       }},
      {"MaxPool1d", [](Spec& s) {
         nn::MaxPool1dOptions o{.kernel = s.integer("kernel")};
         if (s.has("stride")) o.stride = s.integer("stride");
         o.padding = s.integer("padding", 0);
         o.dilation = s.integer("dilation", 1);
         o.ceil_mode = s.boolean("ceil_mode", false);
         return std::make_shared<nn::MaxPool1d>(o);
       }},
      {"MaxPool2d", [](Spec& s) {
         nn::MaxPool2dOptions o{.kernel = s.pair("kernel")};
         if (s.has("stride")) o.stride = s.pair("stride");
         o.padding = s.pair("padding", 0);
         return std::make_shared<nn::MaxPool2d>(o);
       }},
      {"AvgPool2d", [](Spec& s) {
         nn::AvgPool2dOptions o{.kernel = s.pair("kernel")};
         if (s.has("stride")) o.stride = s.pair("stride");
         o.padding = s.pair("padding", 0);
         return std::make_shared<nn::AvgPool2d>(o);
       }},
      {"AdaptiveAvgPool2d", [](Spec& s) {
         return std::make_shared<nn::AdaptiveAvgPool2d>(nn::AdaptiveAvgPool2dOptions{.output_size = s.pair("output_size")});
       }},
      {"Flatten", [](Spec& s) {
         return std::make_shared<nn::Flatten>(
             nn::FlattenOptions{.start_dim = s.integer("start_dim", 1), .end_dim = s.integer("end_dim", -1)});
       }},
      {"Dropout", [](Spec& s) { return std::make_shared<nn::Dropout>(nn::DropoutOptions{.p = s.number("p", 0.5)}); }},
      {"BatchNorm1d", [](Spec& s) {
         return std::make_shared<nn::BatchNorm1d>(nn::BatchNormOptions{
             .num_features = s.integer("num_features"), .eps = s.number("eps", 1e-5), .momentum = s.number("momentum", 0.1)});
       }},
      {"BatchNorm2d", [](Spec& s) {
         return std::make_shared<nn::BatchNorm2d>(nn::BatchNormOptions{
             .num_features = s.integer("num_features"), .eps = s.number("eps", 1e-5), .momentum = s.number("momentum", 0.1)});
       }},
      {"LayerNorm", [](Spec& s) {
         // normalized_shape: an integer (the last dim) or a list of the trailing dims.
         Shape shape;
         if (s.has("normalized_shape") && s.raw("normalized_shape").is_array()) {
           for (const json& d : s.raw("normalized_shape")) {
             KOAN_CHECK(d.is_number_integer(), ValueError, "model config: LayerNorm.normalized_shape must hold integers, got ",
                        d.dump());
             shape.push_back(d.get<int64_t>());
           }
         } else {
           shape = {s.integer("normalized_shape")};
         }
         return std::make_shared<nn::LayerNorm>(nn::LayerNormOptions{
             .normalized_shape = shape, .eps = s.number("eps", 1e-5),
             .elementwise_affine = s.boolean("elementwise_affine", true)});
       }},
      {"Embedding", [](Spec& s) {
         nn::EmbeddingOptions o{.num_embeddings = s.integer("num_embeddings"), .embedding_dim = s.integer("embedding_dim")};
         if (s.has("padding_idx")) o.padding_idx = s.integer("padding_idx");
         return std::make_shared<nn::Embedding>(o);
       }},
      // Recurrent layers inside a Sequential pass on their output sequence only (state from zeros).
      {"LSTM", [](Spec& s) { return std::make_shared<nn::LSTM>(recurrent_options(s)); }},
      {"GRU", [](Spec& s) { return std::make_shared<nn::GRU>(recurrent_options(s)); }},
      {"GlobalMaxPool1d", [](Spec& s) {
         return std::make_shared<nn::GlobalMaxPool1d>(nn::GlobalPool1dOptions{.dim = s.integer("dim", 1)});
       }},
      {"GlobalAvgPool1d", [](Spec& s) {
         return std::make_shared<nn::GlobalAvgPool1d>(nn::GlobalPool1dOptions{.dim = s.integer("dim", 1)});
       }},
      {"ReLU", [](Spec&) { return std::make_shared<nn::ReLU>(); }},
      {"LeakyReLU", [](Spec& s) { return std::make_shared<nn::LeakyReLU>(s.number("negative_slope", 0.01)); }},
      {"ELU", [](Spec& s) { return std::make_shared<nn::ELU>(s.number("alpha", 1.0)); }},
      {"GELU", [](Spec& s) { return std::make_shared<nn::GELU>(s.string("approximate", "none")); }},
      {"SiLU", [](Spec&) { return std::make_shared<nn::SiLU>(); }},
      {"Sigmoid", [](Spec&) { return std::make_shared<nn::Sigmoid>(); }},
      {"Tanh", [](Spec&) { return std::make_shared<nn::Tanh>(); }},
      {"Softmax", [](Spec& s) { return std::make_shared<nn::Softmax>(s.integer("dim", -1)); }},
      {"LogSoftmax", [](Spec& s) { return std::make_shared<nn::LogSoftmax>(s.integer("dim", -1)); }},
      {"Identity", [](Spec&) { return std::make_shared<nn::Identity>(); }},
  };
  return b;
}

// Keras's kernel_initializer / bias_initializer names, for configs written with Keras in mind
// (Keras initialises Dense and Conv2D weights glorot_uniform and biases with zeros, where PyTorch
// and koan's layers default to kaiming_uniform(a=sqrt(5)) and a fan-in uniform bias).
void initialise(nn::Module& m, const std::string& layer, const char* key, const std::string& param,
                const std::string& how) {
  Tensor t;
  for (auto& [name, p] : m.named_parameters(false))
    if (name == param) t = p;
  KOAN_CHECK(t.defined(), ValueError, "model config: ", layer, " has no ", param, " for \"", key, "\"");
  NoGradGuard no_grad;
  if (how == "glorot_uniform") nn::init::xavier_uniform_(t);
  else if (how == "glorot_normal") nn::init::xavier_normal_(t);
  else if (how == "he_uniform") nn::init::kaiming_uniform_(t, {.nonlinearity = "relu"});
  else if (how == "he_normal") nn::init::kaiming_normal_(t, {.nonlinearity = "relu"});
  else if (how == "zeros") nn::init::zeros_(t);
  else if (how == "ones") nn::init::ones_(t);
  else if (how == "orthogonal") nn::init::orthogonal_(t);
  else
    throw ValueError(str("model config: ", layer, ".", key, " must be \"glorot_uniform\", \"glorot_normal\", "
                         "\"he_uniform\", \"he_normal\", \"orthogonal\", \"zeros\" or \"ones\", got \"", how, "\""));
}

}  // namespace

std::shared_ptr<nn::Module> build_layer(const json& spec) {
  Spec s(spec);
  auto it = builders().find(s.type());
  if (it == builders().end()) {
    std::string known;
    for (auto& [k, v] : builders()) known += (known.empty() ? "" : ", ") + k;
    throw ValueError(str("model config: unknown layer type \"", s.type(), "\" (known: ", known, ")"));
  }
  std::shared_ptr<nn::Module> m;
  try {
    m = it->second(s);
  } catch (const ValueError& e) {
    // A missing required option is often a typo of it: show what was given.
    std::string given;
    for (auto& [k, v] : spec.items())
      if (k != "type") given += (given.empty() ? "" : ", ") + k;
    throw ValueError(str(e.what(), " (options given: ", given.empty() ? "none" : given, ")"));
  }
  if (s.has("kernel_initializer")) initialise(*m, s.type(), "kernel_initializer", "weight", s.string("kernel_initializer", ""));
  if (s.has("bias_initializer")) initialise(*m, s.type(), "bias_initializer", "bias", s.string("bias_initializer", ""));
  s.finish();
  return m;
}

std::shared_ptr<nn::Sequential> build_sequential(const json& config) {
  const json& layers = config.is_object() && config.contains("layers") ? config["layers"] : config;
  KOAN_CHECK(layers.is_array() && !layers.empty(), ValueError,
             "model config: expected a non-empty array of layers (or {\"layers\": [...]})");
  auto seq = std::make_shared<nn::Sequential>();
  for (size_t i = 0; i < layers.size(); ++i) {
    try {
      seq->push_back(build_layer(layers[i]));
    } catch (const ValueError& e) {
      throw ValueError(str("layer ", i, ": ", e.what()));
    }
  }
  return seq;
}

void save_model(const std::string& path, const nn::Module& net, const json& architecture) {
  std::map<std::string, Tensor> tensors;
  for (auto& [k, v] : net.state_dict()) tensors[k] = v;
  io::save_safetensors(path, tensors, {{"koan.architecture", architecture.dump()}, {"format", "koan-model"}});
}

namespace {
// The architecture JSON stored in a loaded model file.
json architecture_of(const io::SafetensorsFile& file, const std::string& path) {
  auto it = file.metadata.find("koan.architecture");
  KOAN_CHECK(it != file.metadata.end(), IOError, "load_model: \"", path,
             "\" has no architecture (a weights-only safetensors file?)");
  try {
    return json::parse(it->second);
  } catch (const json::exception& e) {
    throw IOError(str("load_model: \"", path, "\": architecture is not valid JSON: ", e.what()));
  }
}
}  // namespace

json model_architecture(const std::string& path) { return architecture_of(io::load_safetensors(path), path); }

std::shared_ptr<nn::Sequential> load_model(const std::string& path) {
  auto file = io::load_safetensors(path);
  auto net = build_sequential(architecture_of(file, path));
  net->load_state_dict(nn::StateDict(file.tensors.begin(), file.tensors.end()));
  return net;
}

}  // namespace koan::train
