#pragma once
// Precompiled header for the LibTorch modules: the ATen headers every torch file needs.
#include <ATen/ATen.h>
