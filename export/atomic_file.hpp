#pragma once
// Outputs appear atomically: a writer fills `<path>.tmp.<pid>`, and commit() fsyncs it,
// renames it over `<path>`, fsyncs the directory and writes `<path>.sha256` the same way.
// A consumer never sees half a file; an AtomicOutput destroyed without commit() removes
// its temporary file (every error path).
#include <string>

namespace gale {

class AtomicOutput {
 public:
  // How much commit() does. Products: `durable` (fsync, then the .sha256 beside). Internal
  // state that carries its own hash and is rewritten every lead (member checkpoints):
  // `rename_only`: still atomic against a killed process (the rename is), not against a
  // power cut, where the file's own hash reports the damage on reading.
  enum class Mode { durable, rename_only };
  explicit AtomicOutput(std::string path, Mode mode = Mode::durable);
  ~AtomicOutput();  // removes the temporary file unless committed
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_; }

  // fsync(temp), rename(temp, path), fsync(directory), then `<path>.sha256` with
  // "<hex>  <basename>\n" (written atomically too). Throws InputError naming the path.
  void commit();

 private:
  std::string path_, temp_;
  Mode mode_;
  bool committed_ = false;
};

// Writes `text` to `path` atomically (temp file, fsync, rename). Throws InputError.
void write_text_atomically(const std::string& path, const std::string& text);

}  // namespace gale
