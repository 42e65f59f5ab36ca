// OLE2 / Compound File Binary ([MS-CFB]) reader, written from the specification, and the
// checks on what it holds: VBA projects ([MS-OVBA]), Excel 4.0 macro sheets (BIFF8),
// OLE1 packages (Ole10Native), encryption markers and Equation Editor objects.
//
// Every structure is untrusted: sector chains are walked with a step bound (a loop or a
// chain longer than the file stops there), stream reads are capped by the file size and a
// per-file read budget, the directory is iterated linearly (the red-black tree is only
// used to find parents, with an explicit stack and a visited mark per entry).
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/ascii.h"
#include "core/utf8.h"
#include "core/escape.h"
#include "inspect/documents.h"

namespace bulwark::inspect {

namespace {

using ascii::lower;
using ascii::to_lower;
using ascii::iequals;
using ascii::istarts;

constexpr std::uint32_t kMaxRegSect = 0xFFFFFFFAu;
constexpr std::uint32_t kNoStream = 0xFFFFFFFFu;
constexpr std::size_t kMaxEntries = 1u << 16;  // directory entries considered
constexpr std::size_t kMaxModules = 256;       // VBA modules decompressed per project
constexpr std::size_t kMaxSource = 4u << 20;   // decompressed source per module
constexpr std::size_t kMaxChildren = 64;       // packages extracted per file
constexpr std::size_t kMaxVbaStorages = 8;     // VBA projects examined per file

std::uint16_t le16(std::string_view b, std::size_t off) {
  if (off + 2 > b.size()) return 0;
  return static_cast<std::uint16_t>(static_cast<unsigned char>(b[off]) |
                                    (static_cast<unsigned char>(b[off + 1]) << 8));
}

std::uint32_t le32(std::string_view b, std::size_t off) {
  if (off + 4 > b.size()) return 0;
  std::uint32_t v = 0;
  for (std::size_t i = 4; i-- > 0;) v = (v << 8) | static_cast<unsigned char>(b[off + i]);
  return v;
}




// Document bytes quoted in a detail: escaped, and cut so one detail stays short.
std::string shown(std::string_view s, std::size_t max = 200) {
  std::string out = escape_for_display(s.substr(0, max));
  if (s.size() > max) out += "...";
  return out;
}


// UTF-16LE directory names to UTF-8 (lone surrogates become U+FFFD).
std::string utf16_to_utf8(std::string_view b) {
  std::string out;
  for (std::size_t i = 0; i + 1 < b.size(); i += 2) {
    std::uint32_t cp = le16(b, i);
    if (cp == 0) break;
    if (cp >= 0xD800 && cp <= 0xDBFF && i + 3 < b.size()) {
      const std::uint32_t lo = le16(b, i + 2);
      if (lo >= 0xDC00 && lo <= 0xDFFF) {
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        i += 2;
      } else {
        cp = 0xFFFD;
      }
    } else if (cp >= 0xD800 && cp <= 0xDFFF) {
      cp = 0xFFFD;
    }
    bulwark::append_utf8(out, cp);
  }
  return out;
}

struct DirEntry {
  std::string name;       // UTF-8
  std::uint8_t type = 0;  // 1 storage, 2 stream, 5 root
  std::uint32_t left = kNoStream, right = kNoStream, child = kNoStream;
  std::array<unsigned char, 16> clsid{};
  std::uint32_t start = 0;
  std::uint64_t size = 0;
  std::uint32_t parent = kNoStream;
};

class Cfb {
 public:
  explicit Cfb(std::string_view data) : data_(data) {}

  bool open() {
    if (data_.size() < 512 || !looks_like_ole(data_)) return false;
    const std::uint16_t shift = le16(data_, 30);
    const std::uint16_t major = le16(data_, 26);
    // Readers trust the version over a damaged shift field: 3 -> 512, 4 -> 4096.
    if (shift == 9 || shift == 12) {
      sector_size_ = std::size_t{1} << shift;
    } else {
      sector_size_ = major == 4 ? 4096 : 512;
    }
    if (data_.size() < sector_size_) sector_size_ = 512;
    mini_size_ = 64;  // the mini sector shift is 6 in every version
    mini_cutoff_ = le32(data_, 56);
    if (mini_cutoff_ == 0 || mini_cutoff_ > (1u << 20)) mini_cutoff_ = 4096;
    nsectors_ = (data_.size() + sector_size_ - 1) / sector_size_ - 1;  // minus the header
    read_budget_ = data_.size() * 8 + (16u << 20);
    build_fat();
    build_directory();
    build_minifat();
    return !entries_.empty();
  }

