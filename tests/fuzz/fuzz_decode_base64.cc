// libFuzzer target: decode_base64 and looks_like_base64.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mime/decode.h"

namespace {
using bulwark::mime::Base64Mode;
using bulwark::mime::DecodeStats;
constexpr std::size_t kMaxOut = 1 << 20;

void check(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string cont, stop;
  DecodeStats sc, ss;
  bulwark::mime::decode_base64(in, Base64Mode::kContinue, kMaxOut, cont, sc);
  bulwark::mime::decode_base64(in, Base64Mode::kStopAtPadding, kMaxOut, stop, ss);
  check(cont.size() <= kMaxOut && stop.size() <= kMaxOut);
  check(cont.size() <= size / 4 * 3 + 3);
  check(sc.junk_bytes <= size);
  // Stopping at the first padding decodes a prefix of what continuing decodes.
  check(stop.size() <= cont.size() && cont.compare(0, stop.size(), stop) == 0);
  check(ss.padding_in_middle == sc.padding_in_middle);

  // A smaller cap gives a prefix, and says truncated exactly when bytes were cut off.
  const std::size_t cap = size % 61;
  std::string small;
  DecodeStats st;
  bulwark::mime::decode_base64(in, Base64Mode::kContinue, cap, small, st);
  check(small.size() <= cap && cont.compare(0, small.size(), small) == 0);
  if (!sc.truncated) check(st.truncated == (cont.size() > cap));

  // Appending keeps what was there.
  std::string appended = "x";
  DecodeStats sa;
  bulwark::mime::decode_base64(in, Base64Mode::kContinue, kMaxOut, appended, sa);
  check(appended.size() == cont.size() + 1 && appended.compare(1, std::string::npos, cont) == 0);

  if (bulwark::mime::looks_like_base64(in, 0)) check(sc.junk_bytes == 0 && !sc.padding_in_middle);
  return 0;
}
