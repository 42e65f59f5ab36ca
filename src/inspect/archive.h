// Archives through libarchive, in memory: zip (streaming and central-directory readings),
// tar (all variants), gz/bz2/xz/zstd/lz4/lzma/compress filters, 7z, rar 4/5, cab, iso9660,
// cpio, ar, xar, lha. Every member any reader could see is handed back to the chain as a
// child Blob; names and entry types are checked (names.h); bombs and encryption are named.
#pragma once

#include <cstddef>
#include <string_view>

#include "inspect/inspect.h"

namespace bulwark::inspect {

// True when the bytes start like an archive or compressed stream libarchive reads.
bool looks_like_archive(std::string_view bytes);

// Unpacks `blob` and inspects every member (Inspector::inspect_blob), within the limits.
// Symbols: ARCHIVE_ENCRYPTED, ARCHIVE_PASSWORD_FOUND, ARCHIVE_BOMB_RATIO, ARCHIVE_BOMB_SIZE,
// ARCHIVE_BOMB_NESTED, ARCHIVE_BOMB_OVERLAP, ARCHIVE_CORRUPT, ARCHIVE_NAME_MISMATCH,
// ARCHIVE_TRAILING_DATA, INSPECT_LIMIT_MEMBERS, INSPECT_LIMIT_DEPTH.
void inspect_archive(const Blob& blob, Inspector& insp);

// Offset of an archive appended to or embedded in other data (an image with a zip after
// it, a polyglot), or npos. Conservative: only structures an unpacker would really open.
std::size_t find_embedded_archive(std::string_view bytes);

}  // namespace bulwark::inspect
