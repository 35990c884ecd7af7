#include "train/evaluate.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

#include "model/ranking.h"
#include "train/batch_tensors.h"
#include "util/csv.h"
#include "util/files.h"

namespace alexnet::train {

Status Accumulate(const tensorflow::Tensor& probabilities, const data::Batch& batch, int classes,
                  EvalResult* r) {
  const int64_t rows = int64_t(batch.size) * batch.views;
  if (classes <= 0 || probabilities.dims() != 2 || probabilities.dim_size(0) != rows ||
      probabilities.dim_size(1) != classes) {
    return Status::Internal("the model gave " + probabilities.shape().DebugString() + " probabilities for " +
                                 std::to_string(rows) + " images of " + std::to_string(classes) + " classes");
  }
  for (int i = 0; i < batch.size; ++i) {
    if (batch.labels[i] < 0 || batch.labels[i] >= classes) {
      return Status::BadInput("", "label " + std::to_string(batch.labels[i]) + " of batch " + std::to_string(batch.index) +
                                   " is not one of the model's " + std::to_string(classes) + " classes");
    }
  }
  if (r->confusion.empty()) r->confusion.assign(classes, std::vector<int64_t>(classes, 0));
  const float* p = probabilities.flat<float>().data();
  std::vector<float> mean(classes);
  for (int i = 0; i < batch.size; ++i) {
    std::fill(mean.begin(), mean.end(), 0.0f);
    for (int v = 0; v < batch.views; ++v) {
      const float* row = p + (int64_t(i) * batch.views + v) * classes;
      for (int c = 0; c < classes; ++c) mean[c] += row[c] / batch.views;
    }
    const int label = batch.labels[i];
    const int rank = model::RankOf(mean.data(), classes, label);
    const int predicted = model::ArgMax(mean.data(), classes);
    r->images += 1;
    r->top1 += rank == 0;
    r->top5 += rank < 5;
    r->loss_sum += -std::log(std::max(mean[label], 1e-12f));
    r->confusion[label][predicted] += 1;
  }
  r->skipped += batch.skipped;
  return Status::Ok();
}

bool EvalProgressLineDue(long long done, long long total) {
  return total >= 10 && done * 10 / total != (done - 1) * 10 / total;
}

Result<EvalResult> Evaluate(model::ModelSession* session, data::Loader* loader, int classes, EvalProgress progress) {
  return Evaluate([session](const tensorflow::Tensor& images,
                            tensorflow::Tensor* probs) { return session->Predict(images, probs); },
                  loader, classes, progress);
}

Result<EvalResult> Evaluate(const PredictFunction& predict, data::Loader* loader, int classes, EvalProgress progress) {
  EvalResult result;
  EvalResult* r = &result;
  data::Batch batch;
  const bool tty = progress != EvalProgress::kNone && ::isatty(STDERR_FILENO);
  const bool log = !tty && progress == EvalProgress::kTerminalOrLog;
  while (loader->Next(batch)) {
    if (batch.size == 0) continue;  // a replica's empty shard of a small last batch
    tensorflow::Tensor probs;
    const Status st = predict(ImagesTensor(batch), &probs);
    if (!st.ok()) return st.With("evaluation failed");
    ALEXNET_RETURN_IF_ERROR(Accumulate(probs, batch, classes, r));
    const long long done = batch.index + 1, total = loader->batches_per_epoch();
    if (tty) {
      std::fprintf(stderr, "\r  evaluating: batch %lld/%lld  top-1 %.4f\033[K", done, total, r->top1_accuracy());
    } else if (log && EvalProgressLineDue(done, total)) {
      std::fprintf(stderr, "  evaluating: batch %lld/%lld  top-1 %.4f\n", done, total, r->top1_accuracy());
    }
  }
  if (tty) std::fprintf(stderr, "\r\033[K");
  ALEXNET_RETURN_IF_ERROR(loader->status());
  return result;
}

Status WriteEvalCsv(const EvalResult& r, const std::vector<std::string>& names,
                    const std::string& confusion_path, const std::string& per_class_path) {
  auto name = [&](size_t i) { return i < names.size() ? names[i] : std::to_string(i); };
  std::vector<std::string> header = {"true\\predicted"};
  for (size_t i = 0; i < r.confusion.size(); ++i) header.push_back(name(i));
  std::string confusion = CsvRow(header) + "\n";
  std::string per_class = CsvRow({"class", "name", "images", "correct", "accuracy"}) + "\n";
  for (size_t i = 0; i < r.confusion.size(); ++i) {
    std::vector<std::string> row = {name(i)};
    int64_t total = 0;
    for (int64_t v : r.confusion[i]) {
      row.push_back(std::to_string(v));
      total += v;
    }
    confusion += CsvRow(row) + "\n";
    const int64_t correct = r.confusion[i][i];
    per_class += CsvRow({std::to_string(i), name(i), std::to_string(total), std::to_string(correct),
                         CsvNumber(total ? double(correct) / total : 0.0)}) + "\n";
  }
  ALEXNET_RETURN_IF_ERROR(WriteFileAtomic(confusion_path, confusion));
  return WriteFileAtomic(per_class_path, per_class);
}

}  // namespace alexnet::train
