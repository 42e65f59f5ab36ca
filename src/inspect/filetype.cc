#include "inspect/filetype.h"

#include <magic.h>

#include <cstring>

#include "inspect/archive.h"
#include "inspect/engines.h"

namespace bulwark::inspect {

namespace {

bool at(std::string_view b, std::size_t off, std::string_view sig) {
  return b.size() >= off + sig.size() && b.substr(off, sig.size()) == sig;
}

std::uint32_t le32(std::string_view b, std::size_t off) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i)
    v = (v << 8) | static_cast<unsigned char>(b[off + static_cast<std::size_t>(i)]);
  return v;
}

// A PE file: "MZ", and e_lfanew pointing at "PE\0\0" inside the file.
bool is_pe(std::string_view b) {
  if (!at(b, 0, "MZ") || b.size() < 0x40) return false;
  const std::uint32_t off = le32(b, 0x3c);
  return off < b.size() && at(b, off, std::string_view("PE\0\0", 4));
}

std::string_view skip_bom_and_space(std::string_view b) {
  if (b.starts_with("\xEF\xBB\xBF")) b.remove_prefix(3);
  while (!b.empty() && (b.front() == ' ' || b.front() == '\t' || b.front() == '\r' ||
                        b.front() == '\n'))
    b.remove_prefix(1);
  return b;
}

bool istarts(std::string_view b, std::string_view prefix) {
  return b.size() >= prefix.size() && strncasecmp(b.data(), prefix.data(), prefix.size()) == 0;
}

// What comes before an XML document's root element: the <?xml ...?> declaration,
// processing instructions, comments and a <!DOCTYPE ...> (internal subset included). SVG
// and XHTML files start this way; the root element after it is what a browser runs.
std::string_view skip_xml_prolog(std::string_view b) {
  for (int items = 0; items < 64; ++items) {
    b = skip_bom_and_space(b);
    std::size_t end = std::string_view::npos;
    if (b.starts_with("<?")) {
      end = b.find("?>");
      if (end != std::string_view::npos) end += 2;
    } else if (b.starts_with("<!--")) {
      end = b.find("-->", 4);
      if (end != std::string_view::npos) end += 3;
    } else if (istarts(b, "<!doctype") && !istarts(b, "<!doctype html")) {
      const std::size_t bracket = b.find('['), close = b.find('>');
      if (bracket != std::string_view::npos && bracket < close) {
        end = b.find("]", bracket);
        if (end != std::string_view::npos) end = b.find('>', end);
      } else {
        end = close;
      }
      if (end != std::string_view::npos) end += 1;
    } else {
      return b;
    }
    if (end == std::string_view::npos) return {};
    b.remove_prefix(end);
  }
  return b;
}

// Our own sniffing first: precise for what attackers send, and independent of how a
// libmagic version happens to describe it.
bool sniff(std::string_view b, FileType& t) {
  auto set = [&](Family f, const char* kind) {
    t.family = f;
    t.kind = kind;
    return true;
  };
  if (is_pe(b)) return set(Family::kExecutable, "pe");
  if (at(b, 0, "MZ")) return set(Family::kExecutable, "dos-mz");
  if (at(b, 0, "\x7f" "ELF")) return set(Family::kExecutable, "elf");
  for (const char* m : {"\xfe\xed\xfa\xce", "\xfe\xed\xfa\xcf", "\xce\xfa\xed\xfe", "\xcf\xfa\xed\xfe"})
    if (at(b, 0, std::string_view(m, 4))) return set(Family::kExecutable, "macho");
  if (at(b, 0, std::string_view("\xca\xfe\xba\xbe", 4)) && b.size() > 8) {
    // Fat Mach-O and Java class files share a magic: a class file's major version is >= 45.
    const unsigned major = (static_cast<unsigned char>(b[6]) << 8) | static_cast<unsigned char>(b[7]);
    return set(Family::kExecutable, major >= 45 ? "java-class" : "macho-fat");
  }
  if (at(b, 0, "#!")) return set(Family::kExecutable, "script");
  if (at(b, 0, std::string_view("\x4c\x00\x00\x00\x01\x14\x02\x00", 8))) return set(Family::kShortcut, "lnk");
  if (at(b, 0, std::string_view("\xe4\x52\x5c\x7b\x8c\xd8\xa7\x4d", 8))) return set(Family::kOneNote, "onenote");
  if (at(b, 0, std::string_view("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8))) return set(Family::kOle, "ole2");
  if (at(b, 0, "{\\rt")) return set(Family::kRtf, "rtf");
  const std::string_view head = b.substr(0, std::min<std::size_t>(b.size(), 1024));
  if (head.find("%PDF-") != std::string_view::npos) return set(Family::kPdf, "pdf");
  for (std::size_t off : {0x8001u, 0x8801u, 0x9001u})
    if (at(b, off, "CD001")) return set(Family::kDiskImage, "iso9660");
  if (at(b, 0, "vhdxfile")) return set(Family::kDiskImage, "vhdx");
  if (b.size() >= 512 && at(b, b.size() - 512, "conectix")) return set(Family::kDiskImage, "vhd");
  if (b.size() >= 512 && at(b, b.size() - 512, "koly")) return set(Family::kDiskImage, "dmg");
  if (at(b, 0, "PK\x03\x04")) {
    const bool ooxml = head.find("[Content_Types].xml") != std::string_view::npos ||
                       b.substr(0, std::min<std::size_t>(b.size(), 64u << 10)).find("[Content_Types].xml") !=
                           std::string_view::npos;
    return set(ooxml ? Family::kOoxml : Family::kArchive, ooxml ? "ooxml" : "zip");
  }
  if (looks_like_archive(b)) return set(Family::kArchive, "archive");
  const std::string_view text = skip_xml_prolog(b.substr(0, std::min<std::size_t>(b.size(), 16u << 10)));
  if (istarts(text, "<!doctype html") || istarts(text, "<html") || istarts(text, "<head") ||
      istarts(text, "<body") || istarts(text, "<script") || istarts(text, "<svg"))
    return set(Family::kHtml, "html");
  for (const char* m : {"\x89PNG", "GIF8", "\xff\xd8\xff"})
    if (at(b, 0, m)) return set(Family::kImage, "image");
  return false;
}

}  // namespace

FileType identify(std::string_view bytes, const Engines& engines, bool ask_magic) {
  FileType t;
  if (sniff(bytes, t)) return t;
  if (ask_magic && engines.magic()) {
    const char* mime = magic_buffer(static_cast<magic_t>(engines.magic()), bytes.data(), bytes.size());
    if (mime) t.mime = mime;
  }
  if (t.family == Family::kUnknown) {
    if (t.mime.starts_with("text/html")) {
      t.family = Family::kHtml, t.kind = "html";
    } else if (t.mime.starts_with("text/")) {
      t.family = Family::kText, t.kind = "text";
    } else if (t.mime.starts_with("image/")) {
      t.family = Family::kImage, t.kind = "image";
    }
  }
  return t;
}

}  // namespace bulwark::inspect