  const std::vector<DirEntry>& entries() const { return entries_; }

  // A stream's bytes (regular or mini), at most `cap` of them; "" when out of budget.
  std::string read(const DirEntry& e, std::size_t cap = SIZE_MAX) {
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(e.size, data_.size()));
    // Version 3 files may carry garbage in the high 32 bits of the size.
    if (sector_size_ == 512)
      want = static_cast<std::size_t>(std::min<std::uint64_t>(e.size & 0xFFFFFFFFu, data_.size()));
    want = std::min(want, cap);
    if (want > read_budget_) want = read_budget_;
    read_budget_ -= want;
    if (e.type == 5 || e.size >= mini_cutoff_) return chain(fat_, e.start, want, false);
    if (!ministream_loaded_) load_ministream();
    return chain(minifat_, e.start, want, true);
  }

  std::string path_of(std::uint32_t id) const {
    std::vector<std::string_view> parts;
    for (std::size_t steps = 0; id < entries_.size() && steps < 64; ++steps) {
      if (entries_[id].type == 5) break;
      parts.push_back(entries_[id].name);
      id = entries_[id].parent;
    }
    std::string out;
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
      if (!out.empty()) out += '/';
      out += *it;
    }
    return out;
  }

 private:
  std::string_view sector(std::uint32_t s) const {
    const std::size_t off = (static_cast<std::size_t>(s) + 1) * sector_size_;
    if (s > kMaxRegSect || off >= data_.size()) return {};
    return data_.substr(off, std::min(sector_size_, data_.size() - off));
  }

  // Follows a chain in `table`, at most `want` bytes and never more steps than there are
  // sectors (a loop ends there).
  std::string chain(const std::vector<std::uint32_t>& table, std::uint32_t start, std::size_t want,
                    bool mini) {
    std::string out;
    const std::size_t unit = mini ? mini_size_ : sector_size_;
    const std::size_t max_steps = mini ? ministream_.size() / unit + 1 : nsectors_ + 1;
    std::uint32_t s = start;
    for (std::size_t steps = 0; out.size() < want && steps < max_steps; ++steps) {
      if (s > kMaxRegSect) break;
      std::string_view piece;
      if (mini) {
        const std::size_t off = static_cast<std::size_t>(s) * unit;
        if (off >= ministream_.size()) break;
        piece = std::string_view(ministream_).substr(off, unit);
      } else {
        piece = sector(s);
      }
      if (piece.empty()) break;
      out.append(piece.substr(0, std::min(piece.size(), want - out.size())));
      if (s >= table.size()) break;
      s = table[s];
    }
    return out;
  }

  void build_fat() {
    std::vector<std::uint32_t> fat_sectors;
    for (std::size_t i = 0; i < 109; ++i) {
      const std::uint32_t s = le32(data_, 76 + 4 * i);
      if (s <= kMaxRegSect) fat_sectors.push_back(s);
    }
    std::uint32_t d = le32(data_, 68);
    const std::size_t per = sector_size_ / 4;
    for (std::size_t steps = 0; d <= kMaxRegSect && steps <= nsectors_; ++steps) {
      const std::string_view sec = sector(d);
      if (sec.size() < sector_size_) break;
      for (std::size_t i = 0; i + 1 < per; ++i) {
        const std::uint32_t s = le32(sec, 4 * i);
        if (s <= kMaxRegSect) fat_sectors.push_back(s);
      }
      d = le32(sec, 4 * (per - 1));
    }
    // No file needs more FAT sectors than it has sectors.
    if (fat_sectors.size() > nsectors_) fat_sectors.resize(nsectors_);
    fat_.reserve(std::min(fat_sectors.size() * per, nsectors_ + per));
    for (std::uint32_t fs : fat_sectors) {
      const std::string_view sec = sector(fs);
      for (std::size_t i = 0; i + 4 <= sec.size(); i += 4) fat_.push_back(le32(sec, i));
      if (fat_.size() > nsectors_ + per) break;
    }
  }

