#include "core/utf8.h"
#include "inspect/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <locale.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/escape.h"
#include "inspect/names.h"

namespace bulwark::inspect {

namespace {

constexpr std::size_t npos = std::string_view::npos;
constexpr std::size_t kChunk = 64u << 10;
// Below this many unpacked bytes no ratio is a bomb: small files compress wildly too.
constexpr std::size_t kRatioFloor = 1u << 20;
// Bounds on error recovery and on findings of one kind per archive.
constexpr int kMaxConsecutiveErrors = 8;
constexpr int kMaxMismatchFindings = 8;

// ---- bytes ----

bool at(std::string_view b, std::size_t off, std::string_view sig) {
  return off <= b.size() && b.size() - off >= sig.size() && b.substr(off, sig.size()) == sig;
}

std::uint64_t le(std::string_view b, std::size_t off, int n) {
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i)
    v = (v << 8) | static_cast<unsigned char>(b[off + static_cast<std::size_t>(i)]);
  return v;
}
std::uint16_t le16(std::string_view b, std::size_t off) {
  return static_cast<std::uint16_t>(le(b, off, 2));
}
std::uint32_t le32(std::string_view b, std::size_t off) {
  return static_cast<std::uint32_t>(le(b, off, 4));
}
std::uint64_t le64(std::string_view b, std::size_t off) {
  return le(b, off, 8);
}

std::uint32_t crc32_of(std::string_view b) {
  uLong c = crc32(0L, Z_NULL, 0);
  // zlib takes uInt lengths; feed large inputs in pieces.
  while (!b.empty()) {
    const std::size_t n = std::min<std::size_t>(b.size(), 1u << 30);
    c = crc32(c, reinterpret_cast<const Bytef*>(b.data()), static_cast<uInt>(n));
    b.remove_prefix(n);
  }
  return static_cast<std::uint32_t>(c);
}

bool all_zero(std::string_view b) {
  return b.find_first_not_of('\0') == npos;
}

std::string_view basename_of(std::string_view name) {
  while (!name.empty() && (name.back() == '/' || name.back() == '\\')) name.remove_suffix(1);
  const std::size_t slash = name.find_last_of("/\\");
  return slash == npos ? name : name.substr(slash + 1);
}

std::string shown(std::string_view s) {
  return "'" + escape_for_display(s) + "'";
}

// A tar header without the ustar magic (V7): its checksum must add up.
bool valid_tar_checksum(std::string_view b) {
  if (b.size() < 512 || b[0] == '\0') return false;
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < 512; ++i)
    sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(b[i]);
  std::uint64_t stored = 0;
  std::size_t i = 148;
  while (i < 156 && b[i] == ' ') ++i;
  std::size_t digits = 0;
  for (; i < 156 && b[i] >= '0' && b[i] <= '7'; ++i, ++digits)
    stored = stored * 8 + static_cast<std::uint64_t>(b[i] - '0');
  return digits > 0 && stored == sum;
}

// ---- zip structure (what the central directory says, independent of libarchive) ----

struct ZipEntry {
  std::string name;
  std::uint64_t csize = 0;
  std::uint64_t usize = 0;
  std::uint64_t local = 0;  // local header offset as written
};

struct ZipDir {
  bool valid = false;
  std::size_t eocd = 0;   // position of the end-of-central-directory record
  std::size_t end = 0;    // just after it and its comment
  std::int64_t base = 0;  // where offset 0 of the archive is in the bytes
  std::vector<ZipEntry> entries;
  bool earlier_eocd = false;  // another complete zip ends before this one (concatenation)
};

// Reads the central directory of the EOCD record at `pos`; false when it is not a real one.
bool read_zip_dir(std::string_view b, std::size_t pos, ZipDir& d, std::size_t max_entries) {
  if (!at(b, pos, "PK\x05\x06") || b.size() - pos < 22) return false;
  std::uint64_t cd_size = le32(b, pos + 12);
  std::uint64_t cd_off = le32(b, pos + 16);
  std::uint64_t count = le16(b, pos + 10);
  const std::size_t comment = le16(b, pos + 20);
  if (pos + 22 + comment > b.size()) return false;
  std::size_t cd_end = pos;  // the central directory ends where its trailer starts
  if ((cd_size == 0xFFFFFFFFu || cd_off == 0xFFFFFFFFu || count == 0xFFFF) && pos >= 20 &&
      at(b, pos - 20, "PK\x06\x07")) {
    // The zip64 record normally sits right before its locator; else where the locator says.
    std::size_t z64pos = npos;
    if (pos >= 76 && at(b, pos - 76, "PK\x06\x06")) {
      z64pos = pos - 76;
    } else {
      const std::uint64_t z64 = le64(b, pos - 20 + 8);
      if (z64 + 56 <= b.size() && at(b, static_cast<std::size_t>(z64), "PK\x06\x06"))
        z64pos = static_cast<std::size_t>(z64);
    }
    if (z64pos == npos || z64pos + 56 > b.size()) return false;
    count = le64(b, z64pos + 32);
    cd_size = le64(b, z64pos + 40);
    cd_off = le64(b, z64pos + 48);
    cd_end = z64pos;
  }
  if (cd_size > cd_end) return false;
  const std::size_t cd_start = cd_end - static_cast<std::size_t>(cd_size);
  if (count > 0 && !at(b, cd_start, "PK\x01\x02")) return false;
  d.valid = true;
  d.eocd = pos;
  d.end = pos + 22 + comment;
  d.base = static_cast<std::int64_t>(cd_start) - static_cast<std::int64_t>(cd_off);
  d.entries.clear();
  if (max_entries == 0) return true;
  std::size_t p = cd_start;
  while (p + 46 <= cd_end && at(b, p, "PK\x01\x02") && d.entries.size() < max_entries) {
    ZipEntry e;
    e.csize = le32(b, p + 20);
    e.usize = le32(b, p + 24);
    const std::size_t nlen = le16(b, p + 28), xlen = le16(b, p + 30), clen = le16(b, p + 32);
    e.local = le32(b, p + 42);
    if (p + 46 + nlen + xlen + clen > cd_end) break;
    e.name = std::string(b.substr(p + 46, nlen));
    // Zip64 extra field: 64-bit values for the fields that read 0xFFFFFFFF, in this order.
    std::size_t x = p + 46 + nlen;
    const std::size_t xend = x + xlen;
    while (x + 4 <= xend) {
      const std::uint16_t id = le16(b, x), len = le16(b, x + 2);
      if (x + 4 + len > xend) break;
      if (id == 0x0001) {
        std::size_t f = x + 4;
        const std::size_t fend = f + len;
        if (e.usize == 0xFFFFFFFFu && f + 8 <= fend) e.usize = le64(b, f), f += 8;
        if (e.csize == 0xFFFFFFFFu && f + 8 <= fend) e.csize = le64(b, f), f += 8;
        if (e.local == 0xFFFFFFFFu && f + 8 <= fend) e.local = le64(b, f);
      }
      x += 4 + len;
    }
    d.entries.push_back(std::move(e));
    p += 46 + nlen + xlen + clen;
  }
  return true;
}

