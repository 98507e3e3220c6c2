// Image transforms on one image (C, H, W) or a batch (N, C, H, W), seeded through koan::Generator.
//
//   namespace T = koan::data::transforms;
//   Generator g(7);
//   Tensor x = T::normalize(images, {0.2860}, {0.3530});        // per channel
//   x = T::random_crop(x, 28, 28, /*padding=*/4, g);             // each image its own offset
//   x = T::random_horizontal_flip(x, g);                         // each image flipped with p = 0.5
//   x = T::gaussian_noise(x, 0.05, g);
//   auto aug = T::compose({T::flip(0.5), T::crop(28, 28, 4)});   // a data::TensorTransform
//
// In a batch, image k's random choices are drawn k-th, so a batch's result is a function of the
// generator's state alone.  Inputs must be floating point (convert uint8 images first).
#pragma once
#include <vector>

#include "koan/data/decorators.h"

namespace koan::data::transforms {

// (x - mean[c]) / std[c] over the channel dim (-3); a single mean / std applies to every channel.
Tensor normalize(const Tensor& x, const std::vector<double>& mean, const std::vector<double>& stdev);
// Pads H and W by `padding` on each side (zeros) and cuts a random (height, width) window.
Tensor random_crop(const Tensor& x, int64_t height, int64_t width, int64_t padding, Generator& gen);
// Mirrors the last dim (W) with probability p, independently per image.
Tensor random_horizontal_flip(const Tensor& x, Generator& gen, double p = 0.5);
// x + N(0, std^2) noise.
Tensor gaussian_noise(const Tensor& x, double stdev, Generator& gen);

// The same as TensorTransforms, to compose and hand to data::transform().
TensorTransform normalizer(std::vector<double> mean, std::vector<double> stdev);
TensorTransform crop(int64_t height, int64_t width, int64_t padding);
TensorTransform flip(double p = 0.5);
TensorTransform noise(double stdev);
// Applies the transforms in order with one generator.
TensorTransform compose(std::vector<TensorTransform> ts);

}  // namespace koan::data::transforms
