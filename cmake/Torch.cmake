# LibTorch from the project-local virtualenv's `torch` wheel (pinned in scripts/setup).
# CMake finds it through torch.utils.cmake_prefix_path; the wheel is CUDA-enabled and
# runs on CPU where no GPU exists.
set(GALE_PYTHON "${PROJECT_SOURCE_DIR}/.venv/bin/python" CACHE FILEPATH "Python of the venv holding torch")
if(NOT Torch_DIR)
  execute_process(
    COMMAND ${GALE_PYTHON} -c "import torch.utils; print(torch.utils.cmake_prefix_path)"
    OUTPUT_VARIABLE GALE_TORCH_PREFIX OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "LibTorch not found: run scripts/setup (it installs torch into .venv), "
                        "or configure with -DGALE_WITH_TORCH=OFF")
  endif()
  list(APPEND CMAKE_PREFIX_PATH "${GALE_TORCH_PREFIX}")
endif()
# The CUDA toolkit lives in /usr/local/cuda; torch's config looks for it when the wheel
# is a CUDA build. Without a toolkit the CPU part still links.
if(EXISTS /usr/local/cuda/bin/nvcc AND NOT CMAKE_CUDA_COMPILER)
  set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  set(CUDAToolkit_ROOT /usr/local/cuda)
endif()
# No GPU here: name the target architectures so torch's config does not try to run a
# GPU-detection program (it fails without a device).
if(NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
  set(ENV{TORCH_CUDA_ARCH_LIST} "8.0;9.0")
endif()
set(CMAKE_CUDA_STANDARD 17)
find_package(Torch REQUIRED)
message(STATUS "LibTorch ${Torch_VERSION} from ${TORCH_INSTALL_PREFIX}")
