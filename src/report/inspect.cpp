#include "report/inspect.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "data/decode.h"
#include "model/summary.h"
#include "train/files.h"

namespace alexnet::report {

namespace fs = std::filesystem;
using model::LayerKind;

namespace {

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

std::string Fixed(double v, int digits) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

const model::LayerSpec* SpecOf(const std::string& name) {
  for (const model::LayerSpec& s : model::AlexNetLayers()) {
    if (name == s.name) return &s;
  }
  return nullptr;
}

// What the layer does and why, in the paper's terms (for the page; the walkthrough says more).
std::string Explanation(const model::LayerSpec& s, const model::ModelOptions& o) {
  std::ostringstream e;
  switch (s.kind) {
    case LayerKind::kConv:
      e << "Convolution: " << OutChannels(s, o) << " filters of " << s.kernel << " x " << s.kernel
        << " over all input channels, stride " << s.stride << ", zero padding " << s.pad
        << "; each filter produces one feature map (one tile below). Then ReLU, max(0, x): the paper's "
           "non-saturating non-linearity, which trained several times faster than tanh. Dark grey tiles "
           "are channels that are zero everywhere for this image.";
      break;
    case LayerKind::kLrn:
      e << "Local response normalisation: each activation is divided by (k + alpha * sum of squares)^beta "
           "over the " << 2 * o.lrn_params.depth_radius + 1 << " neighbouring channels at the same pixel, with k = "
        << o.lrn_params.bias << ", alpha = " << o.lrn_params.alpha << ", beta = " << o.lrn_params.beta
        << " (TensorFlow's parametrisation: alpha not divided by n). Strongly active channels damp their "
           "neighbours (lateral inhibition); the paper credits it with 1.4 % lower top-1 error. The shape does "
           "not change.";
      break;
    case LayerKind::kMaxPool:
      e << "Overlapping max pooling: the largest value in each " << s.kernel << " x " << s.kernel
        << " window, windows every " << s.stride << " pixels (stride < window, so they overlap). Halves the "
           "resolution and keeps the strongest responses; the paper found overlap lowered top-1 error by 0.4 % "
           "and overfitting slightly.";
      break;
    case LayerKind::kFullyConnected:
      if (s.out_channels == 0) {
        e << "Fully connected to one unit per class: the logits (bars). The softmax turns them into "
             "probabilities that sum to 1; the most probable classes are listed under the bars.";
      } else {
        e << "Fully connected: each of the " << s.out_channels << " units sees every input value. Then ReLU"
          << (s.dropout ? "; during training dropout sets each unit to zero with probability " +
                              Fixed(o.dropout_rate, 2) +
                              " (so units cannot rely on particular others), off here as at test time"
                        : "")
          << ". Bars: the units' activations (where there are more units than pixel columns, each column "
             "shows the largest of its units).";
      }
      break;
  }
  return e.str();
}

std::string Geometry(const model::SummaryRow* row) { return row ? row->geometry : ""; }

}  // namespace

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? " x " : "") + std::to_string(shape[i]);
  return s;
}

std::string OpenRunModel(const std::string& run_dir, const std::string& checkpoint, int threads, InspectModel* m) {
  std::error_code ec;
  if (!fs::is_directory(run_dir, ec)) return run_dir + ": no such run folder";
  if (std::string err = train::TrainedModel::Open(run_dir, checkpoint, threads, &m->trained); !err.empty()) {
    return err;
  }
  m->options = m->trained->config().model;
  m->class_names = m->trained->class_names();
  m->preprocess = m->trained->preprocess();
  m->stats = m->trained->stats();
  m->description = "trained: " + m->trained->checkpoint_prefix() + " (run " + run_dir + ", data " +
                   m->trained->config().data.source + ", input " + std::to_string(m->options.input_size) + ")";
  return "";
}

std::string OpenUntrainedModel(const model::ModelOptions& options, int threads, InspectModel* m) {
  model::SessionConfig sc;
  sc.model = options;
  sc.training = false;
  sc.threads = threads;
  if (auto st = model::ModelSession::Create(sc, &m->untrained); !st.ok()) return std::string(st.message());
  if (auto st = m->untrained->Initialize(); !st.ok()) return std::string(st.message());
  m->options = options;
  m->class_names.clear();
  for (int i = 0; i < options.num_classes; ++i) m->class_names.push_back("class " + std::to_string(i));
  m->preprocess.crop = options.input_size;
  m->preprocess.resize = static_cast<int>(std::lround(options.input_size * 256.0 / 227.0));
  m->preprocess.mean = data::MeanMode::kPerChannel;
  m->stats = nullptr;
  m->description = std::string("untrained: ") +
                   (options.init == model::Init::kHe ? "He initialisation N(0, sqrt(2 / fan_in)), biases 0"
                                                     : "the paper's initialisation N(0, " +
                                                           Fixed(options.init_stddev, 3) +
                                                           "), biases 1 in conv2, conv4, conv5, fc6, fc7") +
                   ", seed " + std::to_string(options.seed) + ", input " + std::to_string(options.input_size) +
                   ", " + std::to_string(options.num_classes) + " classes";
  return "";
}

