#include "train/config.h"

#include <filesystem>
#include <utility>
#include <vector>

#include "data/json_fields.h"
#include "util/files.h"

namespace alexnet::train {

// On disk (config.json) every struct is an object keyed by its field names, except that the
// run folder and the test limit are not saved and the LRN constants sit flat in "model" as
// lrn_depth_radius, lrn_bias, lrn_alpha, lrn_beta, and data.strict_decode and
// recipe.schedule_over_budget are written only when set (ToJson), so a run that does not use them
// writes the same file as before. A key missing
// from a file takes the field's default (the macros read it from a default-constructed struct).
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DataSpec, source, list_file, fashion_dir, val_fraction, train_limit,
                                                val_limit, split_seed, resize, crop, per_pixel_mean, stats_images,
                                                max_pixels)
ALEXNET_JSON_ENUM(LrSchedule, kLrScheduleNames)
// warmup_steps and label_smoothing came with the fast-training options: a config.json from before
// has neither and reads as no warm-up and no smoothing, the run it was.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Recipe, batch, epochs, time_budget_s, lr, schedule, patience,
                                                max_lr_drops, step_epochs, momentum, weight_decay, random_crop,
                                                flip, pca_color, warmup_steps, label_smoothing)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RunOptions, workers, threads, checkpoint_every, keep_checkpoints,
                                                log_every_s)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(FineTune, init_from, init_checkpoint, init_step, train_layers)

}  // namespace alexnet::train

namespace alexnet::model {

// An unknown "init" string reads as the first entry, "paper", as before.
ALEXNET_JSON_ENUM(Init, kInitNames)
ALEXNET_JSON_ENUM(Precision, kPrecisionNames)
// An unknown "activation" is refused by TrainConfigFromJson before it gets here.
ALEXNET_JSON_ENUM(Activation, kActivationNames)
// A config.json from before the second table has no "architecture": the seed's.
ALEXNET_JSON_ENUM(Architecture, kArchitectureNames)
// activation, pool_kernel and pool_stride came with the design-claim experiments: a config.json
// from before has none of them and reads as the paper's ReLU and 3/2 pooling.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ModelOptions, num_classes, input_size, lrn, dropout_rate, init,
                                                init_stddev, input_stddev, standardize_input, seed, precision,
                                                activation, pool_kernel, pool_stride, architecture)

}  // namespace alexnet::model

