// PlannedComponent: a Network on an Ops behind the ABI component contract, written once
// for every backend. prepare() makes the fixed inputs and the plan for a shape set;
// run() checks the ABI views, uploads, replays and downloads, planning on the fly for
// shapes it was not prepared for. Plans are cached per signature (batch 1 and 2, each
// resolution), the least recently used dropped beyond a bound.
#pragma once

#include <sdw/nn/network.h>
#include <sdw/nn/ops.h>
#include <sdw/plugin_api.h>
#include <sdw/plugin_api.hpp>

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace sdw::nn {

// The one exception type of the networks and the ops: the boundary's.
using Error = sdw::plugin::Error;
using ComponentError = sdw::plugin::Error;

// For in-process callers (tests, tools) that have no sdw_run_args.
struct RunOptions {
    int clip_skip = 0;                    // text_encoder: 0 or 1 = last layer
    std::function<bool()> should_cancel;  // may be empty; true -> Error(CANCELLED)
};

class PlannedComponent final : public sdw::plugin::Component {
public:
    static constexpr size_t kMaxPlans = 8;

    // `ops` must outlive the component.
    PlannedComponent(Ops &ops, std::unique_ptr<Network> network);
    ~PlannedComponent() override;

    void prepare(std::span<const sdw_tensor_view> inputs) override;
    void run(const sdw::plugin::RunArgs &args) override;
    void run(const sdw_tensor_view *inputs, size_t input_count, sdw_tensor_view *outputs,
             size_t output_count, const RunOptions &options = {});

    size_t plan_count() const;
    uint64_t plan_bytes() const;
    const Network &network() const { return *network_; }

private:
    struct Prepared;
    Prepared &prepared_for(const Signature &signature);
    IoRequest request(std::span<const sdw_tensor_view> inputs,
                      std::span<sdw_tensor_view> outputs, int clip_skip) const;

    Ops &ops_;
    std::unique_ptr<Network> network_;
    std::vector<std::unique_ptr<Prepared>> plans_;
    uint64_t clock_ = 0;
};

using Component = PlannedComponent;

// load_network wrapped in a PlannedComponent.
std::unique_ptr<PlannedComponent> load_component(Ops &ops, const sdw_component_desc &desc);

}  // namespace sdw::nn
