// Freed memory kept for the next step instead of given back to the kernel.
//
// Why: a training step allocates and frees the same few gigabytes every time (at batch 128,
// conv1's output alone is 149 MB). glibc's malloc serves blocks that large with mmap and gives
// them back with munmap when freed, so every step touched them afresh: about 120,000 page faults
// per training step and inference batch, each a zeroed 4 KB page (measured: `/usr/bin/time -v
// alexnet time`, 1.05 and 1.77 million minor faults for 2 and 8 of each; with the settings
// below 0.70 and 0.72 million, none per step).
// TensorFlow's CPU allocator passes them straight to malloc. So, once, before TensorFlow starts
// its threads:
//  - M_MMAP_MAX 0: no block comes from its own mmap; all from the heap;
//  - M_TRIM_THRESHOLD the largest mallopt takes (2 GiB): the freed top of the heap is kept for
//    the next step;
//  - M_ARENA_MAX 1: every thread uses the main heap. A thread's own arena grows in 64 MB heaps
//    and gives anything larger to mmap whatever M_MMAP_MAX says, so the first two alone do not
//    reach TensorFlow's worker threads.
// The cost: the process keeps its peak memory until it exits (its peak is the same as before;
// only the per-step return and re-fault is gone), and all threads share one malloc lock (small
// blocks are rare next to the tensors here). BENCHMARKS.md "Training speed" measures the gain.
#pragma once

namespace alexnet::model {

// Called once, first thing in main() (src/cli/main.cpp): an arena a thread already has stays its
// own, and TensorFlow starts threads before any session exists, so no later place reaches them
// all. Idempotent. Has no effect under a sanitizer, whose allocator replaces malloc.
void KeepFreedMemoryForReuse();

}  // namespace alexnet::model
