#include "report/inspect.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "data/decode.h"
#include "model/summary.h"
#include "util/files.h"
#include "util/format.h"

namespace alexnet::report {

namespace fs = std::filesystem;
using model::LayerKind;

namespace {


using Stages = std::vector<std::pair<std::string, tensorflow::Tensor>>;

std::string Html(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

const model::LayerSpec* SpecOf(const std::string& name) {
  for (const model::LayerSpec& s : model::AlexNetLayers()) {
    if (name == s.name) return &s;
  }
  return nullptr;
}

const model::SummaryRow* RowOf(const model::Summary& summary, const std::string& name) {
  for (const model::SummaryRow& r : summary.rows) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

// ---- what each kind of layer does and why, in the paper's terms (docs/learn/ says more)

std::string ConvText(const model::LayerSpec& s, const model::ModelOptions& o) {
  std::ostringstream e;
  e << "Convolution: " << OutChannels(s, o) << " filters of " << s.kernel << " x " << s.kernel
    << " over all input channels, stride " << s.stride << ", zero padding " << s.pad
    << "; each filter produces one feature map (one tile below). Then ReLU, max(0, x): the paper's "
       "non-saturating non-linearity, which trained several times faster than tanh. Dark grey tiles "
       "are channels that are zero everywhere for this image.";
  return e.str();
}

std::string LrnText(const model::ModelOptions& o) {
  std::ostringstream e;
  e << "Local response normalisation: each activation is divided by (k + alpha * sum of squares)^beta "
       "over the " << 2 * o.lrn_params.depth_radius + 1 << " neighbouring channels at the same pixel, with k = "
    << o.lrn_params.bias << ", alpha = " << o.lrn_params.alpha << ", beta = " << o.lrn_params.beta
    << " (TensorFlow's parametrisation: alpha not divided by n). Strongly active channels damp their "
       "neighbours (lateral inhibition); the paper credits it with 1.4 % lower top-1 error. The shape does "
       "not change.";
  return e.str();
}

std::string PoolText(const model::LayerSpec& s) {
  std::ostringstream e;
  e << "Overlapping max pooling: the largest value in each " << s.kernel << " x " << s.kernel
    << " window, windows every " << s.stride << " pixels (stride < window, so they overlap). Halves the "
       "resolution and keeps the strongest responses; the paper found overlap lowered top-1 error by 0.4 % "
       "and overfitting slightly.";
  return e.str();
}

std::string FcText(const model::LayerSpec& s, const model::ModelOptions& o) {
  if (s.out_channels == 0) {
    return "Fully connected to one unit per class: the logits (bars). The softmax turns them into "
           "probabilities that sum to 1; the most probable classes are listed under the bars.";
  }
  std::ostringstream e;
  e << "Fully connected: each of the " << s.out_channels << " units sees every input value. Then ReLU"
    << (s.dropout ? "; during training dropout sets each unit to zero with probability " +
                        FormatFixed(o.dropout_rate, 2) +
                        " (so units cannot rely on particular others), off here as at test time"
                  : "")
    << ". Bars: the units' activations (where there are more units than pixel columns, each column "
       "shows the largest of its units).";
  return e.str();
}

std::string Explanation(const model::LayerSpec& s, const model::ModelOptions& o) {
  switch (s.kind) {
    case LayerKind::kConv: return ConvText(s, o);
    case LayerKind::kLrn: return LrnText(o);
    case LayerKind::kMaxPool: return PoolText(s);
    case LayerKind::kFullyConnected: return FcText(s, o);
  }
  return "";
}

// ---- opening a model

std::string UntrainedDescription(const model::ModelOptions& o) {
  return std::string("untrained: ") +
         (o.init == model::Init::kHe ? "He initialisation N(0, sqrt(2 / fan_in)), biases 0"
                                     : "the paper's initialisation N(0, " + FormatFixed(o.init_stddev, 3) +
                                           "), biases 1 in conv2, conv4, conv5, fc6, fc7") +
         ", seed " + std::to_string(o.seed) + ", input " + std::to_string(o.input_size) + ", " +
         std::to_string(o.num_classes) + " classes";
}

Result<std::unique_ptr<model::ModelSession>> InitializedSession(const model::ModelOptions& options, int threads) {
  model::SessionConfig sc;
  sc.model = options;
  sc.training = false;
  sc.threads = threads;
  ALEXNET_ASSIGN_OR_RETURN(std::unique_ptr<model::ModelSession> session, model::ModelSession::Create(sc));
  ALEXNET_RETURN_IF_ERROR(session->Initialize());
  return session;
}

// ---- the input: the image prepared exactly as evaluation prepares it

struct PreparedInput {
  tensorflow::Tensor tensor;
  std::array<float, 3> mean_rgb{};
  std::string mean_note;
  std::string geometry_note;  // decoded size -> square -> crop, in numbers
};

// The numbers of evaluation's preprocessing for an image of this size: the central square of the
// decoded image, resized to S x S (so the shorter side becomes S), and the centre C x C crop.
std::string GeometryNote(const cv::Mat& rgb, const data::PreprocessOptions& p) {
  const int side = std::min(rgb.cols, rgb.rows);
  const data::CropSpec crop = data::CenterCrop(p.resize, p.crop);
  auto size = [](int w, int h) { return std::to_string(w) + " x " + std::to_string(h); };
  return "decoded " + size(rgb.cols, rgb.rows) + " (width x height) -> its central " + size(side, side) +
         " square resized to " + size(p.resize, p.resize) + " (the shorter side to " + std::to_string(p.resize) +
         ") -> the centre " + size(p.crop, p.crop) + " crop at x = " + std::to_string(crop.x) +
         ", y = " + std::to_string(crop.y);
}

Result<cv::Mat> DecodeImage(const InspectModel& m, const std::string& image_path) {
  data::DecodeOptions decode;
  if (m.trained && m.trained->config().data.max_pixels > 0) {
    decode.max_pixels = static_cast<uint64_t>(m.trained->config().data.max_pixels);
  }
  cv::Mat rgb;
  ALEXNET_RETURN_IF_ERROR(data::DecodeImageFile(image_path, decode, rgb));
  return rgb;
}

std::string TrainedMeanNote(const InspectModel& m) {
  return "the training set's " +
         std::string(m.preprocess.mean == data::MeanMode::kPerPixel
                         ? "mean image (the input picture adds back its per-channel average)"
                         : "per-channel mean") +
         " (" + (m.trained ? m.trained->config().run.run_dir : std::string("?")) + "/color_stats.json)";
}

// No training set: the image's own per-channel mean over the S x S square.
std::shared_ptr<const data::ColorStats> OwnMean(const cv::Mat& rgb, int resize) {
  cv::Mat scratch;
  const cv::Scalar mean = cv::mean(data::CenterSquare(rgb, resize, scratch));
  auto own = std::make_shared<data::ColorStats>();
  own->size = resize;
  for (int c = 0; c < 3; ++c) own->mean_rgb[c] = mean[c];
  return own;
}

std::string OwnMeanNote(int resize) {
  return "the image's own per-channel mean over its central " + std::to_string(resize) + " x " +
         std::to_string(resize) + " square (untrained model: no training set)";
}

Result<PreparedInput> PrepareInput(const InspectModel& m, const std::string& image_path) {
  ALEXNET_ASSIGN_OR_RETURN(const cv::Mat rgb, DecodeImage(m, image_path));
  PreparedInput in;
  std::shared_ptr<const data::ColorStats> stats = m.stats;
  in.mean_note = stats ? TrainedMeanNote(m) : OwnMeanNote(m.preprocess.resize);
  in.geometry_note = GeometryNote(rgb, m.preprocess);
  if (!stats) stats = OwnMean(rgb, m.preprocess.resize);
  for (int c = 0; c < 3; ++c) in.mean_rgb[c] = static_cast<float>(stats->mean_rgb[c]);
  ALEXNET_ASSIGN_OR_RETURN(const data::Normalization norm, data::MakeNormalization(stats.get(), m.preprocess));
  const int crop = m.preprocess.crop;
  in.tensor = tensorflow::Tensor(tensorflow::DT_FLOAT, {1, crop, crop, 3});
  if (Status st = data::PreprocessEval(rgb, m.preprocess, norm, in.tensor.flat<float>().data()); !st.ok()) {
    return Status::Error(st.code(), image_path, st.message());
  }
  return in;
}

// ---- the network's outputs

Result<Stages> RunStages(const InspectModel& m, const tensorflow::Tensor& input) {
  Stages stages;
  ALEXNET_RETURN_IF_ERROR(m.session()->Stages(input, &stages).With("running the network"));
  return stages;
}

Result<model::Summary> SummaryOf(const model::ModelOptions& options) { return model::BuildSummary(options); }

// The five most probable classes of the softmax, most probable first, and the true class's
// probability and rank when it is known.
Result<Prediction> MakePrediction(const Stages& stages, const TrueLabel& label) {
  const tensorflow::Tensor* probabilities = nullptr;
  for (const auto& [name, t] : stages) {
    if (name == "softmax") probabilities = &t;
  }
  if (!probabilities) return Status::Internal("the network returned no softmax output");
  const int classes = static_cast<int>(probabilities->dim_size(1));
  const float* p = probabilities->flat<float>().data();
  std::vector<int> order(classes);
  for (int i = 0; i < classes; ++i) order[i] = i;
  const int k = std::min(5, classes);
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int a, int b) { return p[a] > p[b]; });
  Prediction prediction;
  for (int i = 0; i < k; ++i) prediction.top.emplace_back(order[i], p[order[i]]);
  if (label.index >= 0 && label.index < classes) {
    prediction.true_class = label.index;
    prediction.true_source = label.source;
    prediction.true_probability = p[label.index];
    // Its place in the list, or below it (ties with the listed classes rank after them).
    int greater = 0;
    for (int i = 0; i < classes; ++i) greater += p[i] > p[label.index];
    prediction.true_rank = std::max(greater + 1, k + 1);
    for (int i = 0; i < k; ++i) {
      if (prediction.top[i].first == label.index) prediction.true_rank = i + 1;
    }
  }
  return prediction;
}

std::string ClassName(const InspectModel& m, int c) {
  return c >= 0 && c < static_cast<int>(m.class_names.size()) ? m.class_names[c] : std::to_string(c);
}

// ---- the stage pictures

struct Picture {
  cv::Mat image;
  std::string note;
};

// Writes <out>/<s.name>.png and completes `s` with its file name and size.
Result<StageReport> SavePicture(StageReport s, const Picture& p, const std::string& out_dir) {
  s.image = s.name + ".png";
  s.width = p.image.cols;
  s.height = p.image.rows;
  s.note = p.note;
  ALEXNET_RETURN_IF_ERROR(WritePng(out_dir + "/" + s.image, p.image));
  return s;
}

Result<StageReport> DrawInputStage(const InspectModel& m, const PreparedInput& in, const std::string& out_dir) {
  const int crop = m.preprocess.crop;
  const std::string resize = std::to_string(m.preprocess.resize);
  StageReport s;
  s.name = "input";
  s.shape = {crop, crop, 3};
  const cv::Mat body = InputCropImage(in.tensor.flat<float>().data(), crop, crop, in.mean_rgb.data(), 227);
  Picture p;
  p.image = AddCaption(body, {"input  " + ShapeText(s.shape), "centre crop, mean added back"});
  p.note = "The " + std::to_string(crop) + " x " + std::to_string(crop) + " centre crop of the " + resize + " x " +
           resize + " square, shown with the mean added back; the network receives it minus " + in.mean_note + ".";
  return SavePicture(s, p, out_dir);
}

Picture FeatureMapPicture(const float* data, const std::vector<int64_t>& shape, std::vector<std::string> caption,
                          int grid_width) {
  int constant = 0;
  const cv::Mat grid = FeatureMapGrid(data, static_cast<int>(shape[0]), static_cast<int>(shape[1]),
                                      static_cast<int>(shape[2]), nullptr, &constant, grid_width);
  const std::string constant_of = std::to_string(constant) + " of " + std::to_string(shape[2]);
  caption.push_back("each channel min-max normalised (viridis: dark = low, yellow = high); " + constant_of +
                    " constant");
  return {AddCaption(grid, caption), constant_of + " channels are constant for this image (drawn dark grey; "
                                                   "after a ReLU that means zero everywhere)."};
}

// The class chart's bars: the top classes, the true class marked green (added below the others
// when it ranks lower), the top prediction orange when it is not the true class.
std::vector<ClassBar> ClassBars(const InspectModel& m, const Prediction& pr) {
  std::vector<ClassBar> bars;
  for (size_t i = 0; i < pr.top.size(); ++i) {
    const auto& [c, p] = pr.top[i];
    ClassBar b{ClassName(m, c), p};
    if (c == pr.true_class) {
      b.colour = kTrueClassColour;
      b.text += i == 0 ? "  <- true class, predicted" : "  <- true class";
    } else if (i == 0) {
      b.colour = kPredictionColour;
      b.text += pr.known() ? "  <- top prediction, wrong" : "  <- top prediction";
    }
    bars.push_back(b);
  }
  if (pr.known() && pr.true_rank > static_cast<int>(pr.top.size())) {
    ClassBar b{ClassName(m, pr.true_class) + "  <- true class, rank " + std::to_string(pr.true_rank),
               pr.true_probability, kTrueClassColour, true};
    bars.push_back(b);
  }
  return bars;
}

// What the colours of fc8's chart mean, for its caption.
std::string ColourLegend(const InspectModel& m, const Prediction& pr) {
  if (!pr.known()) return "orange: the top prediction (true class not known: --label NAME)";
  const std::string truth = "green: the true class, " + ClassName(m, pr.true_class) + " (from " + pr.true_source + ")";
  return pr.correct() ? truth + ", also the top prediction" : truth + "; orange: the top prediction, wrong";
}

// fc8: the logits, and the softmax's most probable classes under them, in the same colours.
Picture ClassesPicture(const std::vector<float>& logits, const InspectModel& m, const Prediction& pr,
                       std::vector<std::string> caption, int chart_width) {
  const int n = static_cast<int>(logits.size());
  caption.push_back("logits of the " + std::to_string(n) + " classes; below: softmax, top " +
                    std::to_string(pr.top.size()));
  caption.push_back(ColourLegend(m, pr));
  std::vector<std::pair<int, cv::Scalar>> colours;
  if (!pr.correct()) colours.emplace_back(pr.top.front().first, kPredictionColour);
  if (pr.known()) colours.emplace_back(pr.true_class, kTrueClassColour);
  const cv::Mat bars = UnitBarChart(logits, std::min(chart_width, std::max(n * 24, 400)), 200, colours);
  std::string note = "Most probable: " + ClassName(m, pr.top.front().first) + " (" +
                     FormatFixed(pr.top.front().second, 3) + ").";
  if (pr.known()) {
    note += " True class: " + ClassName(m, pr.true_class) + " (from " + pr.true_source + "), probability " +
            FormatFixed(pr.true_probability, 3) + ", rank " + std::to_string(pr.true_rank) + ".";
  }
  return {AddCaption(StackVertically({bars, TopClassesChart(ClassBars(m, pr))}), caption), note};
}

Picture UnitsPicture(const std::vector<float>& v, std::vector<std::string> caption, int chart_width) {
  int active = 0;
  float hi = v.empty() ? 0.f : v[0];
  for (float x : v) {
    active += x > 0;
    hi = std::max(hi, x);
  }
  const std::string active_of = std::to_string(active) + " of " + std::to_string(v.size());
  caption.push_back(active_of + " units > 0, largest " + FormatFixed(hi, 3));
  return {AddCaption(UnitBarChart(v, chart_width, 220), caption),
          active_of + " units are active (> 0) for this image."};
}

std::string StageCaption(const std::string& name, const std::vector<int64_t>& shape, const model::SummaryRow& row) {
  const std::string activation = model::ActivationLabel(row.activation);
  return name + "  " + ShapeText(shape) + "  (" + row.kind + (row.geometry.empty() ? "" : " " + row.geometry) +
         (activation.empty() ? "" : ", " + activation) + ")";
}

// One stage's output drawn, after checking its shape against the summary's.
Result<StageReport> DrawStage(const std::string& name, const tensorflow::Tensor& t, const model::Summary& summary,
                              const InspectModel& m, const Prediction& prediction, const InspectOptions& options,
                              const std::string& out_dir) {
  const model::LayerSpec* spec = SpecOf(name);
  const model::SummaryRow* row = RowOf(summary, name);
  if (!spec || !row) return Status::Internal("stage " + name + " is not in the layer table");
  StageReport s;
  s.name = name;
  for (int d = 1; d < t.dims(); ++d) s.shape.push_back(t.dim_size(d));
  if (s.shape != row->out_shape) {
    return Status::Error(StatusCode::kInternal, name, "the network produced " + ShapeText(s.shape) +
                                                          " but the summary says " + ShapeText(row->out_shape));
  }
  const std::vector<std::string> caption = {StageCaption(name, s.shape, *row)};
  const float* data = t.flat<float>().data();
  if (t.dims() == 4) return SavePicture(s, FeatureMapPicture(data, s.shape, caption, options.grid_width), out_dir);
  const std::vector<float> values(data, data + s.shape[0]);
  if (spec->out_channels == 0) {
    return SavePicture(s, ClassesPicture(values, m, prediction, caption, options.chart_width), out_dir);
  }
  return SavePicture(s, UnitsPicture(values, caption, options.chart_width), out_dir);
}

// ---- the page: self-contained (inline style, images by relative path), opens from the disk

std::string PageHead(const std::string& image_path) {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<title>AlexNet, stage by stage: " + Html(fs::path(image_path).filename().string()) + "</title>\n"
         "<style>\n"
         "body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;line-height:1.45;color:#222}\n"
         "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px}\n"
         "td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}\n"
         "section{border-top:1px solid #ddd;margin-top:2em;padding-top:.5em}\n"
         "img{max-width:100%;border:1px solid #eee}code{background:#f5f5f5;padding:1px 4px}\n"
         ".numbers{color:#555}\n"
         "</style>\n</head>\n<body>\n"
         "<h1>AlexNet, stage by stage</h1>\n";
}

std::string PageIntro(const InspectModel& m, const std::string& image_path, const InspectReport& r,
                      const std::string& command) {
  const int crop = m.preprocess.crop, resize = m.preprocess.resize;
  std::ostringstream h;
  h << "<p>Image: <code>" << Html(image_path) << "</code><br>Model: " << Html(m.description)
    << "<br>Input: shorter side resized to " << resize << ", central " << resize << " x " << resize
    << " square, centre crop " << crop << " x " << crop << ", minus " << Html(r.mean_note) << ": ("
    << FormatFixed(r.mean_rgb[0], 1) << ", " << FormatFixed(r.mean_rgb[1], 1) << ", " << FormatFixed(r.mean_rgb[2], 1)
    << ") RGB.<br>Made by: <code>" << Html(command) << "</code></p>\n";
  return h.str();
}

std::string PredictionTable(const InspectModel& m, const Prediction& pr) {
  std::ostringstream h;
  h << "<h2>Prediction</h2>\n<table><tr><th>class</th><th>probability</th><th></th></tr>\n";
  for (size_t i = 0; i < pr.top.size(); ++i) {
    const auto& [c, p] = pr.top[i];
    const std::string mark = c == pr.true_class ? "true class" : i == 0 && pr.known() ? "top prediction, wrong" : "";
    h << "<tr><td>" << Html(ClassName(m, c)) << "</td><td class=\"n\">" << FormatFixed(p, 4) << "</td><td>"
      << mark << "</td></tr>\n";
  }
  if (pr.known() && pr.true_rank > static_cast<int>(pr.top.size())) {
    h << "<tr><td>" << Html(ClassName(m, pr.true_class)) << "</td><td class=\"n\">"
      << FormatFixed(pr.true_probability, 4) << "</td><td>true class, rank " << pr.true_rank << "</td></tr>\n";
  }
  h << "</table>\n<p>"
    << (pr.known() ? "The true class, " + Html(ClassName(m, pr.true_class)) + ", is known from " +
                         Html(pr.true_source) + "."
                   : std::string("The true class is not known (give it with --label NAME, or name the file as "
                                 "<code>alexnet extract</code> does: <code>0_Ankle-boot.png</code>)."))
    << "</p>\n";
  return h.str();
}

std::string LayerTable(const model::Summary& summary, const model::ModelOptions& o, int crop) {
  std::ostringstream h;
  h << "<h2>The stages</h2>\n"
    << "<p>The numbers are those of <code>alexnet summary --classes " << o.num_classes << " --input-size "
    << o.input_size << "</code>: output shapes from TensorFlow's shape inference, parameters "
    << "(weights + biases) and multiply-accumulates (MACs) of the forward pass per image.</p>\n"
    << "<table><tr><th>stage</th><th>kind</th><th>kernel / stride</th><th>output (H x W x C)</th>"
       "<th>params</th><th>MACs</th><th>receptive field</th></tr>\n"
    << "<tr><td><a href=\"#input\">input</a></td><td></td><td></td><td>" << crop << " x " << crop
    << " x 3</td><td></td><td></td><td class=\"n\">1</td></tr>\n";
  for (const model::SummaryRow& r : summary.rows) {
    h << "<tr><td><a href=\"#" << r.name << "\">" << r.name << "</a></td><td>" << r.kind << "</td><td>"
      << Html(r.geometry) << "</td><td>" << ShapeText(r.out_shape) << "</td><td class=\"n\">"
      << (r.params ? FormatCount(r.params) : "") << "</td><td class=\"n\">"
      << (r.macs ? FormatCount(r.macs) : "") << "</td><td class=\"n\">" << model::ReceptiveFieldText(r.field)
      << "</td></tr>\n";
  }
  h << "<tr><th>total</th><td></td><td></td><td></td><td class=\"n\">" << FormatCount(summary.total_params)
    << "</td><td class=\"n\">" << FormatCount(summary.total_macs) << "</td><td></td></tr>\n</table>\n"
    << "<p>Receptive field: the side of the square of input pixels one unit of the stage sees (padding "
       "included); \"all\": a fully connected unit sees every pixel.</p>\n";
  return h.str();
}

std::string StageSection(const StageReport& s, const model::Summary& summary, const model::ModelOptions& o) {
  const model::SummaryRow* row = RowOf(summary, s.name);
  const model::LayerSpec* spec = SpecOf(s.name);
  std::ostringstream h;
  h << "<section id=\"" << s.name << "\">\n<h2>" << s.name << (s.name == "fc8" ? " + softmax" : "") << "</h2>\n";
  if (spec) h << "<p>" << Html(Explanation(*spec, o)) << "</p>\n";
  h << "<p class=\"numbers\">Output " << ShapeText(s.shape);
  if (row) {
    if (!row->geometry.empty()) h << " &middot; " << Html(row->kind + " " + row->geometry);
    h << " &middot; " << FormatCount(row->params) << " parameters &middot; "
      << FormatCount(row->macs) << " MACs";
  }
  h << "</p>\n<p>" << Html(s.note) << "</p>\n"
    << "<a href=\"" << s.image << "\"><img src=\"" << s.image << "\" width=\"" << s.width << "\" alt=\""
    << s.name << " " << ShapeText(s.shape) << "\"></a>\n</section>\n";
  return h.str();
}

std::string InspectPage(const InspectModel& m, const std::string& image_path, const InspectReport& r,
                        const model::Summary& summary, const std::string& command) {
  std::string page = PageHead(image_path) + PageIntro(m, image_path, r, command) + PredictionTable(m, r.prediction) +
                     LayerTable(summary, m.options, m.preprocess.crop);
  for (const StageReport& s : r.stages) page += StageSection(s, summary, m.options);
  return page + "</body>\n</html>\n";
}

// ---- the true class

// A class name as `alexnet extract` writes it in a file name (FileNameForm), lower case:
// "t-shirt-top".
std::string LowerFileNameForm(const std::string& name) {
  std::string out = FileNameForm(name);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

// The one class whose name reads `text` (exactly, or in file-name form), else -1.
int ClassNamed(const std::string& text, const std::vector<std::string>& class_names) {
  for (size_t i = 0; i < class_names.size(); ++i) {
    if (class_names[i] == text) return static_cast<int>(i);
  }
  int found = -1;
  for (size_t i = 0; i < class_names.size(); ++i) {
    if (LowerFileNameForm(class_names[i]) != LowerFileNameForm(text)) continue;
    if (found >= 0) return -1;  // ambiguous
    found = static_cast<int>(i);
  }
  return found;
}

// ---- the numbers of every stage (inspect --text)

StageStats MeasureStage(const std::string& name, const tensorflow::Tensor& t, const model::ReceptiveField& field) {
  StageStats st;
  st.name = name;
  for (int d = 1; d < t.dims(); ++d) st.shape.push_back(t.dim_size(d));
  const auto v = t.flat<float>();
  const int64_t n = v.size();
  if (n == 0) return st;
  int64_t zeros = 0;
  double sum = 0;
  st.min = st.max = v(0);
  for (int64_t i = 0; i < n; ++i) {
    zeros += v(i) == 0.0f;
    sum += v(i);
    st.min = std::min(st.min, v(i));
    st.max = std::max(st.max, v(i));
  }
  st.zero_fraction = static_cast<double>(zeros) / static_cast<double>(n);
  st.mean = sum / static_cast<double>(n);
  st.field = field;
  return st;
}

std::string Number4(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

}  // namespace

Result<TrueLabel> LabelFromFlag(const std::string& label, const std::vector<std::string>& class_names) {
  TrueLabel t;
  t.source = "--label";
  t.index = ClassNamed(label, class_names);
  if (t.index < 0 && !label.empty() &&
      label.find_first_not_of("0123456789") == std::string::npos && label.size() < 9) {
    const int i = std::stoi(label);
    if (i < static_cast<int>(class_names.size())) t.index = i;
  }
  if (t.index >= 0) return t;
  std::string names;
  for (size_t i = 0; i < class_names.size() && i < 20; ++i) names += (i ? ", " : "") + class_names[i];
  if (class_names.size() > 20) names += ", ...";
  return Status::BadInput("", "--label '" + label + "' is not one of the model's " +
                                  std::to_string(class_names.size()) + " classes (a name or an index): " + names);
}

TrueLabel LabelFromPath(const std::string& image_path, const std::vector<std::string>& class_names) {
  const fs::path path(image_path);
  std::string stem = path.stem().string();
  // `alexnet extract`'s <index>_<class>: the class after the index.
  const size_t underscore = stem.find('_');
  if (underscore != std::string::npos && underscore > 0 &&
      stem.find_first_not_of("0123456789") == underscore) {
    stem = stem.substr(underscore + 1);
  }
  if (const int i = ClassNamed(stem, class_names); i >= 0) return {i, "the file name"};
  const std::string folder = path.parent_path().filename().string();
  if (!folder.empty()) {
    if (const int i = ClassNamed(folder, class_names); i >= 0) return {i, "the folder name"};
  }
  return {};
}

std::string PredictionText(const InspectModel& m, const Prediction& p) {
  std::string out = "most probable: ";
  for (size_t i = 0; i < p.top.size() && i < 3; ++i) {
    out += (i ? ", " : "") + ClassName(m, p.top[i].first) + " " + FormatFixed(p.top[i].second, 3);
  }
  if (p.known()) {
    out += "\ntrue class: " + ClassName(m, p.true_class) + " (from " + p.true_source + "): " +
           FormatFixed(p.true_probability, 3) + ", rank " + std::to_string(p.true_rank) +
           (p.correct() ? " (predicted)" : " (wrong prediction)");
  }
  return out;
}

Result<StageStatsReport> InspectStageStats(const InspectModel& m, const std::string& image_path,
                                           const TrueLabel& label) {
  ALEXNET_ASSIGN_OR_RETURN(const PreparedInput input, PrepareInput(m, image_path));
  ALEXNET_ASSIGN_OR_RETURN(const Stages stages, RunStages(m, input.tensor));
  ALEXNET_ASSIGN_OR_RETURN(const std::vector<model::LayerShape> shapes, model::ComputeLayerShapes(m.options));
  StageStatsReport r;
  r.mean_note = input.mean_note;
  r.geometry_note = input.geometry_note;
  r.mean_rgb = input.mean_rgb;
  ALEXNET_ASSIGN_OR_RETURN(r.prediction, MakePrediction(stages, label));
  r.stages.push_back(MeasureStage("input", input.tensor, model::ReceptiveField{}));
  model::ReceptiveField last;
  for (const auto& [name, t] : stages) {
    for (const model::LayerShape& s : shapes) {
      if (name == s.spec.name) last = s.field;
    }
    // (softmax: over fc8's units, so fc8's field: the whole input)
    r.stages.push_back(MeasureStage(name, t, last));
  }
  return r;
}

std::string StageStatsText(const InspectModel& m, const std::string& image_path, const StageStatsReport& r) {
  std::ostringstream out;
  out << "image: " << image_path << "\nmodel: " << m.description << "\npreprocessing: " << r.geometry_note
      << "\ninput: minus (R, G, B) = (" << FormatFixed(r.mean_rgb[0], 1) << ", " << FormatFixed(r.mean_rgb[1], 1) << ", "
      << FormatFixed(r.mean_rgb[2], 1) << "), " << r.mean_note << "\n";
  char line[256];
  std::snprintf(line, sizeof line, "%-8s %-16s %7s %11s %11s %11s %6s\n", "stage", "output", "zeros", "min", "max",
                "mean", "RF");
  out << line;
  for (const StageStats& s : r.stages) {
    std::snprintf(line, sizeof line, "%-8s %-16s %7.3f %11s %11s %11s %6s\n", s.name.c_str(),
                  ShapeText(s.shape).c_str(), s.zero_fraction, Number4(s.min).c_str(), Number4(s.max).c_str(),
                  Number4(s.mean).c_str(), model::ReceptiveFieldText(s.field).c_str());
    out << line;
  }
  out << "zeros: the fraction of values exactly 0 (after a ReLU: the units that are off)\n"
         "RF: receptive field, the side of the square of input pixels one unit sees (\"all\": every pixel)\n"
      << PredictionText(m, r.prediction) << "\n";
  return out.str();
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? " x " : "") + std::to_string(shape[i]);
  return s;
}

Result<InspectModel> OpenRunModel(const std::string& run_dir, const std::string& checkpoint,
                                  const train::SessionChoice& session) {
  std::error_code ec;
  if (!fs::is_directory(run_dir, ec)) return Status::NotFound(run_dir, "no such run folder");
  InspectModel m;
  ALEXNET_ASSIGN_OR_RETURN(m.trained, train::TrainedModel::Open(run_dir, checkpoint, session));
  m.options = m.trained->config().model;
  m.class_names = m.trained->class_names();
  m.preprocess = m.trained->preprocess();
  m.stats = m.trained->stats();
  m.description = "trained: " + m.trained->checkpoint_prefix() + " (run " + run_dir + ", data " +
                  m.trained->config().data.source + ", input " + std::to_string(m.options.input_size) + ")";
  return m;
}

Result<InspectModel> OpenUntrainedModel(const model::ModelOptions& options, int threads) {
  InspectModel m;
  ALEXNET_ASSIGN_OR_RETURN(m.untrained, InitializedSession(options, threads));
  m.options = options;
  for (int i = 0; i < options.num_classes; ++i) m.class_names.push_back("class " + std::to_string(i));
  m.preprocess.crop = options.input_size;
  m.preprocess.resize = static_cast<int>(std::lround(options.input_size * 256.0 / 227.0));
  m.preprocess.mean = data::MeanMode::kPerChannel;
  m.stats = nullptr;
  m.description = UntrainedDescription(options);
  return m;
}

Result<FilterImage> Conv1FilterImage(model::ModelSession* session, int scale) {
  Stages params;
  ALEXNET_RETURN_IF_ERROR(session->ReadParameters(&params).With("reading the parameters"));
  for (const auto& [name, t] : params) {
    if (name != "conv1/weights") continue;
    if (t.dims() != 4) return Status::BadInput(name, "expected 4 dimensions, got " + t.shape().DebugString());
    FilterImage f;
    f.image = FilterGrid(t.flat<float>().data(), static_cast<int>(t.dim_size(0)), static_cast<int>(t.dim_size(2)),
                         static_cast<int>(t.dim_size(3)), scale, 8, &f.layout);
    return f;
  }
  return Status::BadInput("", "the model has no conv1/weights");
}

Result<InspectReport> InspectImage(const InspectModel& m, const std::string& image_path, const std::string& out_dir,
                                   const InspectOptions& options) {
  ALEXNET_ASSIGN_OR_RETURN(const PreparedInput input, PrepareInput(m, image_path));
  ALEXNET_ASSIGN_OR_RETURN(const Stages stages, RunStages(m, input.tensor));
  ALEXNET_ASSIGN_OR_RETURN(const model::Summary summary, SummaryOf(m.options));
  ALEXNET_RETURN_IF_ERROR(MakeFolder(out_dir));
  InspectReport report;
  report.mean_rgb = input.mean_rgb;
  report.mean_note = input.mean_note;
  ALEXNET_ASSIGN_OR_RETURN(const StageReport first, DrawInputStage(m, input, out_dir));
  report.stages.push_back(first);
  ALEXNET_ASSIGN_OR_RETURN(report.prediction, MakePrediction(stages, options.label));
  for (const auto& [name, t] : stages) {
    if (name == "softmax") continue;
    ALEXNET_ASSIGN_OR_RETURN(const StageReport s,
                             DrawStage(name, t, summary, m, report.prediction, options, out_dir));
    report.stages.push_back(s);
  }
  report.html_path = out_dir + "/index.html";
  const std::string page = InspectPage(m, image_path, report, summary, options.command);
  ALEXNET_RETURN_IF_ERROR(WriteFileAtomic(report.html_path, page));
  return report;
}

}  // namespace alexnet::report
