#include "model/resident_page_trimmer.h"

namespace sdw {

ResidentPageTrimmer::ResidentPageTrimmer(const ModelComponent& component,
                                         std::chrono::milliseconds period)
    : component_(component), thread_([this, period] {
          std::unique_lock lock(mutex_);
          while (!wake_.wait_for(lock, period, [this] { return stopping_; }))
              component_.drop_resident_pages();
      }) {}

ResidentPageTrimmer::~ResidentPageTrimmer() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
    component_.drop_resident_pages();
}

}  // namespace sdw
