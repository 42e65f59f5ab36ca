#include "gmime_walk.h"

#include <mutex>
#include <string>

// GMime's headers and its GObject cast macros (expanded in this file) are C: old-style
// casts, variadic macros. Keep Bulwark's warnings for our code, silence these few.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wcast-align"
#include <gmime/gmime.h>

#include "core/hash.h"

namespace bulwark::testing {

namespace {

// Owns one GObject reference.
template <typename T>
struct Ref {
  T* p = nullptr;
  explicit Ref(T* q) : p(q) {}
  Ref(const Ref&) = delete;
  Ref& operator=(const Ref&) = delete;
  ~Ref() {
    if (p) g_object_unref(p);
  }
};

GMimeMessage* parse(std::string_view raw) {
  // The mem stream copies the buffer: GMime needs a stream it can seek in.
  Ref<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(raw.data(), raw.size()));
  Ref<GMimeParser> parser(g_mime_parser_new_with_stream(stream.p));
  return g_mime_parser_construct_message(parser.p, nullptr);
}

// Decodes the part's content (transfer encoding only) into `out`; returns its size.
std::size_t decode_leaf(GMimePart* part, std::string* out) {
  GMimeDataWrapper* content = g_mime_part_get_content(part);
  if (!content) return 0;
  Ref<GMimeStream> mem(g_mime_stream_mem_new());
  g_mime_data_wrapper_write_to_stream(content, mem.p);
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem.p));
  if (out) out->assign(reinterpret_cast<const char*>(bytes->data), bytes->len);
  return bytes->len;
}

// Depth-first: multipart children in order, the embedded message of a message part.
template <typename Visit>
void walk(GMimeObject* obj, int depth, const Visit& visit) {
  if (!obj || depth > 200) return;
  if (GMIME_IS_MULTIPART(obj)) {
    GMimeMultipart* mp = GMIME_MULTIPART(obj);
    const int n = g_mime_multipart_get_count(mp);
    for (int i = 0; i < n; ++i) walk(g_mime_multipart_get_part(mp, i), depth + 1, visit);
  } else if (GMIME_IS_MESSAGE_PART(obj)) {
    GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
    if (inner) walk(g_mime_message_get_mime_part(inner), depth + 1, visit);
  } else if (GMIME_IS_PART(obj)) {
    visit(GMIME_PART(obj));
  }
}

}  // namespace

void gmime_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

std::string gmime_version() {
  return std::to_string(gmime_major_version) + "." + std::to_string(gmime_minor_version) + "." +
         std::to_string(gmime_micro_version);
}

std::vector<GmimeLeaf> gmime_leaves(std::string_view raw) {
  gmime_init_once();
  std::vector<GmimeLeaf> out;
  Ref<GMimeMessage> msg(parse(raw));
  if (!msg.p) return out;
  walk(g_mime_message_get_mime_part(msg.p), 0, [&](GMimePart* part) {
    GmimeLeaf leaf;
    char* type =
        g_mime_content_type_get_mime_type(g_mime_object_get_content_type(GMIME_OBJECT(part)));
    if (type) {
      leaf.content_type = type;
      for (char& c : leaf.content_type) c = static_cast<char>(g_ascii_tolower(c));
      g_free(type);
    }
    const char* enc = g_mime_content_encoding_to_string(g_mime_part_get_content_encoding(part));
    leaf.encoding = enc ? enc : "";
    leaf.size = decode_leaf(part, &leaf.payload);
    leaf.sha256 = sha256_hex(leaf.payload);
    out.push_back(std::move(leaf));
  });
  return out;
}

GmimeCount gmime_parse(std::string_view raw, bool decode) {
  gmime_init_once();
  GmimeCount c;
  Ref<GMimeMessage> msg(parse(raw));
  if (!msg.p) return c;
  walk(g_mime_message_get_mime_part(msg.p), 0, [&](GMimePart* part) {
    ++c.leaves;
    if (decode) c.decoded_bytes += decode_leaf(part, nullptr);
  });
  return c;
}

}  // namespace bulwark::testing

#pragma GCC diagnostic pop
