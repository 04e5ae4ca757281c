// Loads each component of a model folder into a plugin context and exercises it:
// a valid run, the contract's refusals, and cancellation.
#pragma once

#include "check_report.h"

#include "model/model_folder.h"
#include "plugin/plugin_context.h"

#include <map>
#include <string>

namespace sdw::plugin_check {

// Ends with an "operations" line: which of txt2img, img2img and inpaint the host can
// serve with the components that loaded and ran (a NOTE saying so when not even txt2img).
void check_components(PluginContext &context, const ModelFolder &model, CheckReport &report);

// `usable`: component kind -> whether it loaded and ran correctly.
void report_operations(const std::map<std::string, bool> &usable, CheckReport &report);

}  // namespace sdw::plugin_check
