// The data pipeline in one include: datasets, decorators, the loader, readers and transforms.
//
//   #include <koan/data/data.h>
//   auto train = koan::data::fashion_mnist();
//   koan::data::DataLoader loader(train, {.batch_size = 64, .shuffle = true, .num_workers = 2});
//   for (const koan::data::Batch& b : loader) { ... b.input (64, 1, 28, 28), b.target (64) ... }
//
// See docs/data.md.
#pragma once
#include "koan/data/csv.h"
#include "koan/data/dataset.h"
#include "koan/data/datasets.h"
#include "koan/data/decorators.h"
#include "koan/data/idx.h"
#include "koan/data/loader.h"
#include "koan/data/text.h"
#include "koan/data/transforms.h"
