#pragma once
// A model checkpoint is one file:
//   "GALE-CHECKPOINT 1\n"
//   u64 length + JSON metadata (variables, levels, time step, mesh, normalisation, the
//                resolved training config, training-data fingerprint, code version, seed,
//                optimiser step)
//   u64 length + LibTorch archive of the weights (never a Python pickle)
//   u64 length + LibTorch archive of the optimiser state (empty when not kept)
//   32 bytes: SHA-256 of everything above, checked on load.
// Lengths are little-endian. Written atomically (temporary file, fsync, rename, .sha256).
#include <nlohmann/json.hpp>

#include <string>

namespace gale {

struct CheckpointFile {
  nlohmann::json metadata;
  std::string weights;
  std::string optimiser;
};

void write_checkpoint_file(const std::string& path, const CheckpointFile& checkpoint);
// InputError naming the file when it is not a checkpoint, is truncated, or its digest does
// not match its content (tampered or corrupt).
CheckpointFile read_checkpoint_file(const std::string& path);

// The SHA-256 recorded in the file (its last 32 bytes, hex): a checkpoint's identity in
// provenance.
std::string checkpoint_digest(const std::string& path);

}  // namespace gale