// The zip any central-directory reader opens: the last end-of-central-directory record that
// leads to a real central directory. Readers look in the last 64 KiB; past that we search
// the whole blob (each candidate is checked in constant time).
ZipDir parse_zip(std::string_view b, std::size_t max_entries) {
  ZipDir d;
  if (b.size() < 22) return d;
  const std::size_t window = std::min<std::size_t>(b.size(), 22 + 0xFFFF);
  std::size_t found = npos;
  for (std::size_t pos = b.size() - 22;; --pos) {
    if (b[pos] == 'P' && read_zip_dir(b, pos, d, 0)) {
      found = pos;
      break;
    }
    if (pos == 0 || b.size() - pos >= window) break;
  }
  if (found == npos) {
    for (std::size_t pos = b.rfind("PK\x05\x06"); pos != npos;
         pos = pos ? b.rfind("PK\x05\x06", pos - 1) : npos) {
      if (read_zip_dir(b, pos, d, 0)) {
        found = pos;
        break;
      }
      if (pos == 0) break;
    }
  }
  if (found == npos) return ZipDir{};
  read_zip_dir(b, found, d, max_entries);
  // Another end record before this one, leading to its own directory: concatenated zips.
  for (std::size_t pos = found ? b.rfind("PK\x05\x06", found - 1) : npos; pos != npos;
       pos = pos ? b.rfind("PK\x05\x06", pos - 1) : npos) {
    ZipDir other;
    if (read_zip_dir(b, pos, other, 0)) {
      d.earlier_eocd = true;
      break;
    }
    if (pos == 0) break;
  }
  return d;
}

// Local header position of an entry in the bytes, or npos.
std::size_t local_header(std::string_view b, const ZipDir& d, const ZipEntry& e) {
  const std::int64_t pos = d.base + static_cast<std::int64_t>(e.local);
  if (pos < 0 || static_cast<std::uint64_t>(pos) + 30 > b.size()) return npos;
  const auto p = static_cast<std::size_t>(pos);
  return at(b, p, "PK\x03\x04") ? p : npos;
}

// Entries whose compressed data overlaps another entry's (Fifield's overlapping-file zip
// bomb, and the quoted variant): names of every entry after the first of each overlap.
std::set<std::string> zip_overlaps(std::string_view b, const ZipDir& d, std::size_t& count) {
  struct Span {
    std::size_t start, end;
    const ZipEntry* e;
  };
  std::vector<Span> spans;
  for (const ZipEntry& e : d.entries) {
    const std::size_t lh = local_header(b, d, e);
    if (lh == npos) continue;
    const std::size_t data = lh + 30 + le16(b, lh + 26) + le16(b, lh + 28);
    const std::uint64_t end = std::min<std::uint64_t>(data + e.csize, b.size());
    spans.push_back(Span{lh, static_cast<std::size_t>(end), &e});
  }
  std::sort(spans.begin(), spans.end(),
            [](const Span& x, const Span& y) { return x.start < y.start; });
  std::set<std::string> overlapping;
  count = 0;
  std::size_t reach = 0;
  for (std::size_t i = 0; i < spans.size(); ++i) {
    if (i > 0 && spans[i].start < reach) {
      ++count;
      overlapping.insert(spans[i].e->name);
    }
    reach = std::max(reach, spans[i].end);
  }
  return overlapping;
}

// ---- 7z: the start header says where the archive ends ----

std::size_t sevenzip_end(std::string_view b, std::size_t off) {
  if (!at(b, off, "7z\xBC\xAF\x27\x1C") || b.size() - off < 32) return npos;
  if (crc32_of(b.substr(off + 12, 20)) != le32(b, off + 8)) return npos;
  const std::uint64_t next_off = le64(b, off + 12), next_size = le64(b, off + 20);
  if (next_off > b.size() || next_size > b.size()) return npos;
  const std::uint64_t end = off + 32 + next_off + next_size;
  return end <= b.size() ? static_cast<std::size_t>(end) : npos;
}

bool valid_rar4(std::string_view b, std::size_t off) {
  // Marker block, then the main archive header (type 0x73) with its CRC16.
  if (!at(b, off, std::string_view("Rar!\x1a\x07\x00", 7)) || b.size() - off < 7 + 13) return false;
  const std::size_t h = off + 7;
  const std::size_t size = le16(b, h + 5);
  if (static_cast<unsigned char>(b[h + 2]) != 0x73 || size < 13 || h + size > b.size())
    return false;
  return (crc32_of(b.substr(h + 2, size - 2)) & 0xFFFF) == le16(b, h);
}

