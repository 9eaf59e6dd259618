// kernels: the CUDA kernels of the engine (.cu/.cuh) and their host launchers. They know tensor shapes and dtypes
// only, nothing of models, checkpoints or agents. They include only the CUDA toolkit and the standard library;
// engine/cuda is their one user.
#pragma once
