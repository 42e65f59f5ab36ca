// Bulwark against clamscan on a hostile corpus generated here: EICAR raw, in attachments,
// in archives (zip, tar.gz, 7z, tar.xz, zip inside tar.gz), in a message/rfc822 chain ten
// deep, quoted-printable, uuencoded inside text, and behind MIME tricks (a second
// Content-Type that makes the part multipart, "base-64" as the transfer encoding, base64
// with junk characters). Both scanners use the same test database, built here.
//
// The assertion: every file clamscan flags, `bulwark scan` flags too, with a threat of kind
// "virus" (in-process and in sandboxed workers). The test prints a table of what each one
// finds, including what Bulwark finds that clamscan misses.
//
// Runs programs: clamscan (skipped if absent) and the bulwark binary (BULWARK_BINARY).
#include <gtest/gtest.h>

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include <clamav.h>
#pragma GCC diagnostic pop

namespace fs = std::filesystem;

namespace {

// EICAR's published test string, assembled so that no file of the repository holds it.
std::string eicar() {
  std::string s = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$";
  s += "EICAR-STANDARD-";
  s += "ANTIVIRUS-TEST-FILE!$H+H*";
  return s;
}

std::string hex(const std::string& s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += d[c >> 4];
    out += d[c & 15];
  }
  return out;
}

std::string md5_hex(const std::string& s) {
  unsigned char out[16];
  unsigned int len = sizeof out;
  if (!cl_hash_data("md5", s.data(), s.size(), out, &len)) return "";
  return hex(std::string(reinterpret_cast<const char*>(out), len));
}

std::string base64(const std::string& in, std::size_t line = 76) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t col = 0;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    const unsigned b0 = static_cast<unsigned char>(in[i]);
    const unsigned b1 = i + 1 < in.size() ? static_cast<unsigned char>(in[i + 1]) : 0;
    const unsigned b2 = i + 2 < in.size() ? static_cast<unsigned char>(in[i + 2]) : 0;
    const unsigned v = (b0 << 16) | (b1 << 8) | b2;
    out += t[(v >> 18) & 63];
    out += t[(v >> 12) & 63];
    out += i + 1 < in.size() ? t[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? t[v & 63] : '=';
    if ((col += 4) >= line) {
      out += "\r\n";
      col = 0;
    }
  }
  if (col) out += "\r\n";
  return out;
}

// Every byte as =XX: the text never appears literally.
std::string qp_all(const std::string& in) {
  static const char* d = "0123456789ABCDEF";
  std::string out;
  std::size_t col = 0;
  for (unsigned char c : in) {
    if (col + 3 > 72) {
      out += "=\r\n";
      col = 0;
    }
    out += '=';
    out += d[c >> 4];
    out += d[c & 15];
    col += 3;
  }
  return out;
}

std::string uuencode(const std::string& in, const std::string& name) {
  auto enc = [](unsigned v) { return static_cast<char>(v ? (v & 63) + 32 : '`'); };
  std::string out = "begin 644 " + name + "\r\n";
  for (std::size_t i = 0; i < in.size(); i += 45) {
    const std::string chunk = in.substr(i, 45);
    out += enc(static_cast<unsigned>(chunk.size()));
    for (std::size_t j = 0; j < chunk.size(); j += 3) {
      const unsigned b0 = static_cast<unsigned char>(chunk[j]);
      const unsigned b1 = j + 1 < chunk.size() ? static_cast<unsigned char>(chunk[j + 1]) : 0;
      const unsigned b2 = j + 2 < chunk.size() ? static_cast<unsigned char>(chunk[j + 2]) : 0;
      out += enc(b0 >> 2);
      out += enc(((b0 << 4) | (b1 >> 4)) & 63);
      out += enc(((b1 << 2) | (b2 >> 6)) & 63);
      out += enc(b2 & 63);
    }
    out += "\r\n";
  }
  return out + "`\r\nend\r\n";
}

struct Member {
  std::string name;
  std::string data;
};

