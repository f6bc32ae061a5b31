#include "ensemble/on_rank0.hpp"

#include <exception>

#include "core/errors.hpp"

namespace gale {

void on_rank0(MPI_Comm comm, const std::string& what, const std::function<void()>& work) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  std::string failure;
  std::exception_ptr gale_error;
  if (rank == 0) try {
      work();
    } catch (const Error& e) {
      failure = e.what();
      gale_error = std::current_exception();
    } catch (const std::exception& e) {
      failure = what + ": " + e.what();
    } catch (...) {
      failure = what + ": an unknown error";
    }
  int length = int(failure.size());
  MPI_Bcast(&length, 1, MPI_INT, 0, comm);
  if (length == 0) return;
  failure.resize(std::size_t(length));
  MPI_Bcast(failure.data(), length, MPI_CHAR, 0, comm);
  if (gale_error) std::rethrow_exception(gale_error);
  throw InputError(failure);
}

}  // namespace gale
