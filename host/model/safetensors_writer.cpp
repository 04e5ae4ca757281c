#include "model/safetensors_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace sdw {
namespace {

// Large enough that write() syscalls cost nothing next to the disk, small enough to stay in L2/L3.
constexpr size_t kChunkBytes = size_t{4} << 20;

class OutputFile {
public:
    explicit OutputFile(std::filesystem::path path) : path_(std::move(path)) {
        fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd_ < 0) fail("cannot create");
    }
    ~OutputFile() {
        if (fd_ >= 0) ::close(fd_);
    }
    OutputFile(const OutputFile&) = delete;
    OutputFile& operator=(const OutputFile&) = delete;

    void write_all(const void* data, size_t size) {
        const auto* bytes = static_cast<const char*>(data);
        while (size > 0) {
            const ssize_t written = ::write(fd_, bytes, size);
            if (written < 0) {
                if (errno == EINTR) continue;
                fail("write failed");
            }
            bytes += written;
            size -= static_cast<size_t>(written);
        }
    }
    void extend_to(uint64_t size) {
        if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) fail("cannot extend");
    }
    void close() {
        const int fd = fd_;
        fd_ = -1;
        if (::close(fd) != 0) fail("close failed");
    }

private:
    [[noreturn]] void fail(const std::string& what) {
        throw std::runtime_error(path_.string() + ": " + what + ": " + std::strerror(errno));
    }
    std::filesystem::path path_;
    int fd_ = -1;
};

}  // namespace

uint64_t TensorSpec::numel() const {
    uint64_t count = 1;
    for (int64_t dim : shape) count *= static_cast<uint64_t>(dim);
    return count;
}

void SafetensorsWriter::add(TensorSpec spec) {
    for (int64_t dim : spec.shape)
        if (dim < 0) throw std::runtime_error("tensor '" + spec.name + "': negative dimension");
    for (const TensorSpec& existing : specs_)
        if (existing.name == spec.name)
            throw std::runtime_error("tensor '" + spec.name + "' declared twice");
    specs_.push_back(std::move(spec));
}

void SafetensorsWriter::write(const std::filesystem::path& path, const Fill& fill) const {
    nlohmann::json header = nlohmann::json::object();
    if (!metadata_.empty()) header["__metadata__"] = metadata_;
    uint64_t offset = 0;
    for (const TensorSpec& spec : specs_) {
        const uint64_t end = offset + spec.byte_size();
        header[spec.name] = {{"dtype", dtype_name(spec.dtype)},
                             {"shape", spec.shape},
                             {"data_offsets", {offset, end}}};
        offset = end;
    }
    std::string header_text = header.dump();
    header_text.append((8 - header_text.size() % 8) % 8, ' ');

    std::filesystem::path temporary = path;
    temporary += ".partial";
    try {
        OutputFile out(temporary);
        unsigned char length[8];
        for (int i = 0; i < 8; ++i)
            length[i] = static_cast<unsigned char>((header_text.size() >> (8 * i)) & 0xff);
        out.write_all(length, sizeof length);
        out.write_all(header_text.data(), header_text.size());

        if (!fill) {
            out.extend_to(8 + header_text.size() + offset);
        } else {
            std::vector<std::byte> chunk(kChunkBytes);
            for (const TensorSpec& spec : specs_) {
                const uint64_t size = spec.byte_size();
                for (uint64_t done = 0; done < size;) {
                    const size_t n =
                        static_cast<size_t>(std::min<uint64_t>(kChunkBytes, size - done));
                    const std::span<std::byte> part(chunk.data(), n);
                    fill(spec, done, part);
                    out.write_all(part.data(), n);
                    done += n;
                }
            }
        }
        out.close();
    } catch (...) {
        std::error_code ignored;
        std::filesystem::remove(temporary, ignored);
        throw;
    }
    std::error_code error;
    std::filesystem::rename(temporary, path, error);
    if (error) throw std::runtime_error(path.string() + ": cannot rename: " + error.message());
}

void write_safetensors(const std::filesystem::path& path, const std::vector<TensorBytes>& tensors) {
    SafetensorsWriter writer;
    for (const TensorBytes& tensor : tensors) {
        if (tensor.bytes.size() != tensor.spec.byte_size())
            throw std::runtime_error("tensor '" + tensor.spec.name + "': " +
                                     std::to_string(tensor.bytes.size()) + " bytes given, " +
                                     std::to_string(tensor.spec.byte_size()) + " needed");
        writer.add(tensor.spec);
    }
    writer.write(path, [&](const TensorSpec& spec, uint64_t first, std::span<std::byte> out) {
        for (const TensorBytes& tensor : tensors) {
            if (tensor.spec.name == spec.name) {
                std::memcpy(out.data(), tensor.bytes.data() + first, out.size());
                return;
            }
        }
    });
}

}  // namespace sdw
