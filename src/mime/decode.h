// Body decoders: base64, quoted-printable, uuencode, yEnc, BinHex 4.0, x-gzip64; and the
// finder for uuencode / yEnc / BinHex blocks embedded in text bodies.
//
// Every decoder is lenient the way real mail clients are (they decode what they can) and
// reports every deviation from the strict form in its stats, so the caller can raise a
// symbol. Every decoder appends to `out` and stops at `max_out` bytes (stats.truncated).
//   std::string out; Base64Stats st;
//   decode_base64(body, Base64Mode::kContinue, 1 << 20, out, st);
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::mime {

// What a decoder noticed. Zero / false means the input was in strict, canonical form.
struct DecodeStats {
  std::size_t junk_bytes = 0;       // bytes outside the alphabet that were skipped
  bool bad_padding = false;         // missing '=' padding, or too much
  bool padding_in_middle = false;   // '=' padding followed by more data (base64)
  bool broken_escapes = false;      // QP '=' not followed by two hex digits (kept literally)
  bool lowercase_hex = false;       // QP '=3d' style escapes
  bool long_lines = false;          // QP/base64 lines over 76 chars (RFC 2045 limit)
  bool bad_checksum = false;        // yEnc crc32 / BinHex crc mismatch
  bool bad_length = false;          // uuencode line length char / yEnc size disagrees
  bool incomplete = false;          // ended before its end marker
  bool truncated = false;           // stopped at max_out
};

enum class Base64Mode {
  kContinue,       // after "=" padding, keep decoding what follows (Thunderbird, GMime)
  kStopAtPadding,  // stop at the first padding (many strict decoders)
};

// Appends the decoded bytes of `in` to `out`. Skips whitespace and junk characters.
void decode_base64(std::string_view in, Base64Mode mode, std::size_t max_out, std::string& out,
                   DecodeStats& stats);

// True when `in` is (with whitespace) entirely base64 alphabet with at most trailing
// padding, and at least `min_chars` alphabet characters: a body that "looks base64".
bool looks_like_base64(std::string_view in, std::size_t min_chars);

// Quoted-printable (RFC 2045 6.7): soft line breaks ("=" at line end, with trailing
// whitespace too), lower-case hex accepted, broken escapes kept literally.
void decode_qp(std::string_view in, std::size_t max_out, std::string& out, DecodeStats& stats);

// RFC 2047 "Q" encoding: like QP, and '_' is a space.
void decode_q(std::string_view in, std::string& out, DecodeStats& stats);

// A body in uuencode form ("begin MODE NAME" ... "end"). Returns the file name in `name`.
void decode_uuencode(std::string_view in, std::size_t max_out, std::string& out, std::string& name,
                     DecodeStats& stats);

// A yEnc block ("=ybegin ... name=X", data, "=yend ..."), multi-part markers tolerated.
void decode_yenc(std::string_view in, std::size_t max_out, std::string& out, std::string& name,
                 DecodeStats& stats);

// BinHex 4.0 ("(This file must be converted with BinHex 4.0)", ':' ... ':'): the data fork.
void decode_binhex(std::string_view in, std::size_t max_out, std::string& out, std::string& name,
                   DecodeStats& stats);

// x-gzip64: base64 of a gzip stream, as some clients decode. Gunzips with a size cap
// (a gzip bomb sets stats.truncated, never exhausts memory).
void decode_gzip64(std::string_view in, std::size_t max_out, std::string& out, DecodeStats& stats);

// A file found inside a text body.
struct EmbeddedBlock {
  enum class Kind { kUuencode, kYenc, kBinHex } kind;
  std::size_t begin = 0;  // offset of the block's first byte (the begin line) in the text
  std::size_t end = 0;    // offset just past the block (its end line, or end of text)
};

// Finds uuencode ("begin 644 name"), yEnc ("=ybegin ") and BinHex blocks at line starts.
// At most `max_blocks`; linear in the size of `text`.
std::vector<EmbeddedBlock> find_embedded_blocks(std::string_view text, std::size_t max_blocks);

}  // namespace bulwark::mime
