#pragma once
// Work that only rank 0 does (writing a file, generating an input), made collective in its
// outcome: when it throws, every rank throws, so no rank waits in a later collective (an
// all-reduce, MPI_Finalize) for one that gave up.
#include <mpi.h>

#include <functional>
#include <string>

namespace gale {

// Runs `work` on rank 0 only; every rank returns when it succeeded. When it failed, rank 0
// rethrows its own Gale error (same message and exit code) and the other ranks throw an
// InputError with that message. A failure outside Gale's errors (std::filesystem's, say)
// becomes "<what>: <its message>" on every rank, as an InputError. Collective on `comm`.
void on_rank0(MPI_Comm comm, const std::string& what, const std::function<void()>& work);

}  // namespace gale