  void build_directory() {
    const std::string dir = chain(fat_, le32(data_, 48), nsectors_ * sector_size_, false);
    const std::size_t n = std::min(dir.size() / 128, kMaxEntries);
    entries_.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      const std::string_view raw = std::string_view(dir).substr(i * 128, 128);
      DirEntry e;
      const std::size_t name_len = std::min<std::size_t>(le16(raw, 64), 64);
      e.name = utf16_to_utf8(raw.substr(0, name_len));
      e.type = static_cast<std::uint8_t>(raw[66]);
      e.left = le32(raw, 68);
      e.right = le32(raw, 72);
      e.child = le32(raw, 76);
      std::memcpy(e.clsid.data(), raw.data() + 80, 16);
      e.start = le32(raw, 116);
      e.size = le32(raw, 120) | (static_cast<std::uint64_t>(le32(raw, 124)) << 32);
      entries_.push_back(std::move(e));
    }
    // Parents: walk each storage's sibling tree with an explicit stack; an entry is
    // claimed once, so the whole pass is linear even in a cyclic or shared tree.
    if (entries_.empty()) return;
    std::vector<bool> seen(entries_.size(), false);
    std::vector<std::uint32_t> storages{0};
    seen[0] = true;
    std::vector<std::uint32_t> stack;
    while (!storages.empty()) {
      const std::uint32_t st = storages.back();
      storages.pop_back();
      stack.assign(1, entries_[st].child);
      while (!stack.empty()) {
        const std::uint32_t id = stack.back();
        stack.pop_back();
        if (id >= entries_.size() || seen[id]) continue;
        seen[id] = true;
        DirEntry& e = entries_[id];
        e.parent = st;
        stack.push_back(e.left);
        stack.push_back(e.right);
        if (e.type == 1 || e.type == 5) storages.push_back(id);
      }
    }
  }

  void build_minifat() {
    const std::uint32_t first = le32(data_, 60);
    const std::size_t n = std::min<std::size_t>(le32(data_, 64), nsectors_);
    const std::string mf = chain(fat_, first, (n ? n : nsectors_) * sector_size_, false);
    for (std::size_t i = 0; i + 4 <= mf.size(); i += 4) minifat_.push_back(le32(mf, i));
  }

  void load_ministream() {
    ministream_loaded_ = true;
    if (entries_.empty()) return;
    const DirEntry& root = entries_[0];
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(root.size, data_.size()));
    ministream_ = chain(fat_, root.start, want, false);
  }

  std::string_view data_;
  std::size_t sector_size_ = 512;
  std::size_t mini_size_ = 64;
  std::uint32_t mini_cutoff_ = 4096;
  std::size_t nsectors_ = 0;
  std::size_t read_budget_ = 0;
  std::vector<std::uint32_t> fat_;
  std::vector<std::uint32_t> minifat_;
  std::vector<DirEntry> entries_;
  std::string ministream_;
  bool ministream_loaded_ = false;
};

// ---- [MS-OVBA] 2.4.1 decompression ----

// Decompresses a CompressedContainer starting at `in[0]` (the 0x01 signature byte).
// Returns false when the container is not valid from the start; a damaged later chunk
// ends the output there.
bool ovba_decompress(std::string_view in, std::size_t max_out, std::string& out) {
  out.clear();
  if (in.empty() || static_cast<unsigned char>(in[0]) != 0x01) return false;
  std::size_t pos = 1;
  bool first = true;
  while (pos + 2 <= in.size() && out.size() < max_out) {
    const std::uint16_t header = le16(in, pos);
    const std::size_t chunk_size = (header & 0x0FFFu) + 3;
    const bool compressed = (header & 0x8000u) != 0;
    if (((header >> 12) & 0x7u) != 0x3u) {
      if (first) return false;
      break;
    }
    first = false;
    const std::size_t chunk_end = std::min(in.size(), pos + chunk_size);
    std::size_t p = pos + 2;
    const std::size_t dstart = out.size();
    if (!compressed) {
      // An uncompressed chunk: 4096 raw bytes.
      const std::size_t n = std::min<std::size_t>(4096, in.size() - p);
      out.append(in.substr(p, std::min(n, max_out - out.size())));
      pos = p + 4096;
      continue;
    }
    while (p < chunk_end && out.size() < max_out) {
      const unsigned char flags = static_cast<unsigned char>(in[p++]);
      for (int bit = 0; bit < 8 && p < chunk_end && out.size() < max_out; ++bit) {
        if ((flags & (1u << bit)) == 0) {
          out += in[p++];
          continue;
        }
        if (p + 2 > chunk_end) {
          p = chunk_end;
          break;
        }
        const std::uint16_t token = le16(in, p);
        p += 2;
        const std::size_t diff = out.size() - dstart;
        unsigned bits = 4;
        while (bits < 12 && (std::size_t{1} << bits) < diff) ++bits;
        const std::uint16_t len_mask = static_cast<std::uint16_t>(0xFFFFu >> bits);
        const std::size_t length = (token & len_mask) + 3u;
        const std::size_t offset =
            (static_cast<std::size_t>(token & ~len_mask & 0xFFFFu) >> (16 - bits)) + 1;
        if (offset > diff) return !out.empty();  // corrupt: points before the chunk
        const std::size_t from = out.size() - offset;
        for (std::size_t k = 0; k < length && out.size() < max_out; ++k) out += out[from + k];
      }
    }
    pos = chunk_end;
  }
  return true;
}

