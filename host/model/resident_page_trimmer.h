// Keeps a model component's mapped weight files from adding to the process's resident
// memory while a plugin copies the weights out of them. Without it, loading SD 1.5's
// UNet holds both the 1.7 GB of mapped file pages the plugin has read and the plugin's
// 1.7 GB copy at the same time. A background thread drops the mapped pages
// (ModelComponent::drop_resident_pages) every `period` for as long as the trimmer lives,
// and once more when it is destroyed, so the load peaks near the plugin's copy plus
// what it reads within one period. Pages the plugin has not read yet, or reads again,
// simply fault in again from the file: the data it sees never changes.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "model/model_component.h"

namespace sdw {

class ResidentPageTrimmer {
public:
    explicit ResidentPageTrimmer(const ModelComponent& component,
                                 std::chrono::milliseconds period = std::chrono::milliseconds(50));
    ~ResidentPageTrimmer();
    ResidentPageTrimmer(const ResidentPageTrimmer&) = delete;
    ResidentPageTrimmer& operator=(const ResidentPageTrimmer&) = delete;

private:
    const ModelComponent& component_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;  // last: started once the members above exist
};

}  // namespace sdw
