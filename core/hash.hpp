#pragma once
// SHA-256 (OpenSSL) for fingerprints, cache keys and provenance.
#include <cstddef>
#include <string>
#include <string_view>

namespace gale {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  Sha256& update(const void* data, std::size_t bytes);
  Sha256& update(std::string_view text) { return update(text.data(), text.size()); }
  std::string hex();  // finishes the digest

 private:
  void* ctx_;
};

std::string sha256_hex(std::string_view data);
std::string sha256_file(const std::string& path);  // throws InputError if unreadable

}  // namespace gale