// format: "zip", "7zip", "pax"; filter: "", "gzip", "xz".
std::string make_archive(const std::string& format, const std::string& filter,
                         const std::vector<Member>& members) {
  archive* a = archive_write_new();
  if (format == "zip")
    archive_write_set_format_zip(a);
  else if (format == "7zip")
    archive_write_set_format_7zip(a);
  else
    archive_write_set_format_pax_restricted(a);
  if (filter == "gzip") archive_write_add_filter_gzip(a);
  if (filter == "xz") archive_write_add_filter_xz(a);
  std::string buf(4 << 20, '\0');
  size_t used = 0;
  archive_write_open_memory(a, buf.data(), buf.size(), &used);
  for (const auto& m : members) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, m.name.c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(m.data.size()));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_write_header(a, e);
    archive_write_data(a, m.data.data(), m.data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  buf.resize(used);
  return buf;
}

const std::string kHead =
    "From: sender@example.com\r\nTo: rcpt@example.com\r\nDate: Mon, 3 Jul 2023 10:00:00 +0000\r\n"
    "MIME-Version: 1.0\r\n";

// A message with a text part and one attachment, encoded as given.
std::string with_attachment(const std::string& subject, const std::string& name,
                            const std::string& type, const std::string& cte,
                            const std::string& encoded) {
  return kHead + "Subject: " + subject +
         "\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
         "--b1\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n"
         "--b1\r\nContent-Type: " +
         type + "; name=\"" + name + "\"\r\nContent-Disposition: attachment; filename=\"" + name +
         "\"\r\nContent-Transfer-Encoding: " + cte + "\r\n\r\n" + encoded + "\r\n--b1--\r\n";
}

std::string b64_attachment(const std::string& subject, const std::string& name,
                           const std::string& type, const std::string& data) {
  return with_attachment(subject, name, type, "base64", base64(data));
}

// message/rfc822 nested `depth` deep around a message carrying EICAR.
std::string nested_rfc822(int depth) {
  std::string inner = b64_attachment("innermost", "eicar.com", "application/octet-stream", eicar());
  for (int i = 0; i < depth; ++i) {
    inner = kHead + "Subject: level " + std::to_string(depth - i) +
            "\r\nContent-Type: multipart/mixed; boundary=\"n" + std::to_string(i) +
            "\"\r\n\r\n--n" + std::to_string(i) +
            "\r\nContent-Type: text/plain\r\n\r\nforwarded\r\n--n" + std::to_string(i) +
            "\r\nContent-Type: message/rfc822\r\n\r\n" + inner + "\r\n--n" + std::to_string(i) +
            "--\r\n";
  }
  return inner;
}

std::map<std::string, std::string> hostile_corpus() {
  const std::string e = eicar();
  const std::string zip = make_archive("zip", "", {{"eicar.com", e}});
  std::map<std::string, std::string> c;
  c["01_raw_eicar.com"] = e;
  c["02_base64_attachment.eml"] = b64_attachment("b64", "eicar.com", "application/octet-stream", e);
  c["03_zip.eml"] = b64_attachment("zip", "invoice.zip", "application/zip", zip);
  c["04_tar_gz.eml"] = b64_attachment("tgz", "docs.tar.gz", "application/gzip",
                                      make_archive("pax", "gzip", {{"eicar.com", e}}));
  c["05_7z.eml"] = b64_attachment("7z", "docs.7z", "application/x-7z-compressed",
                                  make_archive("7zip", "", {{"eicar.com", e}}));
  c["06_tar_xz.eml"] = b64_attachment("txz", "docs.tar.xz", "application/x-xz",
                                      make_archive("pax", "xz", {{"eicar.com", e}}));
  c["07_zip_in_tar_gz.eml"] =
      b64_attachment("nested", "bundle.tar.gz", "application/gzip",
                     make_archive("pax", "gzip", {{"readme.txt", "hello\n"}, {"inner.zip", zip}}));
  c["08_rfc822_10_deep.eml"] = nested_rfc822(10);
  c["09_quoted_printable.eml"] =
      with_attachment("qp", "eicar.txt", "text/plain", "quoted-printable", qp_all(e));
  c["10_uuencode_in_text.eml"] = kHead +
                                 "Subject: uu\r\nContent-Type: text/plain\r\n\r\n"
                                 "Here is the file:\r\n\r\n" +
                                 uuencode(e, "eicar.com") + "\r\nBye.\r\n";
  // A second Content-Type: readers that keep the last one see multipart.
  c["11_dup_content_type.eml"] =
      kHead +
      "Subject: dup ct\r\nContent-Type: text/plain\r\nContent-Type: multipart/mixed; "
      "boundary=\"d1\"\r\n\r\n--d1\r\nContent-Type: text/plain\r\n\r\nhi\r\n--d1\r\n"
      "Content-Type: application/octet-stream; name=\"e.com\"\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n" +
      base64(e) + "--d1--\r\n";
  c["12_cte_base-64.eml"] =
      with_attachment("base-64", "eicar.com", "application/octet-stream", "base-64", base64(e));
  std::string junk;
  for (char ch : base64(e, 1000)) {
    junk += ch;
    if (ch != '\r' && ch != '\n' && ch != '=') junk += "!";
  }
  c["13_base64_junk_chars.eml"] =
      with_attachment("junk", "eicar.com", "application/octet-stream", "base64", junk);
  c["14_clean.eml"] = kHead + "Subject: clean\r\nContent-Type: text/plain\r\n\r\nHello.\r\n";
  return c;
}