bool valid_rar5(std::string_view b, std::size_t off) {
  if (!at(b, off, std::string_view("Rar!\x1a\x07\x01\x00", 8))) return false;
  const std::size_t h = off + 8;
  // CRC32, then the header size as a vint, then the header (type 1: main archive header).
  std::size_t p = h + 4;
  std::uint64_t size = 0;
  int shift = 0;
  for (;;) {
    if (p >= b.size() || shift > 21) return false;
    const auto c = static_cast<unsigned char>(b[p++]);
    size |= static_cast<std::uint64_t>(c & 0x7F) << shift;
    shift += 7;
    if (!(c & 0x80)) break;
  }
  if (size == 0 || size > 1u << 20 || p + size > b.size()) return false;
  if (static_cast<unsigned char>(b[p]) != 1) return false;
  return crc32_of(b.substr(h + 4, p + static_cast<std::size_t>(size) - (h + 4))) == le32(b, h);
}

// ---- gzip: the original file name in the header (FNAME) ----

std::string gzip_original_name(std::string_view b) {
  if (b.size() < 10 || !at(b, 0, "\x1f\x8b\x08")) return {};
  const auto flags = static_cast<unsigned char>(b[3]);
  std::size_t p = 10;
  if (flags & 0x04) {  // FEXTRA
    if (p + 2 > b.size()) return {};
    p += 2 + le16(b, p);
  }
  if (!(flags & 0x08) || p >= b.size()) return {};
  const std::size_t end = b.find('\0', p);
  if (end == npos || end - p > 1024) return {};
  return std::string(b.substr(p, end - p));
}

// "report.pdf.gz" -> "report.pdf", "x.tgz" -> "x.tar".
std::string decompressed_name(std::string_view name) {
  name = basename_of(name);
  struct Rule {
    std::string_view ext, repl;
  };
  static constexpr std::array<Rule, 14> kRules = {{{".gz", ""},
                                                   {".gzip", ""},
                                                   {".tgz", ".tar"},
                                                   {".bz2", ""},
                                                   {".tbz2", ".tar"},
                                                   {".tbz", ".tar"},
                                                   {".xz", ""},
                                                   {".txz", ".tar"},
                                                   {".zst", ""},
                                                   {".lz4", ""},
                                                   {".z", ""},
                                                   {".lzma", ""},
                                                   {".lz", ""},
                                                   {".tzst", ".tar"}}};
  for (const Rule& r : kRules) {
    if (name.size() > r.ext.size()) {
      std::string tail(name.substr(name.size() - r.ext.size()));
      for (char& c : tail) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
      if (tail == r.ext)
        return std::string(name.substr(0, name.size() - r.ext.size())) + std::string(r.repl);
    }
  }
  return {};
}

// ---- libarchive readers ----

// Filters libarchive implements itself. Its support functions return ARCHIVE_WARN when a
// filter would fall back to running an external program (lzop, grzip, lrzip, and any
// library missing at build time): those are never enabled, Bulwark runs nothing.
using FilterFn = int (*)(archive*);
const std::vector<FilterFn>& in_process_filters() {
  static const std::vector<FilterFn> filters = [] {
    const std::array<FilterFn, 12> all = {
        archive_read_support_filter_gzip, archive_read_support_filter_bzip2,
        archive_read_support_filter_xz,   archive_read_support_filter_lzma,
        archive_read_support_filter_lzip, archive_read_support_filter_zstd,
        archive_read_support_filter_lz4,  archive_read_support_filter_compress,
        archive_read_support_filter_uu,   archive_read_support_filter_rpm,
        archive_read_support_filter_lzop, archive_read_support_filter_grzip};
    std::vector<FilterFn> ok;
    for (FilterFn f : all) {
      archive* probe = archive_read_new();
      if (probe && f(probe) == ARCHIVE_OK) ok.push_back(f);
      if (probe) archive_read_free(probe);
    }
    return ok;
  }();
  return filters;
}

// libarchive converts member names to the thread's locale. Its calls run under a UTF-8
// LC_CTYPE for this thread, so names in UTF-16 (7z, cab, Joliet) and UTF-8-flagged zip names
// reach the name checks as UTF-8 (bidi controls included) instead of failing conversion to
// ASCII. Only around libarchive calls: the analysers of the members run in the process's
// own locale, as everywhere else.
class Utf8Locale {
 public:
  Utf8Locale() {
    static const locale_t utf8 = [] {
      locale_t l = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
      return l;
    }();
    if (utf8) old_ = uselocale(utf8);
  }
  ~Utf8Locale() {
    if (old_) uselocale(old_);
  }
  Utf8Locale(const Utf8Locale&) = delete;
  Utf8Locale& operator=(const Utf8Locale&) = delete;

 private:
  locale_t old_ = static_cast<locale_t>(nullptr);
};

enum class Mode { kAll, kZipSeekable, kZipStreaming };

struct Reader {
  archive* a = nullptr;
  Reader() = default;
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;
  ~Reader() {
    if (a) archive_read_free(a);
  }
};

