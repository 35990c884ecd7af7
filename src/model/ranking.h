// Reading a row of class scores (logits or probabilities): arg-max, rank of a label, the k
// most probable classes. One copy for the train step's top-1, evaluation, prediction and reports.
#pragma once

#include <algorithm>
#include <numeric>
#include <vector>

namespace alexnet::model {

// The first index of the largest score.
inline int ArgMax(const float* row, int classes) {
  return static_cast<int>(std::max_element(row, row + classes) - row);
}

// How many classes score strictly higher than `label` (0: top-1 correct; < 5: top-5 correct).
inline int RankOf(const float* row, int classes, int label) {
  int rank = 0;
  for (int c = 0; c < classes; ++c) rank += row[c] > row[label];
  return rank;
}

// The k (at most `classes`) highest-scoring classes, highest first.
inline std::vector<int> TopK(const float* row, int classes, int k) {
  std::vector<int> order(classes);
  std::iota(order.begin(), order.end(), 0);
  k = std::min(k, classes);
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int a, int b) { return row[a] > row[b]; });
  order.resize(k);
  return order;
}

}  // namespace alexnet::model
