// Resident memory of this process from /proc/self/status: the current size (VmRSS)
// and the peak (VmHWM), which the kernel lets a process reset so each phase of the
// benchmark reports its own peak.
#pragma once

#include <cstdint>

namespace sdw::bench {

int64_t resident_bytes();       // VmRSS
int64_t peak_resident_bytes();  // VmHWM since start or the last reset
// Resets VmHWM to the current RSS (writes 5 to /proc/self/clear_refs); false if refused.
bool reset_peak_resident();

}  // namespace sdw::bench