// Opens `bytes` in memory. Formats are listed one by one: archive_read_support_format_all
// would include mtree, whose reader opens the files an mtree manifest names on *our* disk.
int open_reader(Reader& r, std::string_view bytes, Mode mode, const std::string* passphrase) {
  const Utf8Locale in_utf8;
  r.a = archive_read_new();
  if (!r.a) return ARCHIVE_FATAL;
  archive* a = r.a;
  switch (mode) {
    case Mode::kZipSeekable:
      archive_read_support_format_zip_seekable(a);
      break;
    case Mode::kZipStreaming:
      archive_read_support_format_zip_streamable(a);
      break;
    case Mode::kAll:
      archive_read_support_format_7zip(a);
      archive_read_support_format_ar(a);
      archive_read_support_format_cab(a);
      archive_read_support_format_cpio(a);
      archive_read_support_format_iso9660(a);
      archive_read_support_format_lha(a);
      archive_read_support_format_rar(a);
      archive_read_support_format_rar5(a);
      archive_read_support_format_tar(a);
      archive_read_support_format_xar(a);
      archive_read_support_format_zip(a);
      archive_read_support_format_raw(a);
      break;
  }
  for (FilterFn f : in_process_filters()) f(a);
  if (passphrase) archive_read_add_passphrase(a, passphrase->c_str());
  return archive_read_open_memory(a, bytes.data(), bytes.size());
}

int next_header(archive* a, archive_entry** e) {
  const Utf8Locale in_utf8;
  return archive_read_next_header(a, e);
}

std::string error_of(archive* a) {
  const char* e = archive_error_string(a);
  return escape_for_display(e ? std::string_view(e) : std::string_view("unknown error"));
}

bool mentions_encryption(archive* a) {
  const char* e = archive_error_string(a);
  if (!e) return false;
  const std::string_view s(e);
  return s.find("ncrypt") != npos || s.find("assphrase") != npos || s.find("assword") != npos;
}


// A name as the archive wrote it: libarchive's multibyte form (UTF-8 under the locale set
// below), else its wide form, else UTF-8 form. `fallback` (the zip central directory's raw
// bytes) when libarchive could not convert it at all.
std::string name_of(const char* mbs, const wchar_t* wcs, const char* utf8, std::string fallback) {
  if (mbs) return mbs;
  if (wcs) {
    std::string out;
    for (std::size_t i = 0; wcs[i] != L'\0' && i < 65536; ++i)
      bulwark::append_utf8(out, static_cast<std::uint32_t>(wcs[i]) & 0x1FFFFF);
    return out;
  }
  if (utf8) return utf8;
  return fallback;
}

// Whether an entry carries file data to inspect. Not only AE_IFREG: an entry with no type
// bits (a RAR or zip whose mode says nothing) is extracted as a file by other tools, and a
// directory entry with data hides it from extractors that skip directories.
bool has_data(archive_entry* e) {
  switch (archive_entry_filetype(e)) {
    case AE_IFLNK:
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO:
    case AE_IFSOCK:
      return false;
    case AE_IFDIR:
      return archive_entry_size_is_set(e) && archive_entry_size(e) > 0;
    default:
      return true;
  }
}

// Whether an archive (at the depth limit, so not opened for inspection) holds archives:
// looks at the first bytes of up to 64 members. Bounded and cheap.
bool contains_archive(std::string_view bytes) {
  Reader r;
  if (open_reader(r, bytes, Mode::kAll, nullptr) != ARCHIVE_OK) return false;
  archive_entry* e = nullptr;
  for (int i = 0; i < 64; ++i) {
    const int rc = next_header(r.a, &e);
    if (rc < ARCHIVE_WARN || rc == ARCHIVE_EOF) return false;
    if (archive_format(r.a) == ARCHIVE_FORMAT_RAW && archive_filter_count(r.a) <= 1) return false;
    if (!has_data(e)) continue;
    std::string head(4096, '\0');
    std::size_t have = 0;
    for (int k = 0; k < 8 && have < 512; ++k) {
      const la_ssize_t n = archive_read_data(r.a, head.data() + have, head.size() - have);
      if (n <= 0) break;
      have += static_cast<std::size_t>(n);
    }
    head.resize(have);
    if (looks_like_archive(head)) return true;
  }
  return false;
}

// ---- the walk over one archive ----

struct Pass {
  Mode mode = Mode::kAll;
  const std::string* passphrase = nullptr;
  // Password pass: only these entry ordinals are unpacked (the others were in the first pass).
  const std::set<std::size_t>* only = nullptr;
};

struct PassResult {
  bool opened = false;
  bool eof = false;          // reached the end without a fatal error
  bool not_archive = false;  // no format recognised (raw bytes without a filter)
  bool raw = false;          // a single compressed stream
  int format = 0;
  std::size_t entries = 0;             // headers read
  std::uint64_t consumed = 0;          // input bytes the reader used, at the end
  std::vector<std::size_t> encrypted;  // entries whose data needs a password
  bool metadata_encrypted = false;
};

class ArchiveWalk {
 public:
  ArchiveWalk(const Blob& blob, Inspector& insp)
      : blob_(blob), insp_(insp), limits_(insp.limits()) {}

  void run();

 private:
  PassResult walk(const Pass& pass);
  void compare_streaming(const std::string* passphrase);
  void compare_central_names();
  // Reads the current entry's data within the limits.
  struct ReadResult {
    bool go_on = true;            // false: the walk must stop
    bool needs_password = false;  // the data could not be read for want of a password
  };
  ReadResult read_member(archive* a, std::string& data, bool trust_consumed, bool per_member);
  void inspect_member(std::string data, const std::string& name, const std::string& location);
  bool try_password(Mode mode, const std::string& pw, std::size_t ordinal);
  void check_trailing(const PassResult& r);
  void corrupt(archive* a);
  void mismatch(std::string detail);
  Blob child(const std::string& name, const std::string& location) const;
  std::string entry_name(archive* a, archive_entry* e);

  const Blob& blob_;
  Inspector& insp_;
  const InspectLimits& limits_;
  ZipDir zip_;
  bool is_zip_ = false;
  std::set<std::string> overlap_names_;
  std::multimap<std::string, std::int64_t> seen_;  // name -> size (-1: unknown), main pass
  std::uint64_t archive_total_ = 0;                // bytes unpacked from this archive
  bool stop_ = false;
  bool corrupt_raised_ = false;
  int mismatches_ = 0;
};

