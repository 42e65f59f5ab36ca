// Behaviour of the structural parser: every evasion in tests/golden/ must expose its
// hidden payload in some leaf (primary or view), and every limit must be hit, reported
// and survived.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/config.h"
#include "mime/parser.h"

using bulwark::MimeLimits;
using bulwark::mime::Message;
using bulwark::mime::Origin;
using bulwark::mime::parse_message;

namespace {

std::string golden(const std::string& name) {
  std::ifstream in(std::string(BULWARK_SOURCE_DIR) + "/tests/golden/" + name + ".eml",
                   std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Message parse(std::string raw, MimeLimits limits = {}) {
  return parse_message(std::move(raw), limits, bulwark::MimeConfig{});
}

// Leaves that start with the DOS "MZ" header: the golden inputs hide one such payload.
std::set<std::string> exe_leaves(const Message& m) {
  std::set<std::string> out;
  for (const auto& p : m.parts)
    if (p.is_leaf() && p.payload.starts_with("MZ")) out.insert(p.path);
  return out;
}

bool any_name(const Message& m, const std::string& name) {
  for (const auto& p : m.parts)
    for (const auto& n : p.names)
      if (n == name) return true;
  return false;
}

}  // namespace

// Each evasion hides an executable from one reading; some leaf must decode it anyway.
struct Evasion {
  const char* file;
  const char* symbol;
};

class Evasions : public testing::TestWithParam<Evasion> {};

TEST_P(Evasions, HiddenPayloadIsExposedAndNamed) {
  const Evasion e = GetParam();
  const Message m = parse(golden(e.file));
  EXPECT_TRUE(m.symbols.has(e.symbol)) << e.file << " should raise " << e.symbol;
  EXPECT_FALSE(exe_leaves(m).empty()) << e.file << ": no leaf decodes the hidden executable\n"
                                      << bulwark::mime::dump_tree(m);
  EXPECT_FALSE(m.limit_hit);
}

INSTANTIATE_TEST_SUITE_P(
    Golden, Evasions,
    testing::Values(Evasion{"dup_content_type", "MIME_DUP_CONTENT_TYPE"},
                    Evasion{"dup_cte", "MIME_DUP_CTE"},
                    Evasion{"dup_boundary", "MIME_DUP_BOUNDARY"},
                    Evasion{"boundary_2231", "MIME_PARAM_2231_CONFLICT"},
                    Evasion{"boundary_prefix", "MIME_BOUNDARY_PREFIX"},
                    Evasion{"bare_cr_header", "MIME_HEADER_BARE_CR"},
                    Evasion{"epilogue_content", "MIME_EPILOGUE_CONTENT"},
                    Evasion{"cte_nonstandard", "MIME_CTE_NONSTANDARD"},
                    Evasion{"base64_undeclared", "MIME_BASE64_UNDECLARED"},
                    Evasion{"uuencode_in_text", "MIME_EMBEDDED_UUENCODE"},
                    Evasion{"multipart_no_boundary", "MIME_MULTIPART_NO_BOUNDARY"},
                    Evasion{"name_filename_mismatch", "MIME_NAME_MISMATCH"}),
    [](const testing::TestParamInfo<Evasion>& i) { return std::string(i.param.file); });

TEST(Parser, CleanMessagesRaiseNothing) {
  for (const char* f : {"simple_text", "nested_rfc822"}) {
    const Message m = parse(golden(f));
    EXPECT_EQ(m.symbols.size(), 0u) << f << "\n" << bulwark::mime::dump_tree(m);
  }
}

// Links in a calendar invitation are shown as links by the mail client, attachment or
// not; links inside other attached documents (here an attached HTML file) are not the
// message's (inspection reads those).
TEST(Parser, CalendarInvitationLinksAreMessageLinks) {
  const Message m = parse(
      "From: a@example.net\r\nSubject: Invitation\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nJoin us.\r\n"
      "--B\r\nContent-Type: text/calendar; method=REQUEST\r\nContent-Disposition: attachment; filename=\"invite.ics\"\r\n\r\n"
      "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDESCRIPTION:Confirm at https://198.51.100.23/payroll\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
      "--B\r\nContent-Type: text/html\r\nContent-Disposition: attachment; filename=\"page.html\"\r\n\r\n"
      "<p>see https://report.example/q3</p>\r\n--B--\r\n");
  EXPECT_EQ(m.urls, std::vector<std::string>{"https://198.51.100.23/payroll"});
}

TEST(Parser, SinglePartBodyIsPartOne) {
  const Message m = parse(golden("simple_text"));
  ASSERT_EQ(m.parts.size(), 1u);
  EXPECT_EQ(m.root().path, "1");
  EXPECT_EQ(m.subject, "Lunch on Friday?");
  EXPECT_EQ(m.message_id, "<lunch-1@example.com>");
  ASSERT_EQ(m.from.size(), 1u);
  EXPECT_EQ(m.from[0].address(), "alice@example.com");
  EXPECT_EQ(m.urls, std::vector<std::string>{"https://example.com/menu"});
}

TEST(Parser, NestedMessageTree) {
  const Message m = parse(golden("nested_rfc822"));
  // message, 1 text, 2 message/rfc822, 2.1 inner multipart, 2.1.1 text, 2.1.2 exe
  std::vector<std::string> paths;
  for (const auto& p : m.parts) paths.push_back(p.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"", "1", "2", "2.1", "2.1.1", "2.1.2"}));
  EXPECT_EQ(exe_leaves(m), std::set<std::string>{"2.1.2"});
  EXPECT_TRUE(any_name(m, "invoice.exe"));
}