void write_file(const fs::path& p, const std::string& data) {
  std::ofstream f(p, std::ios::binary);
  f << data;
}

struct Run {
  int status = -1;
  std::string out;
};

Run run(const std::string& cmd) {
  Run r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  r.status = ::pclose(p);
  return r;
}

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

bool have_clamscan() {
  return run("command -v clamscan >/dev/null 2>&1; echo $?").out == "0\n";
}

struct TempDir {
  fs::path path;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "bulwark-sbs-XXXXXX").string();
    if (::mkdtemp(t.data())) path = t;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path.empty() && !std::getenv("BULWARK_KEEP_CORPUS")) fs::remove_all(path, ec);
  }
};

// File name -> signature names clamscan reports.
std::map<std::string, std::set<std::string>> clamscan(const fs::path& db, const fs::path& dir,
                                                      std::string& raw) {
  const Run r = run("clamscan --no-summary -r -d " + quote(db.string()) + " " +
                    quote(dir.string()) + " 2>&1");
  raw = r.out;
  std::map<std::string, std::set<std::string>> out;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    const std::string found = " FOUND";
    if (line.size() <= found.size() ||
        line.compare(line.size() - found.size(), found.size(), found))
      continue;
    const std::size_t colon = line.rfind(": ", line.size() - found.size());
    if (colon == std::string::npos) continue;
    const fs::path file = line.substr(0, colon);
    out[file.filename().string()].insert(
        line.substr(colon + 2, line.size() - found.size() - colon - 2));
  }
  return out;
}

struct BulwarkFinding {
  std::set<std::string> viruses;  // threat names of kind "virus"
  std::set<std::string> other;    // other threats, "kind:name"
  std::string action;
  std::set<std::string> symbols;
};

std::map<std::string, BulwarkFinding> bulwark(const fs::path& config, const fs::path& dir,
                                              const std::string& extra, std::string& raw) {
  const Run r = run(std::string(BULWARK_BINARY) + " scan --no-progress --format json --config " +
                    quote(config.string()) + " " + extra + " " + quote(dir.string()) + " 2>&1");
  raw = r.out;
  std::map<std::string, BulwarkFinding> out;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] != '{') continue;
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("file")) continue;
    BulwarkFinding& f = out[fs::path(j["file"].get<std::string>()).filename().string()];
    f.action = j.value("action", "");
    for (const auto& t : j.value("threats", nlohmann::json::array())) {
      const std::string kind = t.value("kind", ""), name = t.value("name", "");
      if (kind == "virus")
        f.viruses.insert(name);
      else
        f.other.insert(kind + ":" + name);
    }
    for (const auto& s : j.value("symbols", nlohmann::json::array()))
      f.symbols.insert(s.value("name", ""));
  }
  return out;
}

std::string join(const std::set<std::string>& s) {
  std::string out;
  for (const auto& x : s) out += (out.empty() ? "" : ",") + x;
  return out.empty() ? "-" : out;
}

class SideBySide : public ::testing::TestWithParam<const char*> {};

}  // namespace

