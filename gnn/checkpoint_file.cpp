#include "gnn/checkpoint_file.hpp"

#include <fmt/format.h>
#include <openssl/sha.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/errors.hpp"
#include "export/atomic_file.hpp"

namespace gale {

namespace {
constexpr char kMagic[] = "GALE-CHECKPOINT 1\n";
constexpr std::size_t kMagicSize = sizeof(kMagic) - 1;

void put_block(std::string& out, const std::string& block) {
  std::uint64_t n = block.size();
  for (int i = 0; i < 8; ++i) out.push_back(char((n >> (8 * i)) & 0xff));
  out += block;
}

std::string hex(const unsigned char* digest) {
  std::string s;
  for (int i = 0; i < SHA256_DIGEST_LENGTH; ++i) s += fmt::format("{:02x}", digest[i]);
  return s;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open the checkpoint", path));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}
}  // namespace

void write_checkpoint_file(const std::string& path, const CheckpointFile& checkpoint) {
  std::string content(kMagic, kMagicSize);
  put_block(content, checkpoint.metadata.dump(1));
  put_block(content, checkpoint.weights);
  put_block(content, checkpoint.optimiser);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(content.data()), content.size(), digest);
  content.append(reinterpret_cast<const char*>(digest), SHA256_DIGEST_LENGTH);
  AtomicOutput out(path);
  {
    std::ofstream file(out.temp_path(), std::ios::binary);
    file.write(content.data(), std::streamsize(content.size()));
    if (!file.flush()) throw InputError(fmt::format("{}: cannot write the checkpoint", path));
  }
  out.commit();
}

CheckpointFile read_checkpoint_file(const std::string& path) {
  const std::string content = slurp(path);
  if (content.size() < kMagicSize + 3 * 8 + SHA256_DIGEST_LENGTH || content.compare(0, kMagicSize, kMagic) != 0)
    throw InputError(fmt::format("{}: not a Gale checkpoint (no 'GALE-CHECKPOINT 1' header)", path));
  const std::size_t body = content.size() - SHA256_DIGEST_LENGTH;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(content.data()), body, digest);
  if (content.compare(body, SHA256_DIGEST_LENGTH, reinterpret_cast<const char*>(digest), SHA256_DIGEST_LENGTH) != 0)
    throw InputError(fmt::format("{}: checkpoint digest mismatch: the file is corrupt or was modified", path));
  std::size_t at = kMagicSize;
  auto block = [&](const char* what) {
    if (at + 8 > body) throw InputError(fmt::format("{}: checkpoint truncated before its {}", path, what));
    std::uint64_t n = 0;
    for (int i = 0; i < 8; ++i) n |= std::uint64_t(static_cast<unsigned char>(content[at + std::size_t(i)])) << (8 * i);
    at += 8;
    if (n > body - at) throw InputError(fmt::format("{}: checkpoint truncated inside its {}", path, what));
    std::string out = content.substr(at, n);
    at += n;
    return out;
  };
  CheckpointFile checkpoint;
  const auto metadata = block("metadata");
  try {
    checkpoint.metadata = nlohmann::json::parse(metadata);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("{}: checkpoint metadata is not JSON: {}", path, e.what()));
  }
  checkpoint.weights = block("weights");
  checkpoint.optimiser = block("optimiser state");
  return checkpoint;
}

std::string checkpoint_digest(const std::string& path) {
  const std::string content = slurp(path);
  if (content.size() < SHA256_DIGEST_LENGTH) throw InputError(fmt::format("{}: not a Gale checkpoint", path));
  return hex(reinterpret_cast<const unsigned char*>(content.data() + content.size() - SHA256_DIGEST_LENGTH));
}

}  // namespace gale
