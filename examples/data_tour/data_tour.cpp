// The snippets of docs/data.md; run build/examples/data_tour from the checkout to see the output
// shown there (the Fashion-MNIST part needs scripts/get-data fashion-mnist first).
#include <iostream>

#include "koan/data/data.h"
#include "koan/koan.h"

using namespace koan;
namespace data = koan::data;
namespace T = koan::data::transforms;

int main() {
  // 1. A dataset over tensors: 10 examples of 2 features, labels 0..9.
  Tensor x = arange(20).to(DType::Float32).view({10, 2});
  auto ds = std::make_shared<data::TensorDataset>(x, arange(10));
  data::Batch b = ds->get_batch({7, 2});  // one index_select per tensor
  std::cout << "get_batch({7, 2}).input =\n" << b.input << "\n";

  // 2. Decorators compose: split, shuffle per epoch, augment.
  auto [fit, val] = data::split2(data::random_split(ds, {0.8, 0.2}, /*seed=*/1));
  std::cout << "split sizes: " << fit->size() << " + " << val->size() << "\n";
  auto noisy = data::transform(fit, T::noise(0.01), /*seed=*/2);
  std::cout << "pipeline: " << noisy->repr() << "\n";

  // 3. The loader: shuffled batches, the same for any number of workers.
  for (int workers : {0, 2}) {
    data::DataLoader loader(fit, {.batch_size = 3, .shuffle = true, .num_workers = workers, .seed = 7});
    std::cout << workers << " workers:";
    for (int epoch = 0; epoch < 2; ++epoch) {
      std::cout << "  epoch " << epoch << ":";
      for (const data::Batch& batch : loader) std::cout << " " << str(batch.target.to_vector<int64_t>());
    }
    std::cout << "\n";
  }

  // 4. CSV with typed columns.
  data::CsvTable t = data::parse_csv("height,weight,species\n1.5,60,cat\n1.8,82,dog\n", {}, "pets.csv");
  std::cout << "csv columns " << str(t.names()) << ", species: " << str(t.strings("species")) << "\n"
            << "features =\n" << t.to_tensor({"height", "weight"}) << "\n";
  try {
    data::parse_csv("height,weight\n1.5,60\n1.8,eighty\n", {}, "pets.csv");
  } catch (const IOError& e) {
    std::cout << "IOError: " << e.what() << "\n";
  }

  // 5. Text: words, a vocabulary, language-model windows.
  auto tokens = data::tokenize_words("the cat sat on the mat\nthe dog sat\n", {.eos = "<eos>"});
  data::Vocabulary vocab(tokens);
  Tensor stream = vocab.encode_tensor(tokens);
  std::cout << "vocabulary of " << vocab.size() << ": " << str(vocab.decode({0, 1, 2, 3, 4})) << " ...\n"
            << "stream " << str(stream.to_vector<int64_t>()) << "\n";
  auto lm = data::language_model_batches(stream, /*batch_size=*/2, /*seq_len=*/3);
  data::Batch w = lm->get(0);
  std::cout << "lm batch 0 input =\n" << w.input << "\ntarget =\n" << w.target << "\n";

  // 6. Transforms on an image (C, H, W).
  Generator g(0);
  Tensor img = arange(6).to(DType::Float32).view({1, 2, 3});
  std::cout << "flipped =\n" << T::random_horizontal_flip(img, g, /*p=*/1.0) << "\n";

  // 7. Fashion-MNIST, when installed.
  try {
    auto train = data::fashion_mnist("data/fashion-mnist", true);
    data::DataLoader loader(train, {.batch_size = 256, .shuffle = true, .num_workers = 2});
    data::Batch first = *loader.begin();
    std::cout << "fashion-mnist: " << train->size() << " images; a batch: input " << str(first.input.shape())
              << " " << first.input.dtype() << ", target " << str(first.target.shape()) << " "
              << first.target.dtype() << "\n";
  } catch (const IOError& e) {
    std::cout << "IOError: " << e.what() << "\n";
  }
}
