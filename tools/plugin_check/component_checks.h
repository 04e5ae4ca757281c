// Loads each component of a model folder into a plugin context and exercises it:
// a valid run, the contract's refusals, and cancellation.
#pragma once

#include "check_report.h"

#include "model/model_folder.h"
#include "plugin/plugin_context.h"

namespace sdw::plugin_check {

void check_components(PluginContext &context, const ModelFolder &model, CheckReport &report);

}  // namespace sdw::plugin_check