TEST(Parser, Rfc2231FilenameAndEncodedSubject) {
  const Message m = parse(golden("rfc2231_filename"));
  EXPECT_EQ(m.subject, "Caf\xC3\xA9 cr\xC3\xA8me");
  EXPECT_TRUE(any_name(m, "\xC3\xA9t\xC3\xA9 report.exe"));
  EXPECT_TRUE(m.symbols.has("MIME_RFC2231_OUT_OF_ORDER"));
}

TEST(Parser, EncodedMessageIsDecodedAndParsed) {
  const Message m = parse(golden("message_encoded"));
  EXPECT_TRUE(m.symbols.has("MIME_MESSAGE_ENCODED"));
  bool found = false;
  for (const auto& p : m.parts) found |= p.is_leaf() && p.text.find("secret inner text") == 0;
  EXPECT_TRUE(found) << bulwark::mime::dump_tree(m);
}

TEST(Parser, Base64PaddingInMiddleGivesBothReadings) {
  const Message m = parse(golden("base64_padding_middle"));
  EXPECT_TRUE(m.symbols.has("MIME_BASE64_PADDING_MIDDLE"));
  std::set<std::string> payloads;
  for (const auto& p : m.parts)
    if (p.is_leaf()) payloads.insert(std::string(p.payload));
  EXPECT_EQ(payloads, (std::set<std::string>{"first half!hidden second half", "first half!"}));
}

TEST(Parser, MissingCloseBoundaryKeepsLastPart) {
  const Message m = parse(golden("missing_close"));
  EXPECT_TRUE(m.symbols.has("MIME_MISSING_CLOSE_BOUNDARY"));
  ASSERT_EQ(m.root().children.size(), 2u);
  EXPECT_EQ(m.parts[static_cast<std::size_t>(m.root().children[1])].text,
            "second runs to the end\r\n");
}

TEST(Parser, BareLfInCrlfMessageGetsStrictView) {
  const Message m = parse(golden("bare_lf_in_crlf"));
  EXPECT_TRUE(m.symbols.has("MIME_MIXED_LINE_ENDINGS"));
  // LF reading: Content-Type text/html; CRLF-only reading: the Subject swallows it.
  ASSERT_EQ(m.root().views.size(), 1u);
  EXPECT_EQ(m.root().content_type, "text/html");
  EXPECT_EQ(m.parts[static_cast<std::size_t>(m.root().views[0])].content_type, "text/plain");
}

TEST(Parser, MboxFromLineIsNotAHeader) {
  const Message m = parse("From someone@example.com Mon Nov 23 10:00:00 2026\nSubject: x\n\nbody\n");
  EXPECT_EQ(m.subject, "x");
  EXPECT_EQ(m.symbols.size(), 0u);
}

TEST(Parser, MessageWithoutHeadersOrBody) {
  for (const char* raw : {"", "\n", "\r\n\r\n", "no colon here\n", ":\n", "Subject: only headers"}) {
    const Message m = parse(raw);
    ASSERT_GE(m.parts.size(), 1u) << raw;
    EXPECT_TRUE(m.root().is_leaf());
  }
}

// ---- limits ------------------------------------------------------------------------------

TEST(Limits, DeepNestingStopsAtMaxDepth) {
  std::string raw = "Subject: deep\r\n";
  for (int i = 0; i < 200; ++i)
    raw += "Content-Type: multipart/mixed; boundary=\"b" + std::to_string(i) + "\"\r\n\r\n--b" +
           std::to_string(i) + "\r\n";
  raw += "Content-Type: text/plain\r\n\r\nbottom\r\n";
  const Message m = parse(raw);
  EXPECT_TRUE(m.symbols.has("MIME_LIMIT_DEPTH"));
  EXPECT_TRUE(m.limit_hit);
  std::size_t max_depth = 0;
  for (const auto& p : m.parts) max_depth = std::max<std::size_t>(max_depth, p.depth);
  EXPECT_EQ(max_depth, MimeLimits{}.max_depth);
}

