#include "inspect/inspect.h"

#include <strings.h>

#include <algorithm>
#include <cstring>

#include "core/escape.h"
#include "inspect/archive.h"
#include "inspect/av.h"
#include "inspect/documents.h"
#include "inspect/engines.h"
#include "inspect/filetype.h"
#include "inspect/image.h"
#include "inspect/names.h"

namespace bulwark::inspect {

namespace {

std::string_view extension(std::string_view name) {
  const std::size_t slash = name.find_last_of("/\\");
  if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
  const std::size_t dot = name.rfind('.');
  return dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
}

bool ext_is(std::string_view ext, std::initializer_list<const char*> list) {
  for (const char* e : list)
    if (ext.size() == std::strlen(e) && strncasecmp(ext.data(), e, ext.size()) == 0) return true;
  return false;
}

// A name whose extension promises a harmless type, on content that is something else
// entirely (an executable named .pdf, a script named .jpg).
bool type_contradicts_name(const FileType& t, std::string_view name) {
  const std::string_view ext = extension(name);
  if (ext.empty()) return false;
  const bool harmless_ext = ext_is(ext, {"pdf", "txt", "jpg", "jpeg", "png", "gif", "bmp", "doc",
                                         "docx", "xls", "xlsx", "ppt", "pptx", "rtf", "csv", "htm",
                                         "html", "odt", "ods", "mp3", "mp4", "wav", "zip"});
  if (!harmless_ext) return false;
  switch (t.family) {
    case Family::kExecutable:
    case Family::kShortcut:
    case Family::kDiskImage:
    case Family::kOneNote: return true;
    case Family::kPdf: return !ext_is(ext, {"pdf"});
    default: return false;
  }
}

}  // namespace

std::string child_location(std::string_view parent, std::string_view name) {
  std::string out(parent);
  out += '/';
  out += name.empty() ? std::string_view("(unnamed)") : name;
  return out;
}

Inspector::Inspector(const Engines& engines, const InspectLimits& limits)
    : engines_(engines),
      limits_(limits),
      deadline_(std::chrono::steady_clock::now() + std::chrono::milliseconds(limits.max_time_ms)) {}

void Inspector::symbol(const Blob& where, std::string_view name, std::string detail) {
  for (const auto& f : results_.symbols)
    if (f.symbol == name && f.location == where.location && f.detail == detail) return;
  if (results_.symbols.size() >= 10000) return;
  results_.symbols.push_back(Finding{std::string(name), std::move(detail), where.location});
}

void Inspector::add_text(const Blob&, std::string_view text) {
  std::string& all = results_.text;
  const std::size_t sep = all.empty() ? 0 : 1;
  if (text.empty() || all.size() + sep >= kMaxDocumentText) return;
  std::size_t cut = std::min(text.size(), kMaxDocumentText - all.size() - sep);
  // A cut inside a character backs off to its first byte, so the text stays UTF-8.
  if (cut < text.size())
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  if (cut == 0) return;
  if (sep) all += '\n';
  all.append(text.substr(0, cut));
}

void Inspector::threat(const Blob& where, std::string_view kind, std::string name) {
  for (const auto& t : results_.threats)
    if (t.kind == kind && t.name == name && t.location == where.location) return;
  if (results_.threats.size() >= 10000) return;
  results_.threats.push_back(ThreatFinding{std::string(kind), std::move(name), where.location});
}

std::string& Inspector::keep(std::string bytes) { return kept_.emplace_back(std::move(bytes)); }

bool Inspector::charge(const Blob& where, std::size_t expanded_bytes) {
  if (budget_spent_) return false;
  results_.expanded_bytes += expanded_bytes;
  if (results_.expanded_bytes > limits_.max_expanded_bytes) {
    budget_spent_ = true;
    symbol(where, "INSPECT_LIMIT_EXPANDED_BYTES",
           "over inspect.max_expanded_bytes=" + std::to_string(limits_.max_expanded_bytes));
    return false;
  }
  return !out_of_time(where);
}

bool Inspector::out_of_time(const Blob& where) {
  if (time_spent_) return true;
  if (std::chrono::steady_clock::now() <= deadline_) return false;
  time_spent_ = true;
  symbol(where, "INSPECT_LIMIT_TIME", "over inspect.max_time_ms=" + std::to_string(limits_.max_time_ms));
  return true;
}

bool Inspector::count_member(const Blob& where) {
  if (members_spent_) return false;
  if (++members_ > limits_.max_members) {
    members_spent_ = true;
    symbol(where, "INSPECT_LIMIT_MEMBERS", "over inspect.max_members=" + std::to_string(limits_.max_members));
    return false;
  }
  return true;
}

void Inspector::inspect_blob(const Blob& blob) {
  if (out_of_time(blob)) return;
  ++results_.blobs;
  const NameOrigin origin = blob.depth == 0 ? NameOrigin::kAttachment : NameOrigin::kArchiveMember;
  for (const std::string& name : blob.names) check_name(blob, name, origin, *this);

  // A message's own text (declared text, no file name, not inside a container) only needs
  // our sniffing, which recognises every executable and container format by its bytes.
  const bool body_text = blob.depth == 0 && blob.names.empty() &&
                         blob.declared_type.starts_with("text/");
  // Inside containers our sniffing decides alone: libmagic per member was most of the
  // cost of walking an archive, and it knows nothing dangerous that the sniffer does not.
  FileType t = identify(blob.bytes, engines_, !body_text && blob.depth == 0);
  if (body_text && t.family == Family::kUnknown)
    t.family = blob.declared_type.starts_with("text/html") ? Family::kHtml : Family::kText;
  switch (t.family) {
    case Family::kExecutable:
    case Family::kShortcut:
    case Family::kDiskImage:
    case Family::kOneNote:
      symbol(blob, "FILE_DANGEROUS_TYPE", t.kind);
      break;
    default: break;
  }
  for (const std::string& name : blob.names)
    if (type_contradicts_name(t, name))
      symbol(blob, "FILE_TYPE_MISMATCH",
             "'" + escape_for_display(name) + "' is " + t.kind + " (" + t.mime + ")");

  // Signature engines see every blob, containers included (a signature may match the
  // container itself), and every member on its own.
  if (engines_.clamav()) scan_clamav(*engines_.clamav(), blob, *this);
  if (engines_.yara()) scan_yara(*engines_.yara(), blob, *this);

  if (blob.depth >= limits_.max_depth) {
    if (t.family == Family::kArchive || t.family == Family::kOoxml || t.family == Family::kOle ||
        t.family == Family::kPdf || t.family == Family::kRtf || t.family == Family::kDiskImage) {
      symbol(blob, "INSPECT_LIMIT_DEPTH", "not opened: deeper than inspect.max_depth=" +
                                             std::to_string(limits_.max_depth));
    }
    return;
  }
  switch (t.family) {
    case Family::kArchive:
    case Family::kOoxml:
    case Family::kDiskImage: inspect_archive(blob, *this); break;
    case Family::kOle: inspect_ole(blob, *this); break;
    case Family::kRtf: inspect_rtf(blob, *this); break;
    case Family::kPdf: inspect_pdf(blob, *this); break;
    case Family::kHtml:
      // An HTML body is text the MIME layer already read; an HTML *file* (attachment or
      // member) is a program the browser runs.
      if (!blob.names.empty() || blob.depth > 0) inspect_html_attachment(blob, *this);
      break;
    case Family::kImage:
      inspect_image(blob, *this);  // links in QR codes; then what may be appended to it
      [[fallthrough]];
    default: {
      // Data appended to an image or other file: a zip or 7z any unpacker would find.
      const std::size_t off = find_embedded_archive(blob.bytes);
      if (off != std::string_view::npos && off > 0) {
        symbol(blob, "FILE_APPENDED_ARCHIVE", "archive at offset " + std::to_string(off));
        Blob tail{blob.bytes.substr(off), blob.location + "#appended", {}, "", blob.depth + 1};
        inspect_archive(tail, *this);
      }
      break;
    }
  }
  if (blob.depth > 0)
    for (const std::string& name : blob.names)
      if (is_ooxml_part(name)) {
        inspect_ooxml_part(blob, *this);
        break;
      }
}

}  // namespace bulwark::inspect
