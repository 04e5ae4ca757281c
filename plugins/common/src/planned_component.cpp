#include <sdw/nn/component.h>

#include <algorithm>

namespace sdw::nn {

struct PlannedComponent::Prepared {
    Signature signature;
    std::string key;
    std::vector<Tensor> inputs;  // fixed device buffers the plan reads
    std::unique_ptr<Plan> plan;
    uint64_t last_used = 0;
};

PlannedComponent::PlannedComponent(Ops &ops, std::unique_ptr<Network> network)
    : ops_(ops), network_(std::move(network)) {}

PlannedComponent::~PlannedComponent() = default;

namespace {

std::string joined(const std::vector<std::string> &names) {
    std::string out;
    for (const std::string &name : names) out += (out.empty() ? "" : ", ") + name;
    return out;
}

// Every name known, none twice.
template <typename View>
std::vector<std::string> checked_names(const IoRequest &request, std::span<View> views,
                                       const std::vector<std::string> &known, const char *what) {
    std::vector<std::string> names;
    for (const View &view : views) {
        const std::string name = view.name != nullptr ? view.name : "(null)";
        if (view.name == nullptr || std::find(known.begin(), known.end(), name) == known.end())
            request.fail("unknown " + std::string(what) + " '" + name + "' (known: " + joined(known) + ")");
        if (std::find(names.begin(), names.end(), name) != names.end())
            request.fail(std::string(what) + " " + name + " given twice");
        names.push_back(name);
    }
    return names;
}

}  // namespace

IoRequest PlannedComponent::request(std::span<const sdw_tensor_view> inputs,
                                    std::span<sdw_tensor_view> outputs, int clip_skip) const {
    IoRequest request;
    request.component = network_->kind();
    request.inputs = inputs;
    request.clip_skip = clip_skip;
    checked_names(request, inputs, network_->input_names(), "input");
    request.outputs = checked_names(request, outputs, network_->output_names(), "output");
    return request;
}

void PlannedComponent::prepare(std::span<const sdw_tensor_view> inputs) {
    IoRequest request = this->request(inputs, {}, 0);
    request.outputs = network_->default_outputs();
    prepared_for(network_->bind(request));
}

void PlannedComponent::run(const sdw::plugin::RunArgs &args) {
    const IoRequest request = this->request(args.inputs(), args.outputs(), args.clip_skip());
    if (request.outputs.empty()) request.fail("no outputs requested");
    for (const sdw_tensor_view &view : args.inputs()) {
        const uint64_t bytes =
            static_cast<uint64_t>(sdw::plugin::element_count(view)) * sdw_dtype_size(view.dtype);
        if (view.ndim > SDW_MAX_DIMS || view.byte_size != bytes || (bytes != 0 && view.data == nullptr))
            request.fail("input " + std::string(view.name) + " has " + std::to_string(view.byte_size) +
                         " bytes for shape " + sdw::plugin::shape_string(view) + " of " +
                         sdw::plugin::dtype_name(view.dtype));
    }
    const Signature signature = network_->bind(request);
    std::vector<sdw_tensor_view *> outputs;
    for (const TensorSpec &spec : signature.outputs) {
        sdw_tensor_view *view = args.find_output(spec.name);
        if (view == nullptr) request.fail("output " + spec.name + " is not bound");
        if (view->dtype != SDW_DTYPE_F32 || view_shape(*view) != spec.shape)
            request.fail("output " + spec.name + " must be F32 " + shape_str(spec.shape) + ", got " +
                         sdw::plugin::dtype_name(view->dtype) + " " + sdw::plugin::shape_string(*view));
        const uint64_t bytes = static_cast<uint64_t>(shape_numel(spec.shape)) * 4;
        if (view->data == nullptr || view->byte_size != bytes)
            request.fail("output " + spec.name + " has a buffer of " + std::to_string(view->byte_size) +
                         " bytes, expected " + std::to_string(bytes));
        outputs.push_back(view);
    }

    const StagedInputs staged = network_->stage(request, signature);
    Prepared &prepared = prepared_for(signature);
    if (staged.size() != prepared.inputs.size())
        throw Error(SDW_STATUS_INTERNAL, request.component + ": staged " + std::to_string(staged.size()) +
                                             " inputs for " + std::to_string(prepared.inputs.size()));
    for (size_t i = 0; i < staged.size(); ++i)
        ops_.upload(prepared.inputs[i], staged[i].data(), staged[i].size());
    const std::vector<Tensor> &results = prepared.plan->run([&args] { args.check_cancel(); });
    if (results.size() != outputs.size())
        throw Error(SDW_STATUS_INTERNAL, request.component + ": forward returned " +
                                             std::to_string(results.size()) + " outputs for " +
                                             std::to_string(outputs.size()));
    for (size_t i = 0; i < outputs.size(); ++i) {
        if (results[i].dtype != DType::F32 || results[i].shape != signature.outputs[i].shape)
            throw Error(SDW_STATUS_INTERNAL, request.component + ": forward returned " +
                                                 dtype_name(results[i].dtype) + " " + shape_str(results[i].shape) +
                                                 " for output " + signature.outputs[i].name);
        ops_.download(results[i], outputs[i]->data, outputs[i]->byte_size);
    }
}

void PlannedComponent::run(const sdw_tensor_view *inputs, size_t input_count, sdw_tensor_view *outputs,
                           size_t output_count, const RunOptions &options) {
    sdw_run_args raw{};
    raw.struct_size = sizeof raw;
    raw.inputs = inputs;
    raw.input_count = input_count;
    raw.outputs = outputs;
    raw.output_count = output_count;
    raw.clip_skip = options.clip_skip;
    if (options.should_cancel) {
        raw.should_cancel = [](void *user) -> int32_t {
            return (*static_cast<const std::function<bool()> *>(user))() ? 1 : 0;
        };
        raw.user = const_cast<std::function<bool()> *>(&options.should_cancel);
    }
    run(sdw::plugin::RunArgs(raw));
}

PlannedComponent::Prepared &PlannedComponent::prepared_for(const Signature &signature) {
    const std::string key = signature.key();
    ++clock_;
    for (const std::unique_ptr<Prepared> &prepared : plans_)
        if (prepared->key == key) {
            prepared->last_used = clock_;
            return *prepared;
        }
    if (plans_.size() >= kMaxPlans) {
        auto oldest = std::min_element(plans_.begin(), plans_.end(), [](const auto &a, const auto &b) {
            return a->last_used < b->last_used;
        });
        plans_.erase(oldest);
    }
    auto prepared = std::make_unique<Prepared>();
    prepared->signature = signature;
    prepared->key = key;
    prepared->last_used = clock_;
    for (const TensorSpec &spec : signature.inputs) prepared->inputs.push_back(ops_.input(spec.shape, spec.dtype));
    prepared->plan = ops_.plan([network = network_.get(), &ops = ops_, signature,
                                inputs = prepared->inputs](SegmentBoundary &segments) {
        return network->forward(ops, signature, inputs, segments);
    });
    plans_.push_back(std::move(prepared));
    return *plans_.back();
}

size_t PlannedComponent::plan_count() const { return plans_.size(); }

uint64_t PlannedComponent::plan_bytes() const {
    uint64_t bytes = 0;
    for (const std::unique_ptr<Prepared> &prepared : plans_) bytes += prepared->plan->bytes();
    return bytes;
}

std::unique_ptr<PlannedComponent> load_component(Ops &ops, const sdw_component_desc &desc) {
    return std::make_unique<PlannedComponent>(ops, load_network(ops, desc));
}

}  // namespace sdw::nn
