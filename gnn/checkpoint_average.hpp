#pragma once
// Weight averaging over the checkpoints of one training run (stochastic weight averaging,
// Izmailov et al. 2018): the mean of the weights saved along the end of a run usually
// generalises better than the last of them, at no cost when forecasting. Used by
// `gale average-checkpoints` and by the trainer's `train.average_weights_from`.
#include <string>
#include <vector>

#include "gnn/checkpoint_file.hpp"

namespace gale {

// The element-wise mean of the weights of `paths` (two or more checkpoints of the same model:
// kind, variables, time step, grid, network, noise size, diffusion settings, normalisation),
// summed in double precision in the order given. The metadata is the last checkpoint's plus
// "averaged_from": [{file, sha256 of the file, step}] per input; there is no optimiser state
// (an average is not a point of the optimiser's path, so it does not resume). ConfigError naming the file
// and the key when a checkpoint describes another model, and for fewer than two; InputError
// for a file that is not an intact checkpoint.
CheckpointFile average_checkpoints(const std::vector<std::string>& paths);

}  // namespace gale
