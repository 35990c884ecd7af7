#include "report/claims.h"

#include <cmath>
#include <sstream>

#include "data/color_stats.h"
#include "report/dropout_experiment.h"
#include "report/run_measures.h"
#include "report/seed_statistics.h"
#include "util/format.h"

namespace alexnet::report {

namespace {


// ---- measures shared by several experiments

Measure ValError() { return {"val top-1 error, last epoch (%)", 2, LastValError}; }
Measure BestError() { return {"best val top-1 error (%)", 2, BestValError}; }
Measure TrainError() { return {"train top-1 error, last epoch (%)", 2, LastTrainError}; }
Measure Gap() { return {"gap: val - train error (points)", 2, LastGap}; }
Measure StepMs() { return {"ms per SGD step (median)", 1, MedianStepMs}; }

Panel ValErrorPanel() { return {"validation top-1 error", "epoch", "error (%)", ValErrorCurve, true, std::nan("")}; }
Panel GapPanel() {
  return {"gap: validation error - training error", "epoch", "points", GapCurve, true, std::nan("")};
}

// The stat of measure `m` of variant `v` (both in the definition's order).
const Stat& StatOf(const std::vector<VariantResult>& r, size_t v, size_t m) { return r[v].stats[m]; }

std::string MeanText(const Stat& s, int decimals) { return s.n ? FormatFixed(s.mean, decimals) : "-"; }

// "+1.40", "-0.37": a change in points, with its sign.
std::string Signed(double v) { return (v >= 0 ? "+" : "") + FormatFixed(v, 2); }

// ---- relu (section 3.1, Figure 1)

// tanh / ReLU per seed (the same seed: the same initial weights and batches); NaN where either
// did not reach the target.
Stat SeedRatios(const VariantResult& relu, const VariantResult& tanh, size_t measure) {
  std::vector<double> ratios;
  for (size_t k = 0; k < relu.runs.size() && k < tanh.runs.size(); ++k) {
    ratios.push_back(tanh.stats[measure].values[k] / relu.stats[measure].values[k]);
  }
  return Summarize(ratios);
}

// Seeds in which ReLU got there first (or tanh never did), and the other way round.
std::pair<int, int> FasterSlower(const Stat& relu_steps, const Stat& tanh_steps) {
  int relu_first = 0, tanh_first = 0;
  for (size_t k = 0; k < relu_steps.values.size() && k < tanh_steps.values.size(); ++k) {
    const double r = relu_steps.values[k], t = tanh_steps.values[k];
    if (std::isfinite(r) && (!std::isfinite(t) || t > r)) ++relu_first;
    if (std::isfinite(t) && (!std::isfinite(r) || r > t)) ++tanh_first;
  }
  return {relu_first, tanh_first};
}

std::string ReluAgreementText(Agreement a, const Stat& steps) {
  if (a == Agreement::kDisagrees) return "tanh got there first in every seed: this disagrees with the paper.";
  if (a == Agreement::kWithinNoise) {
    return "The seeds do not agree on which gets there first, so this neither confirms nor contradicts the paper.";
  }
  if (steps.n == 0) return "ReLU got there first in every seed: this agrees with the paper in direction.";
  return std::string("ReLU got there first in every seed: this agrees with the paper in direction, ") +
         (steps.mean >= 3 && steps.mean <= 12 ? "and the size is of the paper's order."
                                              : "but not in size (the paper: about 6 times).");
}

Findings ReluFindings(const std::vector<VariantResult>& r, const ExperimentOptions& o) {
  const std::string target = FormatFixed(100 * o.target_error, 0) + " %";
  const Stat steps = SeedRatios(r[0], r[1], 0), seconds = SeedRatios(r[0], r[1], 1);
  const Stat &relu = StatOf(r, 0, 0), &tanh = StatOf(r, 1, 0);
  const auto [relu_first, tanh_first] = FasterSlower(relu, tanh);
  const int seeds = static_cast<int>(relu.values.size());
  Findings f;
  f.agreement = seeds >= 2 && relu_first == seeds   ? Agreement::kAgrees
                : seeds >= 2 && tanh_first == seeds ? Agreement::kDisagrees
                                                    : Agreement::kWithinNoise;
  std::ostringstream p;
  p << "ReLU reached " << target << " training error in " << MeanSd(relu, 0) << " steps, tanh in " << MeanSd(tanh, 0)
    << " steps";
  if (relu.n < seeds || tanh.n < seeds) {
    p << " ('k of " << seeds << "': the other seeds did not get there within the run's "
      << r[0].runs.front().steps.size() << " steps)";
  }
  p << ". ";
  if (steps.n > 0) {
    p << "Where both got there, tanh needed " << MeanSd(steps, 2) << " times the steps and " << MeanSd(seconds, 2)
      << " times the seconds of ReLU (the paper: about 6 times). ";
  }
  p << "ReLU got there first in " << relu_first << " of " << seeds << " seeds, tanh in " << tanh_first << ". "
    << ReluAgreementText(f.agreement, steps) << " "
    << Verdict(Compare(StatOf(r, 1, 2), StatOf(r, 0, 2)), std::nan(""), "ReLU",
               "points of training error at the end of the run")
    << " The paper's Figure 1 was a four-layer network on CIFAR-10 without regularisation; here it is the whole "
       "AlexNet (dropout and weight decay off, as there), with He initialisation, which is designed for ReLUs.";
  f.measured = "ReLU first to " + target + " training error in " + std::to_string(relu_first) + " of " +
               std::to_string(seeds) + " seeds" +
               (steps.n > 0 ? "; where both got there, tanh took " + MeanText(steps, 2) + "x the steps" : "");
  f.paragraph = p.str();
  return f;
}

Definition Relu(const ExperimentOptions& o) {
  auto set = [](model::Activation a) {
    return [a](train::TrainConfig* c) {
      c->model.activation = a;
      c->model.dropout_rate = 0;       // the paper's Figure 1: "no regularization of any kind"
      c->recipe.weight_decay = 0;
    };
  };
  const double target = 100 * o.target_error;
  const int window = o.smooth_steps;
  Definition d{ExperimentKind::kRelu, "ReLU vs tanh: steps to a training error",
               "A four-layer CNN with ReLUs reached 25 % training error on CIFAR-10 six times faster than the same "
               "network with tanh neurons (section 3.1, Figure 1).",
               {{"relu", "ReLU", set(model::Activation::kRelu)}, {"tanh", "tanh", set(model::Activation::kTanh)}},
               false, {}, {}, ReluFindings};
  const std::string t = FormatFixed(target, 0) + " %";
  d.measures = {
      {"steps to " + t + " training error", 0,
       [=](const RunRecord& r) { return StepsAndSecondsTo(r, target, window).first; }},
      {"SGD seconds to " + t, 1, [=](const RunRecord& r) { return StepsAndSecondsTo(r, target, window).second; }},
      {"training error at the end (%)", 2,
       [=](const RunRecord& r) {
         const auto c = SmoothedTrainError(r, window);
         return c.empty() ? std::nan("") : c.back().second;
       }},
      ValError(), StepMs()};
  Panel curve{"training error (mean of the last " + std::to_string(window) + " steps)", "step", "error (%)",
              [=](const RunRecord& r) {
                std::vector<std::pair<double, double>> p;
                for (const auto& [step, e] : SmoothedTrainError(r, window)) p.emplace_back(double(step), e);
                return p;
              },
              false, target};
  d.panels = {curve, ValErrorPanel()};
  return d;
}

// ---- lrn (section 3.3)

Findings LrnFindings(const std::vector<VariantResult>& r, const ExperimentOptions&) {
  const Difference d = Compare(StatOf(r, 1, 0), StatOf(r, 0, 0));
  const Stat &with = StatOf(r, 0, 2), &without = StatOf(r, 1, 2);
  Findings f;
  f.agreement = Judge(d);
  std::ostringstream p;
  p << "Validation top-1 error at the last epoch: " << MeanSd(StatOf(r, 0, 0), 2) << " % with LRN, "
    << MeanSd(StatOf(r, 1, 0), 2) << " % without (the paper: 1.4 points lower with LRN). "
    << Verdict(d, 1.4, "LRN", "points of top-1 error") << " ";
  if (with.n && without.n) {
    const double cost = with.mean - without.mean;
    p << "LRN cost " << FormatFixed(cost, 1) << " ms per step (" << FormatFixed(100 * cost / without.mean, 0)
      << " % of a step without it; median step times " << FormatFixed(with.mean, 1) << " and "
      << FormatFixed(without.mean, 1) << " ms).";
  }
  f.measured = "LRN changed top-1 error by " + Signed(-d.points) + " points (two standard errors " +
               FormatFixed(2 * d.se, 2) +
               ")";
  f.paragraph = p.str();
  return f;
}

Definition Lrn(const ExperimentOptions&) {
  auto set = [](bool on) { return [on](train::TrainConfig* c) { c->model.lrn = on; }; };
  return {ExperimentKind::kLrn, "Local response normalisation",
          "Response normalisation after conv1 and conv2 reduced top-1 error by 1.4 points (section 3.3).",
          {{"lrn", "LRN", set(true)}, {"no-lrn", "no LRN", set(false)}},
          false,
          {ValError(), BestError(), StepMs()},
          {ValErrorPanel(),
           {"training loss (running mean over the epoch)", "epoch", "cross-entropy",
            [](const RunRecord& r) {
              std::vector<std::pair<double, double>> p;
              for (const MetricsRow& m : r.epochs) p.emplace_back(m.epoch, m.train_loss);
              return p;
            },
            true, std::nan("")}},
          LrnFindings};
}

// ---- pooling (section 3.4)

std::string GapSentence(const Difference& d, const std::string& what, const std::string& other) {
  switch (Judge(d)) {
    case Agreement::kAgrees:
      return "The train/validation gap was smaller with " + what + " by " + FormatFixed(d.points, 2) +
             " points (two standard errors: " + FormatFixed(2 * d.se, 2) + "): less overfitting, as the paper says.";
    case Agreement::kDisagrees:
      return "The train/validation gap was larger with " + what + " than with " + other + " by " +
             FormatFixed(-d.points, 2) + " points (two standard errors: " + FormatFixed(2 * d.se, 2) +
             "): more overfitting, not less.";
    case Agreement::kWithinNoise: break;
  }
  return "The train/validation gaps differ by " + FormatFixed(d.points, 2) +
         " points, within the noise (two standard errors: " + FormatFixed(2 * d.se, 2) + ").";
}

Findings PoolingFindings(const std::vector<VariantResult>& r, const ExperimentOptions&) {
  const Difference error = Compare(StatOf(r, 1, 0), StatOf(r, 0, 0));
  const Difference gap = Compare(StatOf(r, 1, 3), StatOf(r, 0, 3));
  Findings f;
  f.agreement = Judge(error);
  f.paragraph = "Validation top-1 error at the last epoch: " + MeanSd(StatOf(r, 0, 0), 2) + " % with 3/2 pooling, " +
                MeanSd(StatOf(r, 1, 0), 2) + " % with 2/2 (the paper: 0.4 points lower with 3/2). " +
                Verdict(error, 0.4, "overlapping pooling", "points of top-1 error") + " " +
                GapSentence(gap, "overlapping pooling", "2/2");
  f.measured = "3/2 changed top-1 error by " + Signed(-error.points) + " points (two standard errors " +
               FormatFixed(2 * error.se, 2) + "), the gap by " + Signed(-gap.points);
  return f;
}

Definition Pooling(const ExperimentOptions&) {
  auto set = [](int k, int s) {
    return [k, s](train::TrainConfig* c) {
      c->model.pool_kernel = k;
      c->model.pool_stride = s;
    };
  };
  return {ExperimentKind::kPooling, "Overlapping pooling",
          "Overlapping max pooling (3 x 3 windows, stride 2) reduced top-1 error by 0.4 points compared with 2 x 2 "
          "windows at stride 2, which give outputs of the same size, and overfit slightly less (section 3.4).",
          {{"pool-3-2", "3/2 (overlapping)", set(3, 2)}, {"pool-2-2", "2/2 (not overlapping)", set(2, 2)}},
          true,
          {ValError(), BestError(), TrainError(), Gap()},
          {ValErrorPanel(), GapPanel()},
          PoolingFindings};
}

// ---- augmentation (section 4.1)

// Fashion-MNIST is grey: with R = G = B the RGB covariance has one non-zero eigenvalue, and
// the PCA colour shift can only change brightness. Said only when the run's statistics show it.
std::string GreyNote(const ExperimentOptions& o) {
  const auto stats = data::LoadColorStats(o.out_dir + "/" + RunFolderName("crops-flips-pca", o.seeds.front()) +
                                            "/color_stats.json");
  if (!stats.ok() || !(stats->eigenvalues[0] > 0)) return "";
  const double ratio = stats->eigenvalues[1] / stats->eigenvalues[0];
  if (ratio > 0.01) return "";
  return " The training images are grey: the second principal component of their RGB values has " +
         FormatFixed(100 * ratio, 2) + " % of the first one's variance, so PCA colour augmentation can only change "
         "an image's brightness here, not its colour as on ImageNet.";
}

Findings AugmentationFindings(const std::vector<VariantResult>& r, const ExperimentOptions& o) {
  const Difference pca = Compare(StatOf(r, 1, 0), StatOf(r, 2, 0));
  const Difference crops = Compare(StatOf(r, 0, 0), StatOf(r, 1, 0));
  const Difference gap = Compare(StatOf(r, 0, 3), StatOf(r, 1, 3));
  Findings f;
  f.agreement = Judge(pca);
  f.paragraph = "Validation top-1 error at the last epoch: " + MeanSd(StatOf(r, 0, 0), 2) +
                " % without augmentation, " +
                MeanSd(StatOf(r, 1, 0), 2) + " % with crops and flips, " + MeanSd(StatOf(r, 2, 0), 2) +
                " % with PCA colour as well. Crops and flips: " + Verdict(crops, std::nan(""), "crops and flips",
                                                                            "points of top-1 error") +
                " " + GapSentence(gap, "crops and flips", "no augmentation") + " PCA colour (the paper: over 1 point "
                "lower error): " + Verdict(pca, 1.0, "PCA colour", "points of top-1 error") + GreyNote(o);
  f.measured = "PCA colour changed top-1 error by " + Signed(-pca.points) + " points (two standard errors " +
               FormatFixed(2 * pca.se, 2) + "); crops+flips by " + Signed(-crops.points);
  return f;
}

Definition Augmentation(const ExperimentOptions&) {
  auto set = [](bool crops_flips, bool pca) {
    return [=](train::TrainConfig* c) {
      c->recipe.random_crop = c->recipe.flip = crops_flips;
      c->recipe.pca_color = pca;
    };
  };
  return {ExperimentKind::kAugmentation, "Data augmentation",
          "Random crops and horizontal flips keep the network from substantial overfitting; PCA colour "
          "augmentation reduced top-1 error by over 1 point (section 4.1).",
          {{"none", "none", set(false, false)},
           {"crops-flips", "crops + flips", set(true, false)},
           {"crops-flips-pca", "crops + flips + PCA colour", set(true, true)}},
          true,
          {ValError(), BestError(), TrainError(), Gap()},
          {ValErrorPanel(), GapPanel()},
          AugmentationFindings};
}

// ---- dropout (section 4.2)

Findings DropoutClaimFindings(const std::vector<VariantResult>& r, const ExperimentOptions&) {
  const Difference gap = Compare(StatOf(r, 1, 2), StatOf(r, 0, 2));
  const Difference error = Compare(StatOf(r, 1, 1), StatOf(r, 0, 1));
  Findings f;
  f.agreement = Judge(gap);
  f.paragraph = "At the last epoch the gap (validation error - training error) was " + MeanSd(StatOf(r, 0, 2), 2) +
                " points with dropout and " + MeanSd(StatOf(r, 1, 2), 2) + " without. " +
                GapSentence(gap, "dropout", "no dropout") + " Validation error: " +
                Verdict(error, std::nan(""), "dropout", "points of top-1 error");
  f.measured = "dropout changed the gap by " + Signed(-gap.points) + " points (two standard errors " +
               FormatFixed(2 * gap.se, 2) + "), top-1 error by " + Signed(-error.points);
  return f;
}

Definition Dropout(const ExperimentOptions& o) {
  auto set = [](float rate) { return [rate](train::TrainConfig* c) { c->model.dropout_rate = rate; }; };
  return {ExperimentKind::kDropout, "Dropout",
          "Without dropout the network overfits substantially; dropout on fc6 and fc7 reduces that, at the cost of "
          "about twice as many iterations to converge (section 4.2).",
          {{DropoutRunName(o.dropout), "dropout " + DropoutRate(o.dropout), set(o.dropout)},
           {DropoutRunName(0.0f), "dropout 0.0", set(0.0f)}},
          true,
          {TrainError(), ValError(), Gap(), BestError()},
          {},  // dropout.png, as before (DrawDropoutPlot)
          DropoutClaimFindings};
}

}  // namespace

Definition Define(ExperimentKind kind, const ExperimentOptions& o) {
  switch (kind) {
    case ExperimentKind::kRelu: return Relu(o);
    case ExperimentKind::kLrn: return Lrn(o);
    case ExperimentKind::kPooling: return Pooling(o);
    case ExperimentKind::kAugmentation: return Augmentation(o);
    case ExperimentKind::kDropout: return Dropout(o);
  }
  return Relu(o);
}

std::string SettingDifferences(const train::TrainConfig& used, int64_t steps, size_t seeds) {
  std::ostringstream s;
  s << "Where this setting differs from the paper's, and may explain a different result: the dataset ("
    << (used.data.source == "fashion-mnist" ? "Fashion-MNIST, 10 classes of grey 28 x 28 clothing images"
                                            : used.data.source)
    << ", resized to " << used.data.resize << " and cropped to " << used.data.crop << " x " << used.data.crop
    << ", against ImageNet's 1000 classes of colour photographs at 224); the scale ("
    << (used.data.train_limit ? std::to_string(used.data.train_limit) : std::string("all")) << " training images "
    << "against 1.2 million; at this input size pool5 is 1 x 1 instead of 6 x 6); the duration (" << used.recipe.epochs
    << " epochs, " << steps << " steps of " << used.recipe.batch << " images at a constant learning rate "
    << used.recipe.lr << ", against about 90 epochs of 128 with the rate divided by 10 three times); and the noise ("
    << seeds << " seeds here, one run in the paper).";
  return s.str();
}

}  // namespace alexnet::report
