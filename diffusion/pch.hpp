#pragma once
// Precompiled header for the diffusion module: only ATen (no torch::nn; the network is a
// callback), plus the CPU generator used for keyed noise.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
