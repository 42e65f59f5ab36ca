// File-name checks for attachment names and archive member names: the exploit pattern of
// CVE-2023-2868 (shell syntax in a TAR member name), traversal, absolute paths, bidi
// tricks, double extensions, dangerous extensions, over-long names.
#pragma once

#include <string_view>

#include "inspect/inspect.h"

namespace bulwark::inspect {

enum class NameOrigin { kAttachment, kArchiveMember };

// Raises symbols (FILE_NAME_*) and, for shell syntax / traversal / absolute paths, a
// threat of kind "exploit" (names: EXPLOIT_SHELL_IN_FILENAME, EXPLOIT_PATH_TRAVERSAL,
// EXPLOIT_ABSOLUTE_PATH). Details carry the name escaped for display.
void check_name(const Blob& where, std::string_view name, NameOrigin origin, Inspector& insp);

// Extensions that run code when opened on Windows, macOS or Linux desktops.
bool dangerous_extension(std::string_view name);

}  // namespace bulwark::inspect