Blob ArchiveWalk::child(const std::string& name, const std::string& location) const {
  Blob c;
  c.location = location;
  if (!name.empty()) {
    c.names.push_back(name);
    const std::string_view base = basename_of(name);
    if (!base.empty() && base != name) c.names.emplace_back(base);
  }
  c.depth = blob_.depth + 1;
  return c;
}

std::string ArchiveWalk::entry_name(archive* a, archive_entry* e) {
  const Utf8Locale in_utf8;  // the getters below convert lazily
  const char* mbs = archive_entry_pathname(e);
  const wchar_t* wcs = mbs ? nullptr : archive_entry_pathname_w(e);
  const char* utf8 = mbs || wcs ? nullptr : archive_entry_pathname_utf8(e);
  std::string fallback;
  if (!mbs && !wcs && !utf8 && is_zip_) {
    // libarchive could not convert the name: the central directory's bytes, by offset.
    const std::int64_t pos = archive_read_header_position(a);
    for (const ZipEntry& z : zip_.entries)
      if (static_cast<std::int64_t>(z.local) == pos) {
        fallback = z.name;
        break;
      }
  }
  return name_of(mbs, wcs, utf8, std::move(fallback));
}

void ArchiveWalk::corrupt(archive* a) {
  if (corrupt_raised_) return;
  corrupt_raised_ = true;
  insp_.symbol(blob_, "ARCHIVE_CORRUPT", error_of(a));
}

void ArchiveWalk::mismatch(std::string detail) {
  if (mismatches_++ >= kMaxMismatchFindings) return;
  insp_.symbol(blob_, "ARCHIVE_NAME_MISMATCH", std::move(detail));
}

ArchiveWalk::ReadResult ArchiveWalk::read_member(archive* a, std::string& data, bool trust_consumed,
                                                 bool per_member) {
  const std::int64_t consumed_start = archive_filter_bytes(a, -1);
  for (;;) {
    const std::size_t old = data.size();
    const std::size_t room = limits_.max_member_bytes + 1 - std::min(old, limits_.max_member_bytes);
    data.resize(old + std::min(kChunk, room));
    const la_ssize_t n = archive_read_data(a, data.data() + old, data.size() - old);
    if (n <= 0) {
      data.resize(old);
      if (n < 0) {
        const bool password = mentions_encryption(a);
        if (!password) corrupt(a);
        return ReadResult{n != ARCHIVE_FATAL, password};
      }
      return {};
    }
    data.resize(old + static_cast<std::size_t>(n));
    archive_total_ += static_cast<std::uint64_t>(n);
    if (!insp_.charge(blob_, static_cast<std::size_t>(n))) {
      stop_ = true;
      return ReadResult{false, false};
    }
    if (data.size() > limits_.max_member_bytes) {
      data.resize(limits_.max_member_bytes);
      insp_.symbol(
          blob_, "ARCHIVE_BOMB_SIZE",
          "member over inspect.max_member_bytes=" + std::to_string(limits_.max_member_bytes));
      return {};  // the prefix is inspected; the next member is read
    }
    // Ratio: for zip, this member's unpacked bytes against the compressed bytes it used;
    // for streams, everything unpacked so far against the input used; for formats that
    // seek (7z, rar, cab, iso, xar) against the whole blob.
    const std::uint64_t measured = per_member ? data.size() : archive_total_;
    if (measured > kRatioFloor) {
      std::uint64_t packed = blob_.bytes.size();
      if (trust_consumed) {
        const std::int64_t now = archive_filter_bytes(a, -1);
        packed = static_cast<std::uint64_t>(
            std::max<std::int64_t>(1, per_member ? now - consumed_start : now));
      }
      if (measured / std::max<std::uint64_t>(packed, 1) > limits_.max_ratio) {
        insp_.symbol(blob_, "ARCHIVE_BOMB_RATIO",
                     "unpacked " + std::to_string(measured) + " bytes from " +
                         std::to_string(packed) +
                         " (over inspect.max_ratio=" + std::to_string(limits_.max_ratio) + ")");
        // A whole-archive ratio stays exceeded: nothing more is unpacked from it.
        if (!per_member) stop_ = true;
        return ReadResult{per_member, false};
      }
    }
  }
}

void ArchiveWalk::inspect_member(std::string data, const std::string& name,
                                 const std::string& location) {
  Blob c = child(name, location);
  // The member's bytes live in this frame for the whole inspection below it (nested
  // archives included), then go: peak memory is the open chain, not every member ever.
  c.bytes = data;
  if (c.depth >= limits_.max_depth && looks_like_archive(c.bytes) && contains_archive(c.bytes)) {
    insp_.symbol(
        c, "ARCHIVE_BOMB_NESTED",
        "archives inside archives at inspect.max_depth=" + std::to_string(limits_.max_depth));
  }
  insp_.inspect_blob(c);
}

