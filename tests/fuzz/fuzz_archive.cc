// libFuzzer target: inspect_archive (libarchive in memory, our zip/7z/rar structure
// parsing, names, bombs, encryption with a candidate password) and find_embedded_archive,
// on arbitrary bytes, through a real Inspector with small limits.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "inspect/archive.h"
#include "inspect/engines.h"
#include "inspect/inspect.h"
#include "inspect/names.h"

namespace {

namespace bi = bulwark::inspect;

void check(bool ok) {
  if (!ok) std::abort();
}

const bi::Engines& engines() {
  static const std::unique_ptr<bi::Engines> e = [] {
    auto r = bi::Engines::load(bulwark::InspectConfig{});
    check(r.ok());
    return std::move(r).value();
  }();
  return *e;
}

bulwark::InspectLimits small_limits() {
  bulwark::InspectLimits l;
  l.max_depth = 4;
  l.max_members = 64;
  l.max_expanded_bytes = 4u << 20;
  l.max_member_bytes = 1u << 20;
  l.max_ratio = 50;
  l.max_time_ms = 2000;
  l.max_passwords = 2;
  return l;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bulwark::InspectLimits limits = small_limits();
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  bi::Inspector insp(engines(), limits);
  insp.set_passwords({"infected", "1234"});
  bi::inspect_archive(bi::Blob{bytes, "1", {"fuzz.bin"}, "", 0}, insp);
  const bi::Results& r = insp.results();
  // Budgets hold whatever the bytes say (one chunk of slack past the byte budget).
  check(r.expanded_bytes <= limits.max_expanded_bytes + (64u << 10));
  check(r.blobs <= limits.max_members + 64);

  const std::size_t off = bi::find_embedded_archive(bytes);
  check(off == std::string_view::npos || off < size);
  if (off != std::string_view::npos && off > 0) {
    bi::Inspector sub(engines(), limits);
    sub.inspect_blob(bi::Blob{bytes.substr(off), "1#appended", {}, "", 1});
  }
  // The name checks see the first bytes as a name too.
  bi::check_name(bi::Blob{bytes, "1", {}, "", 1}, bytes.substr(0, 512),
                 bi::NameOrigin::kArchiveMember, insp);
  return 0;
}