std::string Conv1FilterImage(model::ModelSession* session, cv::Mat* image, GridLayout* layout, int scale) {
  std::vector<std::pair<std::string, tensorflow::Tensor>> params;
  if (auto st = session->ReadParameters(&params); !st.ok()) {
    return "reading the parameters: " + std::string(st.message());
  }
  for (const auto& [name, t] : params) {
    if (name != "conv1/weights") continue;
    if (t.dims() != 4) return "conv1/weights: expected 4 dimensions, got " + t.shape().DebugString();
    const int k = static_cast<int>(t.dim_size(0));
    *image = FilterGrid(t.flat<float>().data(), k, static_cast<int>(t.dim_size(2)),
                        static_cast<int>(t.dim_size(3)), scale, 8, layout);
    return "";
  }
  return "the model has no conv1/weights";
}

std::string InspectImage(InspectModel* m, const std::string& image_path, const std::string& out_dir,
                         const InspectOptions& options, InspectReport* report) {
  *report = InspectReport{};
  // The image, prepared exactly as evaluation prepares it.
  data::DecodeOptions decode;
  if (m->trained && m->trained->config().data.max_pixels > 0) {
    decode.max_pixels = static_cast<uint64_t>(m->trained->config().data.max_pixels);
  }
  cv::Mat rgb;
  if (data::Status st = data::decode_image_file(image_path, decode, rgb); !st.ok()) return st.message();
  std::shared_ptr<const data::ColorStats> stats = m->stats;
  if (stats) {
    report->mean_note = "the training set's " + std::string(m->preprocess.mean == data::MeanMode::kPerPixel
                                                                ? "mean image (the input picture adds back its "
                                                                  "per-channel average)"
                                                                : "per-channel mean") +
                        " (" + (m->trained ? m->trained->config().run.run_dir : std::string("?")) +
                        "/color_stats.json)";
  } else {
    // No training set: subtract the image's own per-channel mean over the S x S square.
    cv::Mat scratch;
    const cv::Mat square = data::center_square(rgb, m->preprocess.resize, scratch);
    const cv::Scalar mean = cv::mean(square);
    auto own = std::make_shared<data::ColorStats>();
    own->size = m->preprocess.resize;
    for (int c = 0; c < 3; ++c) own->mean_rgb[c] = mean[c];
    stats = own;
    report->mean_note = "the image's own per-channel mean over its central " + std::to_string(m->preprocess.resize) +
                        " x " + std::to_string(m->preprocess.resize) + " square (untrained model: no training set)";
  }
  for (int c = 0; c < 3; ++c) report->mean_rgb[c] = static_cast<float>(stats->mean_rgb[c]);
  auto norm = data::make_normalization(stats.get(), m->preprocess);
  if (!norm.ok()) return norm.status().message();
  const int crop = m->preprocess.crop;
  tensorflow::Tensor input(tensorflow::DT_FLOAT, {1, crop, crop, 3});
  if (data::Status st = data::preprocess_eval(rgb, m->preprocess, norm.value(), input.flat<float>().data());
      !st.ok()) {
    return image_path + ": " + st.message();
  }

  // Every stage's output, and the summary's numbers for the same network.
  std::vector<std::pair<std::string, tensorflow::Tensor>> stages;
  if (auto st = m->session()->Stages(input, &stages); !st.ok()) {
    return "running the network: " + std::string(st.message());
  }
  model::Summary summary;
  if (std::string err = model::BuildSummary(m->options, &summary); !err.empty()) return err;

  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) return out_dir + ": cannot create the folder: " + ec.message();

  // Input crop.
  {
    StageReport s;
    s.name = "input";
    s.shape = {crop, crop, 3};
    const cv::Mat body = InputCropImage(input.flat<float>().data(), crop, crop, report->mean_rgb.data(), 227);
    const cv::Mat img = AddCaption(body, {"input  " + ShapeText(s.shape), "centre crop, mean added back"});
    s.image = "input.png";
    s.width = img.cols;
    s.height = img.rows;
    s.note = "The " + std::to_string(crop) + " x " + std::to_string(crop) + " centre crop of the " +
             std::to_string(m->preprocess.resize) + " x " + std::to_string(m->preprocess.resize) +
             " square, shown with the mean added back; the network receives it minus " + report->mean_note + ".";
    if (std::string err = WritePng(out_dir + "/" + s.image, img); !err.empty()) return err;
    report->stages.push_back(s);
  }

  const tensorflow::Tensor* probabilities = nullptr;
  for (const auto& [name, t] : stages) {
    if (name == "softmax") probabilities = &t;
  }
  if (!probabilities) return "the network returned no softmax output";
  const int classes = static_cast<int>(probabilities->dim_size(1));
  {
    const float* p = probabilities->flat<float>().data();
    std::vector<int> order(classes);
    for (int i = 0; i < classes; ++i) order[i] = i;
    const int k = std::min(5, classes);
    std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int a, int b) { return p[a] > p[b]; });
    for (int i = 0; i < k; ++i) report->top.emplace_back(order[i], p[order[i]]);
  }

  for (const auto& [name, t] : stages) {
    if (name == "softmax") continue;
    const model::LayerSpec* spec = SpecOf(name);
    const model::SummaryRow* row = nullptr;
    for (const model::SummaryRow& r : summary.rows) {
      if (r.name == name) row = &r;
    }
    if (!spec || !row) return "stage " + name + " is not in the layer table";
    StageReport s;
    s.name = name;
    for (int d = 1; d < t.dims(); ++d) s.shape.push_back(t.dim_size(d));
    if (s.shape != row->out_shape) {
      return name + ": the network produced " + ShapeText(s.shape) + " but the summary says " +
             ShapeText(row->out_shape);
    }
    std::vector<std::string> caption = {name + "  " + ShapeText(s.shape) + "  (" + row->kind +
                                        (row->geometry.empty() ? "" : " " + row->geometry) +
                                        (spec->relu ? ", ReLU" : "") + ")"};
    cv::Mat img;
    const float* data = t.flat<float>().data();
    if (t.dims() == 4) {
      int constant = 0;
      const cv::Mat grid = FeatureMapGrid(data, static_cast<int>(s.shape[0]), static_cast<int>(s.shape[1]),
                                          static_cast<int>(s.shape[2]), nullptr, &constant, options.grid_width);
      caption.push_back("each channel min-max normalised (viridis: dark = low, yellow = high); " +
                        std::to_string(constant) + " of " + std::to_string(s.shape[2]) + " constant");
      img = AddCaption(grid, caption);
      s.note = std::to_string(constant) + " of " + std::to_string(s.shape[2]) +
               " channels are constant for this image (drawn dark grey; after a ReLU that means zero everywhere).";
    } else {
      const int n = static_cast<int>(s.shape[0]);
      std::vector<float> v(data, data + n);
      int active = 0;
      float hi = v.empty() ? 0.f : v[0];
      for (float x : v) {
        active += x > 0;
        hi = std::max(hi, x);
      }
      if (spec->out_channels == 0) {  // fc8: logits and the softmax's top classes
        std::vector<std::pair<std::string, float>> top;
        for (const auto& [c, p] : report->top) {
          top.emplace_back(c < static_cast<int>(m->class_names.size()) ? m->class_names[c] : std::to_string(c), p);
        }
        caption.push_back("logits of the " + std::to_string(n) + " classes; below: softmax, top " +
                          std::to_string(top.size()));
        img = AddCaption(StackVertically({UnitBarChart(v, std::min(options.chart_width, std::max(n * 24, 400)), 200),
                                          TopClassesChart(top)}),
                         caption);
        s.note = "Most probable: " + top.front().first + " (" + Fixed(top.front().second, 3) + ").";
      } else {
        caption.push_back(std::to_string(active) + " of " + std::to_string(n) + " units > 0, largest " +
                          Fixed(hi, 3));
        img = AddCaption(UnitBarChart(v, options.chart_width, 220), caption);
        s.note = std::to_string(active) + " of " + std::to_string(n) + " units are active (> 0) for this image.";
      }
    }
    s.image = name + ".png";
    s.width = img.cols;
    s.height = img.rows;
    if (std::string err = WritePng(out_dir + "/" + s.image, img); !err.empty()) return err;
    report->stages.push_back(s);
  }

  // The page: self-contained (inline style, images by relative path), opens from the disk.
  std::ostringstream h;
  const std::string image_name = fs::path(image_path).filename().string();
  h << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    << "<title>AlexNet, stage by stage: " << Html(image_name) << "</title>\n"
    << "<style>\n"
       "body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;line-height:1.45;color:#222}\n"
       "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px}\n"
       "td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}\n"
       "section{border-top:1px solid #ddd;margin-top:2em;padding-top:.5em}\n"
       "img{max-width:100%;border:1px solid #eee}code{background:#f5f5f5;padding:1px 4px}\n"
       ".numbers{color:#555}\n"
       "</style>\n</head>\n<body>\n"
    << "<h1>AlexNet, stage by stage</h1>\n"
    << "<p>Image: <code>" << Html(image_path) << "</code><br>Model: " << Html(m->description)
    << "<br>Input: shorter side resized to " << m->preprocess.resize << ", central " << m->preprocess.resize
    << " x " << m->preprocess.resize << " square, centre crop " << crop << " x " << crop << ", minus "
    << Html(report->mean_note) << ": (" << Fixed(report->mean_rgb[0], 1) << ", " << Fixed(report->mean_rgb[1], 1)
    << ", " << Fixed(report->mean_rgb[2], 1) << ") RGB.<br>Made by: <code>" << Html(options.command) << "</code></p>\n"
    << "<h2>Prediction</h2>\n<table><tr><th>class</th><th>probability</th></tr>\n";
  for (const auto& [c, p] : report->top) {
    h << "<tr><td>" << Html(m->class_names[c]) << "</td><td class=\"n\">" << Fixed(p, 4) << "</td></tr>\n";
  }
  h << "</table>\n<h2>The stages</h2>\n"
    << "<p>The numbers are those of <code>alexnet summary --classes " << m->options.num_classes << " --input-size "
    << m->options.input_size << "</code>: output shapes from TensorFlow's shape inference, parameters "
    << "(weights + biases) and multiply-accumulates (MACs) of the forward pass per image.</p>\n"
    << "<table><tr><th>stage</th><th>kind</th><th>kernel / stride</th><th>output (H x W x C)</th>"
       "<th>params</th><th>MACs</th></tr>\n"
    << "<tr><td><a href=\"#input\">input</a></td><td></td><td></td><td>" << crop << " x " << crop
    << " x 3</td><td></td><td></td></tr>\n";
  for (const model::SummaryRow& r : summary.rows) {
    h << "<tr><td><a href=\"#" << r.name << "\">" << r.name << "</a></td><td>" << r.kind << "</td><td>"
      << Html(r.geometry) << "</td><td>" << ShapeText(r.out_shape) << "</td><td class=\"n\">"
      << (r.params ? model::FormatCount(r.params) : "") << "</td><td class=\"n\">"
      << (r.macs ? model::FormatCount(r.macs) : "") << "</td></tr>\n";
  }
  h << "<tr><th>total</th><td></td><td></td><td></td><td class=\"n\">" << model::FormatCount(summary.total_params)
    << "</td><td class=\"n\">" << model::FormatCount(summary.total_macs) << "</td></tr>\n</table>\n";
  for (const StageReport& s : report->stages) {
    const model::SummaryRow* row = nullptr;
    for (const model::SummaryRow& r : summary.rows) {
      if (r.name == s.name) row = &r;
    }
    const model::LayerSpec* spec = SpecOf(s.name);
    h << "<section id=\"" << s.name << "\">\n<h2>" << s.name << (s.name == "fc8" ? " + softmax" : "") << "</h2>\n";
    if (spec) h << "<p>" << Html(Explanation(*spec, m->options)) << "</p>\n";
    h << "<p class=\"numbers\">Output " << ShapeText(s.shape);
    if (row) {
      if (!Geometry(row).empty()) h << " &middot; " << Html(row->kind + " " + row->geometry);
      h << " &middot; " << model::FormatCount(row->params) << " parameters &middot; "
        << model::FormatCount(row->macs) << " MACs";
    }
    h << "</p>\n<p>" << Html(s.note) << "</p>\n"
      << "<a href=\"" << s.image << "\"><img src=\"" << s.image << "\" width=\"" << s.width << "\" alt=\""
      << s.name << " " << ShapeText(s.shape) << "\"></a>\n</section>\n";
  }
  h << "</body>\n</html>\n";
  report->html_path = out_dir + "/index.html";
  const Status written = train::WriteFileAtomic(report->html_path, h.str());
  return written.ok() ? "" : written.message();
}

}  // namespace alexnet::report