PassResult ArchiveWalk::walk(const Pass& pass) {
  PassResult res;
  Reader r;
  if (open_reader(r, blob_.bytes, pass.mode, pass.passphrase) != ARCHIVE_OK) {
    if (mentions_encryption(r.a)) res.metadata_encrypted = true;
    return res;
  }
  res.opened = true;
  archive* a = r.a;
  archive_entry* e = nullptr;
  int errors = 0;
  for (std::size_t ordinal = 0; !stop_; ++ordinal) {
    if (insp_.out_of_time(blob_)) {
      stop_ = true;
      break;
    }
    const int rc = next_header(a, &e);
    if (rc == ARCHIVE_EOF) {
      res.eof = true;
      break;
    }
    if (rc == ARCHIVE_RETRY || rc == ARCHIVE_FAILED || rc == ARCHIVE_FATAL) {
      // Only libarchive's message is trusted here: its has_encrypted_entries() reflects
      // the flags of whatever garbage it just failed to parse.
      if (mentions_encryption(a)) {
        res.metadata_encrypted = true;
      } else {
        corrupt(a);
      }
      if (rc == ARCHIVE_FATAL || ++errors >= kMaxConsecutiveErrors) break;
      continue;
    }
    errors = 0;
    ++res.entries;
    res.format = archive_format(a);
    if (ordinal == 0 && res.format == ARCHIVE_FORMAT_RAW) {
      if (archive_filter_count(a) <= 1) {
        res.not_archive = true;
        break;
      }
      res.raw = true;
    }
    const bool selected = !pass.only || pass.only->count(ordinal);
    if (!selected) {
      archive_read_data_skip(a);
      continue;
    }
    if (!pass.only && !insp_.count_member(blob_)) {
      stop_ = true;
      break;
    }

    std::string name = entry_name(a, e);
    if (res.raw) {
      // A single compressed stream: its member is named by the gzip header or by the
      // blob's own name without the compression extension.
      std::string original = gzip_original_name(blob_.bytes);
      if (!original.empty()) {
        name = original;
      } else {
        name.clear();
        for (const std::string& n : blob_.names) {
          name = decompressed_name(n);
          if (!name.empty()) break;
        }
        if (name.empty()) name = "(decompressed)";
      }
    }
    const std::string location = child_location(blob_.location, name);
    const Blob where = child(name, location);
    if (!pass.only) check_name(where, name, NameOrigin::kArchiveMember, insp_);

    const unsigned type = archive_entry_filetype(e);
    const char* link = archive_entry_symlink(e);
    const char* hard = archive_entry_hardlink(e);
    if (!pass.only && (type == AE_IFLNK || link)) {
      const std::string target = link ? link : "";
      insp_.symbol(where, "FILE_SYMLINK", shown(name) + " -> " + shown(target));
      check_name(where, target, NameOrigin::kArchiveMember, insp_);
    }
    if (!pass.only && hard) {
      insp_.symbol(where, "FILE_SYMLINK", shown(name) + " => " + shown(hard) + " (hard link)");
      check_name(where, hard, NameOrigin::kArchiveMember, insp_);
    }
    if (!pass.only &&
        (type == AE_IFCHR || type == AE_IFBLK || type == AE_IFIFO || type == AE_IFSOCK)) {
      // Unpacked by a privileged tool, a device node is raw access to a disk or a tty.
      insp_.threat(where, "exploit", "EXPLOIT_DEVICE_NODE");
    }
    if (pass.mode != Mode::kZipStreaming && !pass.only) {
      const bool sized = has_data(e) && archive_entry_size_is_set(e);
      seen_.emplace(name, sized ? archive_entry_size(e) : -1);
    }
    if (!has_data(e) && !res.raw) {
      archive_read_data_skip(a);
      continue;
    }
    if (archive_entry_is_data_encrypted(e) && !pass.passphrase) {
      res.encrypted.push_back(ordinal);
      archive_read_data_skip(a);
      continue;
    }
    if (is_zip_ && overlap_names_.count(name)) {
      archive_read_data_skip(a);  // its bytes belong to another member, inspected there
      continue;
    }
    const bool zip_format = (res.format & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_ZIP;
    const int base = res.format & ARCHIVE_FORMAT_BASE_MASK;
    const bool streamy = zip_format || base == ARCHIVE_FORMAT_TAR || base == ARCHIVE_FORMAT_CPIO ||
                         base == ARCHIVE_FORMAT_AR || base == ARCHIVE_FORMAT_RAW;
    std::string data;
    const ReadResult rr = read_member(a, data, streamy, zip_format);
    if (rr.needs_password && data.empty()) {
      if (!pass.passphrase) res.encrypted.push_back(ordinal);
    } else if (!stop_ || !data.empty()) {
      inspect_member(std::move(data), name, location);
    }
    if (!rr.go_on) break;
  }
  if (res.eof)
    res.consumed =
        static_cast<std::uint64_t>(std::max<std::int64_t>(0, archive_filter_bytes(a, -1)));
  return res;
}

bool ArchiveWalk::try_password(Mode mode, const std::string& pw, std::size_t ordinal) {
  Reader r;
  if (open_reader(r, blob_.bytes, mode, &pw) != ARCHIVE_OK) return false;
  archive_entry* e = nullptr;
  for (std::size_t i = 0; i <= ordinal; ++i) {
    const int rc = next_header(r.a, &e);
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) return false;
    if (i < ordinal) archive_read_data_skip(r.a);
  }
  // Up to 1 MiB of the entry must decrypt and decompress cleanly (a wrong ZipCrypto key
  // passes its one-byte check 1 time in 256; the data or its CRC then fails).
  std::string buf(kChunk, '\0');
  for (std::size_t total = 0; total < kRatioFloor;) {
    const la_ssize_t n = archive_read_data(r.a, buf.data(), buf.size());
    if (n < 0) return false;
    if (n == 0) break;
    total += static_cast<std::size_t>(n);
  }
  return true;
}

