#include "export/atomic_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/errors.hpp"
#include "core/hash.hpp"

namespace gale {

namespace {

std::string temp_name(const std::string& path) {
  return fmt::format("{}.tmp.{}", path, ::getpid());
}

void fsync_path(const std::string& path, const std::string& final_path, bool directory) {
  const int fd = ::open(path.c_str(), directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
  if (fd < 0)
    throw InputError(fmt::format("{}: cannot open {} for fsync: {}", final_path, path,
                                 std::strerror(errno)));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  // Some file systems cannot fsync a directory (EINVAL); the rename is still atomic there.
  if (rc != 0 && !(directory && (err == EINVAL || err == EROFS)))
    throw InputError(fmt::format("{}: fsync of {} failed: {}", final_path, path, std::strerror(err)));
}

std::string parent_of(const std::string& path) {
  auto parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

void rename_over(const std::string& from, const std::string& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0)
    throw InputError(fmt::format("{}: cannot rename {} into place: {}", to, from, std::strerror(errno)));
}

}  // namespace

AtomicOutput::AtomicOutput(std::string path, Mode mode)
    : path_(std::move(path)), temp_(temp_name(path_)), mode_(mode) {
  if (path_.empty()) throw InputError("output path is empty");
  if (std::filesystem::is_directory(path_))
    throw InputError(fmt::format("{}: output path is a directory", path_));
  // Checked here because netCDF-C/HDF5 report a missing directory as "Permission denied".
  const auto parent = parent_of(path_);
  if (!std::filesystem::is_directory(parent))
    throw InputError(fmt::format("{}: cannot write: directory {} does not exist", path_, parent));
}

AtomicOutput::~AtomicOutput() {
  if (!committed_) std::remove(temp_.c_str());
}

void AtomicOutput::commit() {
  if (mode_ == Mode::rename_only) {
    rename_over(temp_, path_);
    committed_ = true;
    return;
  }
  fsync_path(temp_, path_, false);
  const std::string digest = sha256_file(temp_);
  rename_over(temp_, path_);
  committed_ = true;
  fsync_path(parent_of(path_), path_, true);
  const auto base = std::filesystem::path(path_).filename().string();
  write_text_atomically(path_ + ".sha256", fmt::format("{}  {}\n", digest, base));
}

void write_text_atomically(const std::string& path, const std::string& text) {
  const std::string temp = temp_name(path);
  std::FILE* f = std::fopen(temp.c_str(), "wb");
  if (!f) throw InputError(fmt::format("{}: cannot create {}: {}", path, temp, std::strerror(errno)));
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size() && std::fflush(f) == 0 &&
                  ::fsync(::fileno(f)) == 0;
  const int err = errno;
  const bool closed = std::fclose(f) == 0;
  if (!ok || !closed) {
    std::remove(temp.c_str());
    throw InputError(fmt::format("{}: cannot write {}: {}", path, temp, std::strerror(err)));
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    std::remove(temp.c_str());
    throw InputError(fmt::format("{}: cannot rename {} into place: {}", path, temp, std::strerror(e)));
  }
}

}  // namespace gale