struct VbaModule {
  std::string name;          // MODULENAME
  std::string stream_name;   // MODULESTREAMNAME
  std::uint32_t offset = 0;  // MODULEOFFSET: where the compressed source starts
  bool has_offset = false;
};

// The decompressed "dir" stream: a sequence of (id u16, size u32, data) records, except
// PROJECTVERSION (0x0009) whose size field says 4 but which carries 6 bytes.
std::vector<VbaModule> parse_vba_dir(std::string_view dir) {
  std::vector<VbaModule> modules;
  VbaModule cur;
  bool in_module = false;
  std::size_t p = 0;
  while (p + 6 <= dir.size() && modules.size() < kMaxModules) {
    const std::uint16_t id = le16(dir, p);
    std::size_t size = le32(dir, p + 2);
    if (id == 0x0009) size = 6;
    const std::size_t data = p + 6;
    if (data + size > dir.size()) break;
    const std::string_view v = dir.substr(data, size);
    switch (id) {
      case 0x0019:  // MODULENAME
        cur = VbaModule{};
        cur.name = std::string(v);
        in_module = true;
        break;
      case 0x001A:  // MODULESTREAMNAME
        if (in_module) cur.stream_name = std::string(v);
        break;
      case 0x0031:  // MODULEOFFSET
        if (in_module && size >= 4) {
          cur.offset = le32(v, 0);
          cur.has_offset = true;
        }
        break;
      case 0x002B:  // module terminator
        if (in_module) modules.push_back(cur);
        in_module = false;
        break;
      default:
        break;
    }
    p = data + size;
  }
  return modules;
}

bool ident_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Whole-word, case-insensitive search in lowered source.
bool has_word(std::string_view lowered, std::string_view word) {
  for (std::size_t at = lowered.find(word); at != std::string_view::npos;
       at = lowered.find(word, at + 1)) {
    const bool left_ok = at == 0 || !ident_char(lowered[at - 1]);
    const std::size_t end = at + word.size();
    const bool right_ok = end >= lowered.size() || !ident_char(lowered[end]);
    if (left_ok && right_ok) return true;
  }
  return false;
}

constexpr std::array<std::string_view, 16> kAutoExec = {"autoopen",
                                                        "auto_open",
                                                        "document_open",
                                                        "workbook_open",
                                                        "autoexec",
                                                        "autoclose",
                                                        "auto_close",
                                                        "document_close",
                                                        "documentopen",
                                                        "document_new",
                                                        "autonew",
                                                        "workbook_activate",
                                                        "workbook_beforeclose",
                                                        "presentation_open",
                                                        "auto_exec",
                                                        "worksheet_activate"};

constexpr std::array<std::string_view, 14> kSuspicious = {
    "shell",          "createobject",
    "wscript.shell",  "urldownloadtofile",
    "powershell",     "getobject",
    "shellexecute",   "adodb.stream",
    "msxml2.xmlhttp", "winhttp.winhttprequest",
    "callbyname",     "executeexcel4macro",
    "cmd.exe",        "mshta"};

struct OleScan {
  const Blob& blob;
  Inspector& insp;
  Cfb& cfb;
  std::size_t children = 0;
};