namespace alexnet::train {

namespace {

// The keys every version of config.json has had; a file without them is not a run's config.
const std::pair<const char*, std::vector<const char*>> kRequiredKeys[] = {
    {"data", {"source", "val_fraction", "resize", "crop"}},
    {"model", {"num_classes", "input_size", "lrn", "dropout_rate"}},
    {"recipe", {"batch", "epochs", "lr"}},
};

// An enum field, if given, must be one of its table's names: nlohmann would read an unknown
// string as the table's first entry (an unknown activation as "relu") and a run would silently
// train another network, or with another recipe, than it says.
template <typename E, std::size_t N>
Status CheckEnumField(const nlohmann::json& j, const char* section, const char* key, const EnumNames<E, N>& names) {
  const nlohmann::json& s = j.at(section);
  if (!s.contains(key)) return Status::Ok();
  const nlohmann::json& a = s.at(key);
  if (a.is_string() && ValueIn(names, a.get<std::string>())) return Status::Ok();
  return Status::BadInput("", std::string("\"") + section + "." + key + "\" must be one of " + Choices(names) +
                                  ", not " + a.dump());
}

Status CheckEnums(const nlohmann::json& j) {
  ALEXNET_RETURN_IF_ERROR(CheckEnumField(j, "model", "activation", model::kActivationNames));
  // Likewise the table: an unknown one would read as the seed's; and the schedule, as plateau.
  ALEXNET_RETURN_IF_ERROR(CheckEnumField(j, "model", "architecture", model::kArchitectureNames));
  return CheckEnumField(j, "recipe", "schedule", kLrScheduleNames);
}

// What the command line refuses, refused in a file too: a negative warm-up, and a smoothing
// outside [0, 1) (1 would train every class towards the same probability).
Status CheckRecipe(const Recipe& r) {
  if (r.warmup_steps < 0) {
    return Status::BadInput("", "\"recipe.warmup_steps\" must be 0 or more, not " + std::to_string(r.warmup_steps));
  }
  if (!(r.label_smoothing >= 0.0f && r.label_smoothing < 1.0f)) {
    return Status::BadInput("", "\"recipe.label_smoothing\" must be in [0, 1), not " +
                                    nlohmann::json(r.label_smoothing).dump());
  }
  return Status::Ok();
}

// Every name in "fine_tune.train_layers" must be a layer with parameters: an unknown one would
// otherwise freeze every layer but those named and train nothing it says.
Status CheckTrainLayers(const std::vector<std::string>& layers) {
  for (const std::string& name : layers) {
    if (Result<std::vector<std::string>> parsed = model::ParseTrainLayers(name); !parsed.ok()) {
      return Status::BadInput("", "\"fine_tune.train_layers\": " + parsed.status().reason());
    }
  }
  return Status::Ok();
}

}  // namespace

nlohmann::json ToJson(const TrainConfig& c) {
  nlohmann::json model = c.model;
  const model::LrnParams& lrn = c.model.lrn_params;
  model["lrn_depth_radius"] = lrn.depth_radius;
  model["lrn_bias"] = lrn.bias;
  model["lrn_alpha"] = lrn.alpha;
  model["lrn_beta"] = lrn.beta;
  nlohmann::json data = c.data;
  if (c.data.strict_decode) data["strict_decode"] = true;
  nlohmann::json recipe = c.recipe;
  if (c.recipe.schedule_over_budget) recipe["schedule_over_budget"] = true;
  nlohmann::json j = {{"data", std::move(data)}, {"model", std::move(model)}, {"recipe", std::move(recipe)}, {"run", c.run}};
  if (c.cluster.enabled()) {
    j["cluster"] = {{"workers", c.cluster.workers}, {"collective_timeout_s", c.cluster.collective_timeout_s}};
  }
  if (!c.imported.is_null()) j["imported"] = c.imported;
  if (c.fine_tune.used()) j["fine_tune"] = c.fine_tune;
  return j;
}

Result<TrainConfig> TrainConfigFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Status::BadInput("", "not a JSON object");
  for (const auto& [section, keys] : kRequiredKeys) {
    if (!j.contains(section) || !j[section].is_object()) {
      return Status::BadInput("", std::string("no \"") + section + "\" section");
    }
    for (const char* key : keys) {
      if (!j[section].contains(key)) {
        return Status::BadInput("", std::string("no \"") + section + "." + key + "\" key");
      }
    }
  }
  // Before the macros' get<int>(): a float there (1e300) would be an undefined cast (json_fields.h).
  TrainConfig every_section;  // with the sections written only when used
  every_section.fine_tune.init_from = "-";
  ALEXNET_RETURN_IF_ERROR(data::CheckIntegerFields(ToJson(every_section), j));
  ALEXNET_RETURN_IF_ERROR(CheckEnums(j));
  TrainConfig c;
  try {
    j.at("data").get_to(c.data);
    c.data.strict_decode = j.at("data").value("strict_decode", false);
    j.at("model").get_to(c.model);
    j.at("recipe").get_to(c.recipe);
    c.recipe.schedule_over_budget = j.at("recipe").value("schedule_over_budget", false);
    if (j.contains("run")) j.at("run").get_to(c.run);
    if (j.contains("cluster")) {
      j.at("cluster").at("workers").get_to(c.cluster.workers);
      c.cluster.collective_timeout_s = j.at("cluster").value("collective_timeout_s", c.cluster.collective_timeout_s);
    }
    if (j.contains("imported")) {
      if (!j.at("imported").is_object()) return Status::BadInput("", "\"imported\" is not an object");
      c.imported = j.at("imported");
    }
    if (j.contains("fine_tune")) j.at("fine_tune").get_to(c.fine_tune);
    const auto& m = j.at("model");
    model::LrnParams& lrn = c.model.lrn_params;
    lrn.depth_radius = m.value("lrn_depth_radius", lrn.depth_radius);
    lrn.bias = m.value("lrn_bias", lrn.bias);
    lrn.alpha = m.value("lrn_alpha", lrn.alpha);
    lrn.beta = m.value("lrn_beta", lrn.beta);
  } catch (const nlohmann::json::exception& e) {
    return Status::BadInput("", e.what());  // a value of the wrong type
  }
  ALEXNET_RETURN_IF_ERROR(data::CheckIntegersKept(j, ToJson(c)));  // none wrapped into its field
  ALEXNET_RETURN_IF_ERROR(CheckTrainLayers(c.fine_tune.train_layers));
  ALEXNET_RETURN_IF_ERROR(CheckRecipe(c.recipe));
  return c;
}

Result<TrainConfig> LoadTrainConfig(const std::string& run_dir) {
  const std::string path = run_dir + "/config.json";
  ALEXNET_ASSIGN_OR_RETURN(const std::string text, ReadFile(path));
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::BadInput(path, "not a valid run configuration: not valid JSON");
  Result<TrainConfig> config = TrainConfigFromJson(j);
  if (!config.ok()) {
    return Status::Error(config.status().code(), path, "not a valid run configuration: " + config.status().reason());
  }
  config->run.run_dir = run_dir;
  return config;
}

}  // namespace alexnet::train