TEST_P(SideBySide, BulwarkFlagsEverythingClamscanFlags) {
  if (!have_clamscan()) GTEST_SKIP() << "clamscan not installed";
  ASSERT_TRUE(fs::exists(BULWARK_BINARY)) << BULWARK_BINARY;
  TempDir tmp;
  ASSERT_FALSE(tmp.path.empty());
  const fs::path db = tmp.path / "db", corpus = tmp.path / "corpus";
  fs::create_directories(db);
  fs::create_directories(corpus);
  const std::string e = eicar();
  // EICAR by whole-file MD5, and its bytes anywhere (so text around it still matches).
  write_file(db / "bulwark-test.hdb",
             md5_hex(e) + ":" + std::to_string(e.size()) + ":Bulwark.Test.EICAR\n");
  write_file(db / "bulwark-test.ndb", "Bulwark.Test.EICAR.Body:0:*:" + hex(e) + "\n");
  const fs::path config = tmp.path / "bulwark.toml";
  write_file(config, "[inspect]\nclamav_database = \"" + db.string() + "\"\n");
  const auto files = hostile_corpus();
  for (const auto& [name, data] : files) write_file(corpus / name, data);

  std::string clam_raw, bulwark_raw;
  const auto clam = clamscan(db, corpus, clam_raw);
  const auto bw = bulwark(config, corpus, GetParam(), bulwark_raw);
  ASSERT_FALSE(clam.empty()) << "clamscan found nothing: the test database is not used?\n"
                             << clam_raw;
  ASSERT_FALSE(bw.empty()) << "no verdicts from bulwark\n" << bulwark_raw;

  std::printf("\nbulwark scan %s\n%-28s %-34s %-34s %s\n", GetParam(), "file", "clamscan",
              "bulwark (virus)", "bulwark (action; other threats)");
  std::vector<std::string> missed_by_clamscan, missed_by_bulwark;
  for (const auto& [name, data] : files) {
    const auto c = clam.find(name);
    const auto b = bw.find(name);
    const std::set<std::string> none;
    const std::set<std::string>& cv = c == clam.end() ? none : c->second;
    const std::set<std::string>& bv = b == bw.end() ? none : b->second.viruses;
    std::printf(
        "%-28s %-34s %-34s %s%s%s\n", name.c_str(), join(cv).c_str(), join(bv).c_str(),
        b == bw.end() ? "(no verdict)" : b->second.action.c_str(),
        b == bw.end() || b->second.other.empty() ? "" : "; ",
        b == bw.end() ? "" : (b->second.other.empty() ? "" : join(b->second.other).c_str()));
    if (!cv.empty() && bv.empty()) missed_by_bulwark.push_back(name);
    if (cv.empty() && !bv.empty()) missed_by_clamscan.push_back(name);
  }
  std::printf("\nBulwark finds, clamscan misses (%zu):", missed_by_clamscan.size());
  for (const auto& n : missed_by_clamscan) std::printf(" %s", n.c_str());
  std::printf("\nclamscan finds, Bulwark misses (%zu):", missed_by_bulwark.size());
  for (const auto& n : missed_by_bulwark) std::printf(" %s", n.c_str());
  std::printf("\n");

  for (const auto& n : missed_by_bulwark)
    ADD_FAILURE() << n << ": clamscan flags it (" << join(clam.at(n))
                  << "), bulwark has no virus threat; symbols: "
                  << (bw.count(n) ? join(bw.at(n).symbols) : "(no verdict)");
  // The clean message stays clean for both.
  EXPECT_EQ(clam.count("14_clean.eml"), 0u);
  ASSERT_TRUE(bw.count("14_clean.eml")) << bulwark_raw;
  EXPECT_TRUE(bw.at("14_clean.eml").viruses.empty());
  if (HasFailure()) std::printf("bulwark output:\n%s\n", bulwark_raw.c_str());
}

INSTANTIATE_TEST_SUITE_P(Modes, SideBySide, ::testing::Values("--no-sandbox", "--workers 2"),
                         [](const ::testing::TestParamInfo<const char*>& i) {
                           return std::string(i.param[2] == 'n' ? "InProcess" : "Sandboxed");
                         });
