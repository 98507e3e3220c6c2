// The threads behind koan::parallel_for (not the data loader's pool, data/thread_pool.h).
//
// One job at a time, cut into numbered chunks.  The calling thread takes part: it claims chunks
// from the front of one atomic job word and the workers from the back, so with one chunk per
// thread each thread runs the same part of the data from call to call (it stays in that core's
// cache), and when a worker is descheduled (a loaded machine) the others do its share: the caller
// only ever waits for chunks some thread has already started, never for a worker that has not
// woken yet.  Workers
// spin briefly after a job (waking a spinning worker costs a cache-line read), then sleep on a
// futex.  The first exception thrown in a chunk is rethrown to the caller once every started
// chunk has finished; chunks not yet started are then skipped.
//
// The public face is core/parallel.h; this header is for it and for core/float_mode.cpp.
#pragma once
#include <cstdint>

namespace koan::detail {

using ChunkFn = void (*)(void* ctx, int chunk);

// Runs fn(ctx, c) for every c in [0, chunks) exactly once, on the caller and up to chunks - 1
// pool workers; returns when all have run.  Chunks run inline on the caller when another thread's
// job holds the pool, the pool has been shut down (process exit), or there are more than 511 of
// them (parallel_for makes at most one per thread, 256).
void run_chunks(int chunks, ChunkFn fn, void* ctx);

// Runs fn(ctx, i) once on each pool worker i (per-thread state such as the FP control register);
// returns when all have.  Workers started later call the start hook first thing instead;
// set_worker_start_hook returns the hook it replaces.
void run_on_every_worker(ChunkFn fn, void* ctx);
using StartHook = void (*)();
StartHook set_worker_start_hook(StartHook hook);

// Sets the pool to n worker threads (the caller is the (n+1)-th): extra workers stop at once,
// missing ones start lazily, when a loop first needs them (a second thread makes the C and C++
// runtimes switch to slower atomic paths for good, so a 1-thread program never starts one).
void resize_pool(int n);
int pool_workers();

// True while this thread runs a chunk (its own or as a worker): nested parallel_for runs inline.
bool in_chunk();

// OpenMP (oneDNN's sgemm, OpenBLAS) runs on one thread on every thread koan uses: the pool is
// the only source of parallelism.  omp_set_num_threads is per thread, so each thread does this.
void pin_openmp_to_one_thread();

}  // namespace koan::detail
