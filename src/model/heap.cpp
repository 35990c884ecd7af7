#include "model/heap.h"

#include <malloc.h>

#include <climits>
#include <mutex>

namespace alexnet::model {

void KeepFreedMemoryForReuse() {
  static std::once_flag once;
  std::call_once(once, [] {
    mallopt(M_ARENA_MAX, 1);
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, INT_MAX);
  });
}

}  // namespace alexnet::model
