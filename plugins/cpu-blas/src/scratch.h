// A grow-only float buffer reused across calls so the big temporaries of conv2d
// (im2col columns) and attention (a tile of scores) are allocated once per context.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <new>

namespace sdw::cpu {

class Scratch {
public:
    Scratch() = default;
    ~Scratch() { std::free(data_); }
    Scratch(const Scratch &) = delete;
    Scratch &operator=(const Scratch &) = delete;

    // At least `count` floats; the contents are unspecified.
    float *get(int64_t count) {
        if (count > capacity_) {
            std::free(data_);
            data_ = nullptr;
            capacity_ = 0;
            size_t bytes = (static_cast<size_t>(count) * sizeof(float) + 63) / 64 * 64;
            data_ = static_cast<float *>(std::aligned_alloc(64, bytes));
            if (!data_) throw std::bad_alloc();
            capacity_ = count;
        }
        return data_;
    }
    size_t capacity_bytes() const { return static_cast<size_t>(capacity_) * sizeof(float); }
    // Gives the memory back between runs.
    void release() {
        std::free(data_);
        data_ = nullptr;
        capacity_ = 0;
    }

private:
    float *data_ = nullptr;
    int64_t capacity_ = 0;
};

}  // namespace sdw::cpu
