# The CUDA backend joins agentrt_engine (included from engine/CMakeLists.txt when AGENTRT_CUDA is on).
set(ENGINE_CUDA_SOURCES
    cuda_backend.cpp
    cuda_bench.cpp
    cuda_error.cpp
    cuda_plan.cpp
    cuda_quantized_weights.cpp
    cuda_weights.cpp
    kv_blocks.cpp
    kv_pool.cpp)
list(TRANSFORM ENGINE_CUDA_SOURCES PREPEND ${CMAKE_CURRENT_LIST_DIR}/)
target_sources(agentrt_engine PRIVATE ${ENGINE_CUDA_SOURCES})
target_link_libraries(agentrt_engine PUBLIC agentrt_kernels CUDA::cudart)
# Lets the rest of the program (model loading, the CLI) offer the backend.
target_compile_definitions(agentrt_engine PUBLIC AGENTRT_HAVE_CUDA=1)
