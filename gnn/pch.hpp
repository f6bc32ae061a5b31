#pragma once
// Precompiled header for the LibTorch modules: the ATen and torch::nn headers every torch
// file needs (each costs seconds to parse).
#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