void scan_source(std::string_view module, std::string_view source,
                 std::vector<std::string>& autoexec, std::vector<std::string>& suspicious) {
  const std::string lowered = to_lower(source);
  for (std::string_view w : kAutoExec)
    if (has_word(lowered, w) && autoexec.size() < 16)
      autoexec.push_back(std::string(w) + " in " + shown(module, 48));
  for (std::string_view w : kSuspicious) {
    // "Shell" alone also matches "Shell32" declarations only as a whole word.
    const bool hit = w.find('.') != std::string_view::npos || w == "cmd.exe"
                         ? lowered.find(w) != std::string::npos
                         : has_word(lowered, w);
    if (hit && suspicious.size() < 16)
      suspicious.push_back(std::string(w) + " in " + shown(module, 48));
  }
}

// Finds compressed source in a module stream whose offset is unknown (a damaged or
// stomped dir stream): a 0x01 followed by a valid chunk header that decompresses to text
// starting with "Attribute".
bool find_source_blind(std::string_view stream, std::string& out) {
  std::size_t tries = 0;
  for (std::size_t at = stream.find('\x01'); at != std::string_view::npos && tries < 256;
       at = stream.find('\x01', at + 1)) {
    if (at + 3 > stream.size()) break;
    const std::uint16_t h = le16(stream, at + 1);
    if (((h >> 12) & 0x7u) != 0x3u) continue;
    ++tries;
    // A short look first: only a real container is decompressed in full.
    std::string tmp;
    if (!ovba_decompress(stream.substr(at), 16, tmp) || !istarts(tmp, "attribut")) continue;
    ovba_decompress(stream.substr(at), kMaxSource, out);
    return true;
  }
  return false;
}

void check_vba(OleScan& s, std::uint32_t vba_storage, std::vector<std::string>& stream_names) {
  const auto& entries = s.cfb.entries();
  std::uint32_t dir_id = kNoStream;
  std::vector<std::uint32_t> streams;
  for (std::uint32_t i = 0; i < entries.size(); ++i) {
    if (entries[i].parent != vba_storage || entries[i].type != 2) continue;
    if (iequals(entries[i].name, "dir")) dir_id = i;
    streams.push_back(i);
    if (stream_names.size() < 32) stream_names.push_back(entries[i].name);
  }
  std::vector<std::string> module_names;
  std::vector<std::string> autoexec, suspicious;
  std::vector<bool> done(streams.size(), false);
  if (dir_id != kNoStream) {
    const std::string raw = s.cfb.read(entries[dir_id], 16u << 20);
    std::string dir;
    if (ovba_decompress(raw, 16u << 20, dir)) {
      for (const VbaModule& m : parse_vba_dir(dir)) {
        module_names.push_back(m.name);
        for (std::size_t k = 0; k < streams.size(); ++k) {
          const DirEntry& e = entries[streams[k]];
          if (done[k] || !iequals(e.name, m.stream_name)) continue;
          done[k] = true;
          const std::string data = s.cfb.read(e);
          std::string src;
          if (m.has_offset && m.offset < data.size())
            ovba_decompress(std::string_view(data).substr(m.offset), kMaxSource, src);
          if (src.empty()) find_source_blind(data, src);
          if (!s.insp.charge(s.blob, src.size())) return;
          scan_source(m.name, src, autoexec, suspicious);
          break;
        }
      }
    }
  }
  // Module streams the dir stream did not name (or no dir at all): look blindly.
  for (std::size_t k = 0; k < streams.size(); ++k) {
    const DirEntry& e = entries[streams[k]];
    if (done[k] || iequals(e.name, "dir") || iequals(e.name, "_VBA_PROJECT") ||
        istarts(e.name, "__SRP_") || iequals(e.name, "PROJECT") || iequals(e.name, "PROJECTwm"))
      continue;
    const std::string data = s.cfb.read(e);
    std::string src;
    if (!find_source_blind(data, src)) continue;
    if (!s.insp.charge(s.blob, src.size())) return;
    scan_source(e.name, src, autoexec, suspicious);
  }
  auto join = [](const std::vector<std::string>& v) {
    std::string out;
    for (const std::string& x : v) {
      if (!out.empty()) out += ", ";
      out += x;
    }
    return out;
  };
  std::string detail = "VBA project at " + shown(s.cfb.path_of(vba_storage));
  if (!module_names.empty()) {
    std::string mods;
    for (std::size_t i = 0; i < module_names.size() && i < 16; ++i) {
      if (i) mods += ", ";
      mods += shown(module_names[i], 48);
    }
    detail += "; modules: " + mods;
  } else {
    std::string names;
    for (const std::string& n : stream_names) {
      if (!names.empty()) names += ", ";
      names += shown(n);
    }
    detail += "; streams: " + names;
  }
  s.insp.symbol(s.blob, "DOC_VBA_MACRO", detail);
  if (!autoexec.empty()) s.insp.symbol(s.blob, "DOC_VBA_AUTOEXEC", join(autoexec));
  if (!suspicious.empty()) s.insp.symbol(s.blob, "DOC_VBA_SUSPICIOUS", join(suspicious));
}

