// The IPC between the supervisor and a scan worker: length-checked frames on a stream
// socket, and the codec for what travels in them.
//
// A frame is a 16-byte header {magic, type, length} and `length` payload bytes. The reader
// checks magic, type and length before reading the payload, so a hostile worker cannot
// make the supervisor allocate more than the limit or misread a frame. Payload decoding is
// bounds-checked field by field (see Reader); any inconsistency is an error, never a crash.
//   write_frame(fd, FrameType::kScanRequest, encode_request(req));
//   Result<Frame> f = read_frame(fd, max_bytes, deadline);
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"
#include "scan/verdict.h"

namespace bulwark::sandbox {

enum class FrameType : std::uint32_t {
  kScanRequest = 1,  // supervisor -> worker: flags + message bytes
  kScanReply = 2,    // worker -> supervisor: verdict (+ explanation)
  kScanError = 3,    // worker -> supervisor: the worker could not scan (e.g. out of memory)
};

struct Frame {
  FrameType type;
  std::string payload;
};

using Deadline = std::chrono::steady_clock::time_point;

// Writes the whole frame; false when the peer is gone (never raises SIGPIPE).
bool write_frame(int fd, FrameType type, std::string_view payload);

// The frame's bytes (header + payload), for callers that send without blocking.
std::string encode_frame(FrameType type, std::string_view payload);

// Takes one frame from `buf` at `pos` (advancing `pos` past it) as bytes arrive: kMore
// when the frame is not complete yet, kError (with `error`) when the header is bad or the
// payload over `max_payload`. The same checks as read_frame.
enum class Take { kFrame, kMore, kError };
Take take_frame(const std::string& buf, std::size_t& pos, std::size_t max_payload, Frame& out,
                std::string& error);

// Reads one frame. Errors: timeout (deadline passed), end of stream, bad magic, unknown
// type, payload larger than `max_payload`.
Result<Frame> read_frame(int fd, std::size_t max_payload, Deadline deadline);

struct ScanRequest {
  bool explain = false;
  std::string origin;  // where the message came from, for the explanation
  std::string bytes;
};
std::string encode_request(const ScanRequest& r);
Result<ScanRequest> decode_request(std::string_view payload);

struct ScanReply {
  scan::Verdict verdict;  // `file` is not sent: the supervisor knows where it came from
  std::string explain;    // the --explain text when asked for
};
std::string encode_reply(const ScanReply& r);
Result<ScanReply> decode_reply(std::string_view payload);

}  // namespace bulwark::sandbox