void ArchiveWalk::compare_streaming(const std::string* passphrase) {
  Reader r;
  if (open_reader(r, blob_.bytes, Mode::kZipStreaming, passphrase) != ARCHIVE_OK) return;
  archive* a = r.a;
  archive_entry* e = nullptr;
  std::set<std::string> visited;
  bool clean = false;
  while (!stop_) {
    if (insp_.out_of_time(blob_)) {
      stop_ = true;
      break;
    }
    const int rc = next_header(a, &e);
    if (rc == ARCHIVE_EOF) {
      clean = true;
      break;
    }
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) break;  // the central reading stands
    const std::string name = entry_name(a, e);
    visited.insert(name);
    const auto range = seen_.equal_range(name);
    std::string location;
    if (range.first == range.second) {
      mismatch(shown(name) + " in a local header only (hidden from central-directory readers)");
      location = child_location(blob_.location, name);
    } else if (archive_entry_size_is_set(e)) {
      const std::int64_t size = archive_entry_size(e);
      bool same = false, known = false;
      for (auto it = range.first; it != range.second; ++it) {
        if (it->second < 0) continue;
        known = true;
        if (it->second == size) same = true;
      }
      if (known && !same) {
        mismatch(shown(name) + ": local header size " + std::to_string(size) +
                 " differs from the central directory");
        location = child_location(blob_.location, name) + "#local";
      }
    }
    if (location.empty() || !has_data(e)) {
      archive_read_data_skip(a);
      continue;
    }
    if (!insp_.count_member(blob_)) {
      stop_ = true;
      break;
    }
    check_name(child(name, location), name, NameOrigin::kArchiveMember, insp_);
    std::string data;
    const ReadResult rr = read_member(a, data, true, true);
    if (!data.empty()) inspect_member(std::move(data), name, location);
    if (!rr.go_on) break;
  }
  if (!clean) return;
  for (const auto& [name, size] : seen_)
    if (!visited.count(name))
      mismatch(shown(name) + " in the central directory only (hidden from streaming readers)");
}

// libarchive's seekable reader names entries by their local headers; Windows Explorer and
// 7-Zip list the central directory's names. A central name the reading did not produce is
// what a user would see instead: a mismatch, and its name is checked. ASCII names only, so
// charset conversion never counts as a difference.
void ArchiveWalk::compare_central_names() {
  std::size_t n = 0;
  for (const ZipEntry& z : zip_.entries) {
    if (++n > limits_.max_members) break;
    if (z.name.empty() || std::any_of(z.name.begin(), z.name.end(),
                                      [](char c) { return static_cast<unsigned char>(c) >= 0x80; }))
      continue;
    std::string normal = z.name;
    std::replace(normal.begin(), normal.end(), '\\', '/');
    if (seen_.count(z.name) || seen_.count(normal)) continue;
    mismatch(shown(z.name) + " in the central directory is not the local header's name");
    const std::string location = child_location(blob_.location, z.name);
    check_name(child(z.name, location), z.name, NameOrigin::kArchiveMember, insp_);
  }
}

void ArchiveWalk::check_trailing(const PassResult& r) {
  std::size_t end = npos;
  const std::string_view b = blob_.bytes;
  std::string what;
  if (is_zip_ && zip_.valid) {
    end = zip_.end;
    if (zip_.earlier_eocd)
      insp_.symbol(blob_, "ARCHIVE_TRAILING_DATA", "several zip archives concatenated");
  } else if (at(b, 0, "7z\xBC\xAF\x27\x1C")) {
    end = sevenzip_end(b, 0);
  } else if (r.eof && r.consumed > 0 && r.consumed <= b.size()) {
    const int base = r.format & ARCHIVE_FORMAT_BASE_MASK;
    // Formats read front to back to an end marker; the others (iso, cab, rar, xar, lha)
    // locate data by offsets, so "consumed" says nothing about where they end.
    if (base == ARCHIVE_FORMAT_TAR || base == ARCHIVE_FORMAT_CPIO || base == ARCHIVE_FORMAT_AR ||
        r.raw)
      end = static_cast<std::size_t>(r.consumed);
  }
  if (end == npos || end >= b.size()) return;
  if (all_zero(b.substr(end))) return;  // block padding (tar records, disk sectors)
  // What follows padding is inspected from its start: whole zero blocks are skipped.
  while (end + 512 < b.size() && all_zero(b.substr(end, 512))) end += 512;
  const std::string_view tail = b.substr(end);
  insp_.symbol(blob_, "ARCHIVE_TRAILING_DATA",
               std::to_string(tail.size()) + " bytes after the archive's end at offset " +
                   std::to_string(end));
  if (stop_ || !insp_.count_member(blob_)) return;
  Blob t;
  t.bytes = tail;
  t.location = blob_.location + "#trailing";
  t.depth = blob_.depth + 1;
  insp_.inspect_blob(t);
}