// BIFF8 Workbook stream: BOUNDSHEET (0x0085) records name the sheets with their type
// (0x01 = Excel 4.0 macro sheet) and visibility; FILEPASS (0x002F) marks encryption.
void check_workbook(OleScan& s, std::string_view wb) {
  std::size_t p = 0;
  std::size_t macros = 0;
  std::string detail;
  while (p + 4 <= wb.size()) {
    const std::uint16_t id = le16(wb, p);
    const std::uint16_t len = le16(wb, p + 2);
    const std::size_t data = p + 4;
    if (data + len > wb.size()) break;
    const std::string_view v = wb.substr(data, len);
    if (id == 0x0085 && len >= 6) {
      const unsigned state = static_cast<unsigned char>(v[4]) & 0x03u;
      const unsigned type = static_cast<unsigned char>(v[5]);
      if (type == 0x01) {
        ++macros;
        std::string name;
        if (len >= 8) {
          const std::size_t cch = static_cast<unsigned char>(v[6]);
          const bool wide = (static_cast<unsigned char>(v[7]) & 1u) != 0;
          const std::string_view chars = v.substr(8);
          if (wide) {
            name = utf16_to_utf8(chars.substr(0, std::min(chars.size(), cch * 2)));
          } else {
            name = std::string(chars.substr(0, std::min(chars.size(), cch)));
          }
        }
        if (macros <= 8) {
          if (!detail.empty()) detail += ", ";
          detail += "macro sheet '" + shown(name, 64) + "'";
          if (state == 1) detail += " (hidden)";
          if (state == 2) detail += " (very hidden)";
        }
      }
    } else if (id == 0x002F) {
      s.insp.symbol(s.blob, "DOC_ENCRYPTED", "Workbook stream has a FILEPASS record");
    }
    p = data + len;
  }
  if (macros) s.insp.symbol(s.blob, "DOC_XLM_MACRO", detail);
}

// The first UTF-16LE URL or UNC/file path in `b` (a moniker's display name), or "".
std::string utf16_target(std::string_view b) {
  static constexpr std::string_view kStarts[] = {
      std::string_view("h\0t\0t\0p\0", 8), std::string_view("H\0T\0T\0P\0", 8),
      std::string_view("f\0i\0l\0e\0:\0", 10), std::string_view("\\\0\\\0", 4)};
  std::size_t best = std::string_view::npos;
  for (std::string_view k : kStarts) best = std::min(best, b.find(k));
  if (best == std::string_view::npos) return {};
  std::size_t end = best;
  while (end + 1 < b.size() && (b[end] != '\0' || b[end + 1] != '\0') && end - best < 2048)
    end += 2;
  return utf16_to_utf8(b.substr(best, end - best));
}

// "\x01Ole" ([MS-OLEDS] 2.3.3 OLEStream): Flags bit 0 marks a linked object, whose source
// moniker names what Office fetches on open (CVE-2017-0199: a URL moniker to an HTA).
void check_ole_link(OleScan& s, std::string_view data, std::uint32_t id) {
  static constexpr std::string_view kUrlMoniker(
      "\xE0\xC9\xEA\x79\xF9\xBA\xCE\x11\x8C\x82\x00\xAA\x00\x4B\xA9\x0B", 16);
  const bool linked = le32(data, 0) == 0x02000001u && (le32(data, 4) & 1u) != 0;
  const bool url = data.find(kUrlMoniker) != std::string_view::npos;
  if (!linked && !url) return;
  const std::string target = utf16_target(data);
  std::string detail = (url ? "URL moniker in " : "linked object in ") + shown(s.cfb.path_of(id));
  if (!target.empty()) detail += ": " + shown(target);
  s.insp.symbol(s.blob, "DOC_EXTERNAL_OLE_LINK", detail);
}

