// KeepFreedMemoryForReuse (model/heap.h): a large block freed by one thread and allocated again
// by another costs no new page faults, where glibc's defaults give it back to the kernel and
// fault every page in again.
#include <sys/resource.h>

#include <cstdlib>
#include <cstring>
#include <thread>

#include <gtest/gtest.h>

#include "model/heap.h"

namespace {

long MinorFaults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

// Allocates, writes and frees `bytes` on a new thread (as TensorFlow's worker threads do).
void TouchOnAThread(size_t bytes) {
  std::thread([bytes] {
    auto* p = static_cast<char*>(std::malloc(bytes));
    ASSERT_NE(p, nullptr);
    std::memset(p, 1, bytes);
    asm volatile("" : : "r"(p) : "memory");  // keeps the compiler from eliding the block
    std::free(p);
  }).join();
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ALEXNET_UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define ALEXNET_UNDER_SANITIZER 1
#endif
#endif

TEST(Heap, AFreedLargeBlockIsReusedWithoutPageFaults) {
#ifdef ALEXNET_UNDER_SANITIZER
  GTEST_SKIP() << "a sanitizer's allocator replaces malloc";
#endif
  constexpr size_t kBytes = 256u << 20;  // larger than a thread arena's 64 MB heap
  constexpr long kPages = kBytes / 4096;
  alexnet::model::KeepFreedMemoryForReuse();
  TouchOnAThread(kBytes);  // the first touch faults the pages in
  const long before = MinorFaults();
  TouchOnAThread(kBytes);
  const long again = MinorFaults() - before;
  EXPECT_LT(again, kPages / 20) << "page faults on reusing a freed " << (kBytes >> 20) << " MB block";
}

}  // namespace
