#pragma once
// `gale train` and `gale evaluate` (and `mpirun -np R gale train`): the GNN forecaster
// trained from a `train:` config (gnn/trainer.hpp), and its skill on the config's test
// period against persistence and climatology. The interface is torch-free so the CLI
// compiles without LibTorch's headers.
#include <string>
#include <vector>

#include "core/config.hpp"

namespace gale {

// Collective (MPI initialised). Returns the checkpoint path.
std::string run_train_command(const Config& config, bool resume);

// Rank 0 only: the skill table of the checkpoint at train.output over `cases` forecasts
// started evenly through the test period, leads in steps.
std::string run_evaluate_command(const Config& config, int cases);

// `gale average-checkpoints -o OUT IN...`: the mean of the inputs' weights written to OUT
// (gnn/checkpoint_average.hpp). Returns what was written, for the user.
std::string run_average_command(const std::vector<std::string>& inputs, const std::string& output);

}  // namespace gale