TEST(Limits, ManyPartsStopAtMaxParts) {
  std::string raw = "Content-Type: multipart/mixed; boundary=\"p\"\r\n\r\n";
  for (int i = 0; i < 100000; ++i) raw += "--p\r\n\r\nx\r\n";
  raw += "--p--\r\n";
  const Message m = parse(raw);
  EXPECT_TRUE(m.symbols.has("MIME_LIMIT_PARTS"));
  EXPECT_EQ(m.parts.size(), MimeLimits{}.max_parts);
}

TEST(Limits, HundredThousandPartsParseWhenAllowed) {
  std::string raw = "Content-Type: multipart/mixed; boundary=\"p\"\r\n\r\n";
  for (int i = 0; i < 100000; ++i) raw += "--p\r\nContent-Type: text/plain\r\n\r\nx\r\n";
  raw += "--p--\r\n";
  MimeLimits l;
  l.max_parts = 200000;
  const Message m = parse(raw, l);
  EXPECT_FALSE(m.limit_hit);
  EXPECT_EQ(m.parts.size(), 100001u);
  EXPECT_EQ(m.parts.back().path, "100000");
}

TEST(Limits, TenMegabyteHeaderLine) {
  std::string raw = "Subject: " + std::string(10u << 20, 'A') + "\r\nFrom: a@example.com\r\n\r\nbody\r\n";
  const Message m = parse(raw);
  EXPECT_TRUE(m.symbols.has("MIME_LIMIT_LINE_LENGTH"));
  EXPECT_TRUE(m.symbols.has("MIME_LIMIT_HEADER_BYTES"));
  EXPECT_EQ(m.root().payload, "body\r\n");  // the body is still found
}

TEST(Limits, TenMegabyteFoldedHeader) {
  std::string raw = "Subject: x";
  for (int i = 0; i < (1 << 20); ++i) raw += "\r\n folded";
  raw += "\r\n\r\nbody\r\n";
  const Message m = parse(raw);
  EXPECT_TRUE(m.symbols.has("MIME_LIMIT_HEADER_BYTES"));
  EXPECT_EQ(m.root().payload, "body\r\n");
}

TEST(Limits, TooManyHeaders) {
  std::string raw;
  for (int i = 0; i < 5000; ++i) raw += "X-H" + std::to_string(i) + ": v\r\n";
  raw += "\r\nbody";
  const Message m = parse(raw);
  EXPECT_TRUE(m.symbols.has("MIME_LIMIT_HEADERS"));
  EXPECT_EQ(m.root().headers.size(), MimeLimits{}.max_headers);
  EXPECT_EQ(m.root().payload, "body");
}

TEST(Limits, DecodedBytesCapAcrossParts) {
  std::string chunk(300000, 'A');  // decodes to 225,000 bytes each
  std::string raw = "Content-Type: multipart/mixed; boundary=\"d\"\r\n\r\n";
  for (int i = 0; i < 4; ++i)
    raw += "--d\r\nContent-Transfer-Encoding: base64\r\nContent-Type: application/octet-stream\r\n\r\n" +
           chunk + "\r\n";
  raw += "--d--\r\n";
  MimeLimits l;
  l.max_decoded_bytes = 500000;
  const Message m = parse(raw, l);
  EXPECT_TRUE(m.symbols.has("MIME_LIMIT_DECODED_BYTES"));
  EXPECT_LE(m.decoded_bytes, l.max_decoded_bytes);
}

TEST(Limits, MessageBytes) {
  MimeLimits l;
  l.max_message_bytes = 2048;
  const Message m = parse("Subject: big\r\n\r\n" + std::string(5000, 'x'), l);
  EXPECT_TRUE(m.symbols.has("MIME_LIMIT_MESSAGE_BYTES"));
  EXPECT_EQ(m.root().payload.size(), 2048u - 16u);
}

TEST(Limits, TimeBudget) {
  std::string raw = "Content-Type: multipart/mixed; boundary=\"t\"\r\n\r\n";
  for (int i = 0; i < 200000; ++i) raw += "--t\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n";
  MimeLimits l;
  l.max_parts = 1000000;
  l.max_time_ms = 1;
  const Message m = parse(raw, l);
  EXPECT_TRUE(m.symbols.has("MIME_LIMIT_TIME"));
  EXPECT_LT(m.parts.size(), 200001u);
}

TEST(Limits, AlternativeViews) {
  // Ten parts, each with three disagreeing Content-Types: 20 views wanted.
  std::string raw = "Content-Type: multipart/mixed; boundary=\"v\"\r\n\r\n";
  for (int i = 0; i < 10; ++i)
    raw += "--v\r\nContent-Type: text/plain\r\nContent-Type: text/html\r\nContent-Type: image/gif\r\n\r\nx\r\n";
  raw += "--v--\r\n";
  MimeLimits l;
  l.max_alternative_views = 5;
  const Message m = parse(raw, l);
  EXPECT_TRUE(m.symbols.has("MIME_LIMIT_VIEWS"));
  std::size_t views = 0;
  for (const auto& p : m.parts) views += p.origin == Origin::kView;
  EXPECT_EQ(views, 5u);
}