bool is_equation_clsid(const std::array<unsigned char, 16>& c) {
  static constexpr unsigned char kTail[8] = {0xC0, 0, 0, 0, 0, 0, 0, 0x46};
  return (c[0] == 0x02 || c[0] == 0x03) && c[1] == 0xCE && c[2] == 0x02 && c[3] == 0x00 &&
         c[4] == 0 && c[5] == 0 && c[6] == 0 && c[7] == 0 &&
         std::memcmp(c.data() + 8, kTail, 8) == 0;
}

std::string_view base_name(std::string_view path) {
  const std::size_t slash = path.find_last_of("/\\");
  if (slash != std::string_view::npos) path.remove_prefix(slash + 1);
  return path;
}

// Reads a NUL-terminated ANSI string, bounded; advances `p` past the NUL.
std::string cstr(std::string_view b, std::size_t& p, std::size_t max = 1024) {
  const std::size_t end = b.find('\0', p);
  const std::size_t stop = end == std::string_view::npos ? b.size() : end;
  std::string out(b.substr(p, std::min(stop - p, max)));
  p = stop == b.size() ? b.size() : stop + 1;
  return out;
}

}  // namespace

bool looks_like_ole(std::string_view bytes) {
  return bytes.size() >= 8 &&
         bytes.substr(0, 8) == std::string_view("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8);
}

void inspect_ole_package(std::string_view native, const Blob& parent, Inspector& insp) {
  // uint16 flags (2), label, original path, uint16 reserved, uint16 type (3 = embedded
  // file, 1 = link), uint32 temp path length, temp path, uint32 data size, data.
  std::size_t p = 2;
  if (native.size() < 2) return;
  const std::string label = cstr(native, p);
  const std::string original = cstr(native, p);
  const std::uint16_t type = le16(native, p + 2);
  p += 4;
  const std::uint32_t tlen = le32(native, p);
  p += 4;
  std::string temp;
  if (p <= native.size()) {
    const std::size_t n = std::min<std::size_t>(tlen, native.size() - p);
    temp = std::string(native.substr(p, n));
    const std::size_t nul = temp.find('\0');
    if (nul != std::string::npos) temp.resize(nul);
    if (temp.size() > 1024) temp.resize(1024);
    p += n;
  }
  std::string detail = "'" + shown(label) + "'";
  if (!original.empty()) detail += " from '" + shown(original) + "'";
  if (type == 1) {
    insp.symbol(parent, "DOC_EMBEDDED_PACKAGE", "link to " + detail);
    return;
  }
  std::string_view data;
  if (p + 4 <= native.size()) {
    const std::uint32_t dsize = le32(native, p);
    p += 4;
    data = native.substr(p, std::min<std::size_t>(dsize, native.size() - p));
  }
  detail += ", " + std::to_string(data.size()) + " bytes";
  insp.symbol(parent, "DOC_EMBEDDED_PACKAGE", detail);
  if (data.empty() && label.empty()) return;
  if (!insp.count_member(parent) || !insp.charge(parent, data.size())) return;
  std::vector<std::string> names;
  auto add = [&](std::string_view n) {
    if (n.empty()) return;
    for (const std::string& have : names)
      if (have == n) return;
    names.emplace_back(n);
  };
  add(label);
  add(base_name(original));
  add(base_name(temp));
  const std::string& kept = insp.keep(std::string(data));
  const std::string loc_name = names.empty() ? std::string("Ole10Native") : names.front();
  insp.inspect_blob(Blob{kept, child_location(parent.location, loc_name), std::move(names), "",
                         parent.depth + 1});
}

void inspect_ole(const Blob& blob, Inspector& insp) {
  try {
    Cfb cfb(blob.bytes);
    if (!cfb.open()) return;
    OleScan s{blob, insp, cfb};
    const auto& entries = cfb.entries();
    std::vector<std::uint32_t> vba_storages;
    bool vba_marker = false;
    std::string marker_detail;
    bool equation = false;
    std::string equation_detail;
    bool encrypted_pkg = false;
    for (std::uint32_t i = 0; i < entries.size(); ++i) {
      if (insp.out_of_time(blob)) return;
      const DirEntry& e = entries[i];
      if (e.type == 0) continue;
      const std::string& n = e.name;
      if ((e.type == 1 || e.type == 5) && is_equation_clsid(e.clsid)) {
        equation = true;
        equation_detail = "Equation.3 CLSID on " + shown(cfb.path_of(i));
      }
      if (e.type == 1 && iequals(n, "VBA")) {
        if (vba_storages.size() < kMaxVbaStorages) vba_storages.push_back(i);
        continue;
      }
      if (e.type == 1 && iequals(n, "_VBA_PROJECT_CUR")) {
        vba_marker = true;
        marker_detail = "storage _VBA_PROJECT_CUR";
        continue;
      }
      if (e.type != 2) continue;
      if (iequals(n, "_VBA_PROJECT") || iequals(n, "PROJECT")) {
        // Inside a VBA storage (or its parent) these are part of the project we report.
        // PROJECT is a common word: it counts when it reads like a VBA project stream.
        bool marker = iequals(n, "_VBA_PROJECT");
        if (!marker) {
          const std::string text = to_lower(cfb.read(e, 2048));
          marker = text.starts_with("id=\"") || text.find("module=") != std::string::npos ||
                   text.find("document=") != std::string::npos;
        }
        if (marker) {
          vba_marker = true;
          if (marker_detail.empty()) marker_detail = "stream " + shown(cfb.path_of(i));
        }
      } else if (iequals(n, "\x01Ole10Native")) {
        if (s.children >= kMaxChildren) continue;
        ++s.children;
        const std::string data = cfb.read(e);
        if (data.size() > 4) inspect_ole_package(std::string_view(data).substr(4), blob, insp);
      } else if (iequals(n, "\x01Ole")) {
        check_ole_link(s, cfb.read(e, 64u << 10), i);
      } else if (iequals(n, "EncryptionInfo") || iequals(n, "EncryptedPackage")) {
        encrypted_pkg = true;
      } else if (iequals(n, "Equation Native")) {
        equation = true;
        equation_detail = "stream " + shown(cfb.path_of(i));
      } else if (iequals(n,
                         "\x01"
                         "CompObj")) {
        const std::string data = cfb.read(e, 4096);
        if (to_lower(data).find("equation.3") != std::string::npos) {
          equation = true;
          equation_detail = "CompObj names Equation.3 at " + shown(cfb.path_of(i));
        }
      } else if (iequals(n, "WordDocument")) {
        const std::string fib = cfb.read(e, 64);
        if (le16(fib, 0) == 0xA5EC && (le16(fib, 0x0A) & 0x0100u) != 0)
          insp.symbol(blob, "DOC_ENCRYPTED", "WordDocument FIB has fEncrypted set");
      } else if (iequals(n, "Workbook") || iequals(n, "Book")) {
        const std::string wb = cfb.read(e);
        check_workbook(s, wb);
      } else if (iequals(n, "Package") && s.children < kMaxChildren) {
        // An embedded OOXML document (ObjectPool/_NNN/Package) or similar: the chain opens it.
        const std::string data = cfb.read(e);
        if (data.size() >= 4 && data.compare(0, 4, "PK\x03\x04") == 0 && insp.count_member(blob) &&
            insp.charge(blob, data.size())) {
          ++s.children;
          const std::string& kept = insp.keep(data);
          insp.inspect_blob(
              Blob{kept, child_location(blob.location, cfb.path_of(i)), {}, "", blob.depth + 1});
        }
      }
    }
    std::vector<std::string> stream_names;
    for (std::uint32_t st : vba_storages) check_vba(s, st, stream_names);
    if (vba_storages.empty() && vba_marker) insp.symbol(blob, "DOC_VBA_MACRO", marker_detail);
    if (encrypted_pkg)
      insp.symbol(blob, "DOC_ENCRYPTED", "EncryptionInfo/EncryptedPackage (encrypted OOXML)");
    if (equation) insp.symbol(blob, "DOC_EQUATION_EDITOR", equation_detail);
  } catch (const std::exception&) {
    // Allocation failure on hostile input: what was found so far stands.
  }
}

}  // namespace bulwark::inspect
