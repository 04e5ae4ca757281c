#include "component_checks.h"

#include "component_inputs.h"

#include "plugin/plugin_errors.h"

#include <map>
#include <optional>

namespace sdw::plugin_check {
namespace {

// Runs `component` on copies of the case's tensors, optionally altered, and returns
// the error it raised (nullopt on success). Other exceptions propagate.
struct RunOutcome {
    std::optional<PluginCallError> error;
    std::vector<Tensor> outputs;
};

RunOutcome run_case(LoadedComponent &component, const ComponentCase &c,
                    std::vector<Tensor> inputs, std::vector<Tensor> outputs,
                    const std::function<bool()> &should_cancel = {}) {
    auto in = views_of(inputs);
    auto out = views_of(outputs);
    RunOutcome outcome;
    try {
        component.run(in, out, c.clip_skip, should_cancel);
    } catch (const PluginCallError &e) {
        outcome.error = e;
    }
    outcome.outputs = std::move(outputs);
    return outcome;
}

// A request the contract says must be refused with INVALID_ARGUMENT and a message.
void expect_invalid_argument(CheckReport &report, const std::string &check, const RunOutcome &outcome) {
    if (!outcome.error) {
        report.fail(check, "accepted; the contract requires SDW_STATUS_INVALID_ARGUMENT");
    } else if (outcome.error->plugin_bug()) {
        report.fail(check, outcome.error->what());
    } else if (outcome.error->status() != SDW_STATUS_INVALID_ARGUMENT) {
        report.fail(check, "refused with " + plugin_status_name(outcome.error->status()) +
                               " instead of INVALID_ARGUMENT: " + outcome.error->plugin_message());
    } else {
        report.pass(check, outcome.error->plugin_message());
    }
}

bool check_valid_run(CheckReport &report, const std::string &check, LoadedComponent &component,
                     const ComponentCase &c) {
    RunOutcome outcome = run_case(component, c, c.inputs, c.outputs);
    if (outcome.error) {
        report.fail(check, outcome.error->what());
        return false;
    }
    for (const Tensor &out : outcome.outputs) {
        if (!all_finite(out)) {
            report.fail(check, "output '" + out.name() + "' holds NaN or infinity");
            return false;
        }
    }
    report.pass(check);
    return true;
}

// True when the component loaded and ran correctly: the host could use it.
bool check_case(PluginContext &context, const ComponentCase &c, CheckReport &report) {
    const std::string label = c.component->dir().filename().string() + "/" + c.kind;
    std::optional<LoadedComponent> component;
    try {
        component.emplace(context.load_component(c.kind, c.component->config_text(),
                                                 c.component->weights()));
        report.pass(label + " load", std::to_string(c.component->weights().size()) + " weights");
    } catch (const PluginCallError &e) {
        if (e.status() == SDW_STATUS_UNSUPPORTED && !e.plugin_bug()) {
            report.skip(label, "the plugin does not implement it: " + e.plugin_message());
        } else {
            report.fail(label + " load", e.what());
        }
        return false;
    }

    try {
        std::vector<sdw_tensor_view> shapes;
        std::vector<Tensor> inputs = c.inputs;
        for (sdw_tensor_view view : views_of(inputs)) {
            view.data = nullptr;  // prepare announces shapes only
            shapes.push_back(view);
        }
        component->prepare(shapes);
        report.pass(label + " prepare");
    } catch (const PluginCallError &e) {
        report.fail(label + " prepare", e.what());
    }

    bool usable = check_valid_run(report, label + " run", *component, c);

    std::vector<Tensor> extra_inputs = c.inputs;
    extra_inputs.emplace_back("no_such_input", SDW_DTYPE_F32, std::vector<int64_t>{1});
    expect_invalid_argument(report, label + " refuses unknown input",
                            run_case(*component, c, extra_inputs, c.outputs));

    std::vector<Tensor> misshapen = c.outputs;
    std::vector<int64_t> wider = misshapen.front().shape();
    wider.back() += 1;
    misshapen.front() = Tensor(misshapen.front().name(), misshapen.front().dtype(), wider);
    expect_invalid_argument(report, label + " refuses wrong output shape",
                            run_case(*component, c, c.inputs, misshapen));

    RunOutcome cancelled = run_case(*component, c, c.inputs, c.outputs, [] { return true; });
    if (!cancelled.error) {
        report.note(label + " cancel", "finished without polling should_cancel (allowed for short runs)");
    } else if (cancelled.error->cancelled() && !cancelled.error->plugin_bug()) {
        report.pass(label + " cancel", cancelled.error->plugin_message());
    } else {
        report.fail(label + " cancel", std::string("expected CANCELLED: ") + cancelled.error->what());
    }

    usable &= check_valid_run(report, label + " run after refusals", *component, c);
    return usable;
}

}  // namespace

void check_components(PluginContext &context, const ModelFolder &model, CheckReport &report) {
    // A kind is usable when every component of that kind is (SDXL has two text encoders).
    std::map<std::string, bool> usable;
    for (const ComponentCase &c : component_cases(model)) {
        bool ok = check_case(context, c, report);
        auto [it, inserted] = usable.emplace(c.kind, ok);
        if (!inserted) it->second = it->second && ok;
    }
    report_operations(usable, report);
}

void report_operations(const std::map<std::string, bool> &usable, CheckReport &report) {
    auto missing = [&](std::initializer_list<const char *> kinds) {
        std::string list;
        for (const char *kind : kinds) {
            auto it = usable.find(kind);
            if (it == usable.end() || !it->second) list += (list.empty() ? "" : ", ") + std::string(kind);
        }
        return list;
    };
    // What the host needs for each operation (see the ABI header's component list).
    const std::string for_txt2img = missing({"text_encoder", "unet", "vae_decoder"});
    const std::string for_images = missing({"text_encoder", "unet", "vae_decoder", "vae_encoder"});
    if (!for_txt2img.empty()) {
        // The contract may hold for a partial plugin (an example, a decoder-only backend):
        // not a failure, but said plainly.
        report.note("operations", "none: sd-worker cannot serve txt2img with this plugin (no usable " +
                                      for_txt2img + ")");
    } else if (!for_images.empty()) {
        report.pass("operations", "txt2img only (img2img and inpaint need " + for_images + ")");
    } else {
        report.pass("operations", "txt2img, img2img, inpaint");
    }
}

}  // namespace sdw::plugin_check
