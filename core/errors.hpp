#pragma once
// One exception hierarchy. UserError: something the user can fix (config, input file,
// request); the CLI prints its message and exits non-zero without a stack trace.
// InternalError: a broken invariant inside Gale (a bug), reported differently.
#include <stdexcept>
#include <string>

namespace gale {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  virtual int exit_code() const noexcept = 0;
};

class UserError : public Error {
 public:
  using Error::Error;
  int exit_code() const noexcept override { return 2; }
};

// Bad YAML, unknown key, invalid value, bad --set override, unknown plugin name.
class ConfigError : public UserError {
 public:
  using UserError::UserError;
};

// A file that cannot be read as what it claims to be: missing, empty, truncated, corrupt.
class InputError : public UserError {
 public:
  using UserError::UserError;
  int exit_code() const noexcept override { return 3; }
};

// A readable file whose grid or encoding Gale does not support (HEALPix, Lambert, ...).
class UnsupportedError : public InputError {
 public:
  using InputError::InputError;
};

// Data that decodes but is wrong: values out of physical range, missing or duplicated
// fields for a request, NaN in a rollout.
class DataError : public UserError {
 public:
  using UserError::UserError;
  int exit_code() const noexcept override { return 4; }
};

class InternalError : public Error {
 public:
  using Error::Error;
  int exit_code() const noexcept override { return 70; }
};

}  // namespace gale
