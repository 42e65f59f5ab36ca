// The true type of a blob, from its bytes (libmagic plus our own sniffing for what
// libmagic names vaguely), never from its name.
#pragma once

#include <string>
#include <string_view>

namespace bulwark::inspect {

class Engines;

enum class Family {
  kUnknown, kText, kHtml, kArchive, kOle, kOoxml, kRtf, kPdf, kImage,
  kExecutable,  // PE, ELF, Mach-O, and scripts a desktop runs (js, vbs, ps1, bat, hta, ...)
  kShortcut,    // Windows .lnk
  kDiskImage,   // iso, img, vhd(x)
  kOneNote,
};

struct FileType {
  std::string mime;         // libmagic's MIME type, e.g. "application/x-dosexec"
  std::string description;  // libmagic's description, first 120 bytes
  Family family = Family::kUnknown;
  std::string kind;         // short name for symbols and details: "pe", "elf", "zip", ...
};

// libmagic is asked only when our own sniffing found nothing and `ask_magic` is true: it
// is by far the slowest step of inspection (most of its CPU on the SpamAssassin corpus).
FileType identify(std::string_view bytes, const Engines& engines, bool ask_magic = true);

}  // namespace bulwark::inspect