void ArchiveWalk::run() {
  const std::string_view b = blob_.bytes;
  is_zip_ = at(b, 0, "PK\x03\x04") || at(b, 0, "PK\x05\x06") || at(b, 0, "PK\x07\x08");
  if (is_zip_) {
    // Twice the member limit: enough to see every overlap a walk could reach.
    zip_ = parse_zip(b, 2 * limits_.max_members + 2);
    std::size_t overlaps = 0;
    overlap_names_ = zip_overlaps(b, zip_, overlaps);
    if (overlaps > 0)
      insp_.symbol(blob_, "ARCHIVE_BOMB_OVERLAP",
                   std::to_string(overlaps) + " entries share compressed data with another");
  }
  Mode mode = is_zip_ ? Mode::kZipSeekable : Mode::kAll;
  PassResult r = walk(Pass{mode, nullptr, nullptr});
  if (is_zip_ && !r.opened && !stop_) {
    // No usable central directory: Windows, 7-Zip and unzip refuse it; what a streaming
    // reader sees is all there is.
    if (!corrupt_raised_) {
      corrupt_raised_ = true;
      insp_.symbol(blob_, "ARCHIVE_CORRUPT", "zip without a readable central directory");
    }
    mode = Mode::kZipStreaming;
    r = walk(Pass{mode, nullptr, nullptr});
  }
  if (!r.opened) {
    if (r.metadata_encrypted) {
      insp_.symbol(blob_, "ARCHIVE_ENCRYPTED", "encrypted archive headers");
    } else if (looks_like_archive(b)) {
      Reader probe;
      open_reader(probe, b, mode, nullptr);
      corrupt(probe.a);
    }
    return;
  }
  if (r.not_archive) {
    if (looks_like_archive(b) && !corrupt_raised_) {
      corrupt_raised_ = true;
      insp_.symbol(blob_, "ARCHIVE_CORRUPT", "no archive format recognised");
    }
    return;
  }

  // Formats whose headers promise content: an archive of them that yields nothing (or a 7z
  // whose start header fails its CRC, which libarchive does not check) is damaged or made
  // to confuse. Empty tar, cpio, ar and zip archives are legitimate.
  if (!corrupt_raised_ && !r.metadata_encrypted &&
      ((at(b, 0, "7z\xBC\xAF\x27\x1C") && sevenzip_end(b, 0) == npos) ||
       (r.entries == 0 && (at(b, 0, "7z\xBC\xAF\x27\x1C") || at(b, 0, "MSCF") || at(b, 0, "Rar!") ||
                           at(b, 0, "xar!"))))) {
    corrupt_raised_ = true;
    insp_.symbol(blob_, "ARCHIVE_CORRUPT", "archive headers lead to no readable member");
  }

  const std::string* password = nullptr;
  if (!r.encrypted.empty() || r.metadata_encrypted) {
    const std::vector<std::string>& candidates = insp_.passwords();
    std::size_t tried = 0;
    if (!r.encrypted.empty()) {
      for (const std::string& pw : candidates) {
        if (tried >= limits_.max_passwords || stop_ || insp_.out_of_time(blob_)) break;
        ++tried;
        if (try_password(mode, pw, r.encrypted.front())) {
          password = &pw;
          break;
        }
      }
    }
    if (password) {
      insp_.symbol(blob_, "ARCHIVE_PASSWORD_FOUND",
                   "opened with a password from the message: " + shown(*password));
      const std::set<std::size_t> only(r.encrypted.begin(), r.encrypted.end());
      walk(Pass{mode, password, &only});
    } else {
      insp_.symbol(blob_, "ARCHIVE_ENCRYPTED",
                   r.metadata_encrypted ? std::string("encrypted archive headers")
                                        : std::to_string(r.encrypted.size()) +
                                              " encrypted member(s); candidate passwords tried: " +
                                              std::to_string(tried));
    }
  }
  // The readings are compared only when the main one saw the whole archive.
  if (is_zip_ && mode == Mode::kZipSeekable && r.eof && !stop_) {
    compare_central_names();
    compare_streaming(password);
  }
  if (!stop_) check_trailing(r);
}

}  // namespace

bool looks_like_archive(std::string_view b) {
  static constexpr std::array<std::string_view, 13> kMagic = {
      std::string_view("PK\x03\x04", 4),
      std::string_view("PK\x05\x06", 4),
      std::string_view("PK\x07\x08PK\x03\x04", 8),
      std::string_view("\x1f\x8b\x08", 3),
      std::string_view("\xfd\x37\x7a\x58\x5a\x00", 6),
      std::string_view("\x28\xb5\x2f\xfd", 4),
      std::string_view("\x04\x22\x4d\x18", 4),
      std::string_view("7z\xbc\xaf\x27\x1c", 6),
      std::string_view("Rar!\x1a\x07", 6),
      std::string_view("MSCF\0\0\0\0", 8),
      std::string_view("!<arch>\n", 8),
      std::string_view("xar!", 4),
      std::string_view("LZIP", 4)};
  for (std::string_view m : kMagic)
    if (at(b, 0, m)) return true;
  if (at(b, 0, "BZh") && b.size() > 3 && b[3] >= '1' && b[3] <= '9') return true;
  if (at(b, 0, "\x1f\x9d")) return true;  // compress (.Z)
  if (at(b, 0, "070707") || at(b, 0, "070701") || at(b, 0, "070702")) return true;
  // LHA: "-lh5-", "-lz4-", "-lhd-" at offset 2.
  if (b.size() > 21 && b[2] == '-' && b[3] == 'l' && (b[4] == 'h' || b[4] == 'z') && b[6] == '-')
    return true;
  if (at(b, 257, "ustar")) return true;
  if (valid_tar_checksum(b)) return true;
  for (std::size_t off : {0x8001u, 0x8801u, 0x9001u})
    if (at(b, off, "CD001")) return true;
  return false;
}

std::size_t find_embedded_archive(std::string_view b) {
  std::size_t best = npos;
  // Zip: a central directory any reader finds from the end, whose first local header
  // is where the zip starts.
  const ZipDir z = parse_zip(b, 4096);
  if (z.valid && !z.entries.empty()) {
    std::size_t first = npos;
    for (const ZipEntry& e : z.entries) {
      const std::size_t lh = local_header(b, z, e);
      if (lh != npos) first = std::min(first, lh);
    }
    if (first != npos) best = first;
  }
  // 7z: signature with a valid start-header CRC. RAR 4/5: marker plus a main header with
  // a valid CRC. Stops at the first valid one.
  for (std::size_t p = b.find("7z\xBC\xAF\x27\x1C"); p != npos && p < best;
       p = b.find("7z\xBC\xAF\x27\x1C", p + 1)) {
    if (sevenzip_end(b, p) != npos) {
      best = p;
      break;
    }
  }
  for (std::size_t p = b.find("Rar!\x1a\x07"); p != npos && p < best;
       p = b.find("Rar!\x1a\x07", p + 1)) {
    if (valid_rar4(b, p) || valid_rar5(b, p)) {
      best = p;
      break;
    }
  }
  return best;
}

void inspect_archive(const Blob& blob, Inspector& insp) {
  if (blob.depth >= insp.limits().max_depth) {
    insp.symbol(
        blob, "INSPECT_LIMIT_DEPTH",
        "not opened: deeper than inspect.max_depth=" + std::to_string(insp.limits().max_depth));
    return;
  }
  if (insp.out_of_time(blob)) return;
  ArchiveWalk(blob, insp).run();
}

}  // namespace bulwark::inspect
