// Whole-file reads and crash-safe writes.
//
//   koan::io::atomic_write("model.safetensors", bytes);   // readers see the old file or the new one
//   std::string bytes = koan::io::read_file("model.safetensors");
//
// atomic_write writes a temporary file in the target's directory, fsyncs it, renames it over the
// target and fsyncs the directory, so a crash or power loss midway never leaves a half-written
// checkpoint under the real name.  Errors are IOError naming the path and the system's reason.
#pragma once
#include <string>
#include <string_view>

namespace koan::io {

void atomic_write(const std::string& path, std::string_view bytes);
// The whole file; refuses directories and names the path and errno text on failure.
std::string read_file(const std::string& path);

}  // namespace koan::io
