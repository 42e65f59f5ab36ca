// DSN construction (RFC 3464) and NOTIFY handling (RFC 3461): structure, CRLF lines, the
// original message or its headers, and no way for envelope data to inject a header.
#include <gtest/gtest.h>

#include <string>

#include "smtp/dsn.h"

using namespace bulwark;
using smtp::build_dsn;
using smtp::DsnInfo;
using smtp::DsnRecipient;
using smtp::wants_dsn;

namespace {

const std::string kOriginal =
    "From: alice@example.org\r\nTo: bob@example.com\r\nSubject: hi\r\n\r\nbody line\r\n.leading dot\r\n";

DsnInfo sample() {
  DsnInfo info;
  info.reporting_mta = "gw.example.org";
  info.from_address = "MAILER-DAEMON@gw.example.org";
  info.original.mail_from = "alice@example.org";
  info.original.envid = "ENV-1";
  info.original.received_at = 1700000000;  // Tue, 14 Nov 2023 22:13:20 +0000
  info.recipients.push_back({"bob@example.com", "rfc822;Bob@Example.com", "failed", "5.1.1",
                             "dns; mx.example.com", "smtp; 550 5.1.1 no such user", 1700000100});
  info.original_message = kOriginal;
  info.now = 1700000200;
  info.message_id = "dsn-1@gw.example.org";
  return info;
}

bool every_line_crlf(const std::string& s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) return false;
    if (s[i] == '\r' && (i + 1 == s.size() || s[i + 1] != '\n')) return false;
  }
  return s.ends_with("\r\n");
}

std::string header_block(const std::string& m) { return m.substr(0, m.find("\r\n\r\n") + 2); }

TEST(Dsn, FailureReportStructure) {
  const std::string m = build_dsn(sample());
  EXPECT_TRUE(every_line_crlf(m));
  const std::string h = header_block(m);
  EXPECT_NE(h.find("Date: Tue, 14 Nov 2023 22:16:40 +0000\r\n"), std::string::npos) << h;
  EXPECT_NE(h.find("From: Mail Delivery System <MAILER-DAEMON@gw.example.org>\r\n"), std::string::npos);
  EXPECT_NE(h.find("To: <alice@example.org>\r\n"), std::string::npos);
  EXPECT_NE(h.find("Subject: Undelivered Mail Returned to Sender\r\n"), std::string::npos);
  EXPECT_NE(h.find("Auto-Submitted: auto-replied\r\n"), std::string::npos);
  EXPECT_NE(h.find("Message-ID: <dsn-1@gw.example.org>\r\n"), std::string::npos);
  EXPECT_NE(h.find("MIME-Version: 1.0\r\n"), std::string::npos);
  EXPECT_NE(h.find("Content-Type: multipart/report; report-type=delivery-status;"), std::string::npos);

  const auto b = h.find("boundary=\"");
  ASSERT_NE(b, std::string::npos);
  const std::string boundary = h.substr(b + 10, h.find('"', b + 10) - b - 10);
  EXPECT_NE(m.find("\r\n--" + boundary + "\r\nContent-Description: Notification\r\nContent-Type: text/plain"),
            std::string::npos);
  EXPECT_NE(m.find("Content-Type: message/delivery-status\r\n\r\n"
                   "Reporting-MTA: dns; gw.example.org\r\n"
                   "Original-Envelope-Id: ENV-1\r\n"
                   "Arrival-Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
                   "\r\n"
                   "Original-Recipient: rfc822;Bob@Example.com\r\n"
                   "Final-Recipient: rfc822; bob@example.com\r\n"
                   "Action: failed\r\n"
                   "Status: 5.1.1\r\n"
                   "Remote-MTA: dns; mx.example.com\r\n"
                   "Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n"
                   "Last-Attempt-Date: Tue, 14 Nov 2023 22:15:00 +0000\r\n"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("Content-Type: message/rfc822\r\n\r\n" + kOriginal), std::string::npos);
  EXPECT_TRUE(m.ends_with("\r\n--" + boundary + "--\r\n"));
}

TEST(Dsn, HeadersOnlyWithRetHdrs) {
  DsnInfo info = sample();
  info.original.ret = "HDRS";
  const std::string m = build_dsn(info);
  EXPECT_NE(m.find("Content-Type: text/rfc822-headers\r\n\r\nFrom: alice@example.org\r\n"), std::string::npos);
  EXPECT_EQ(m.find("body line"), std::string::npos);
  EXPECT_EQ(m.find("message/rfc822"), std::string::npos);
}

TEST(Dsn, DelayedSubjectAndOptionalFields) {
  DsnInfo info = sample();
  info.original.envid.clear();
  info.recipients = {{"c@example.net", "", "delayed", "4.4.1", "", "", 0}};
  const std::string m = build_dsn(info);
  EXPECT_NE(m.find("Subject: Delayed Mail (still being retried)\r\n"), std::string::npos);
  EXPECT_EQ(m.find("Original-Envelope-Id"), std::string::npos);
  EXPECT_EQ(m.find("Original-Recipient"), std::string::npos);
  EXPECT_EQ(m.find("Remote-MTA"), std::string::npos);
  EXPECT_EQ(m.find("Last-Attempt-Date"), std::string::npos);
  EXPECT_NE(m.find("Action: delayed\r\nStatus: 4.4.1\r\n"), std::string::npos);
}

TEST(Dsn, NoHeaderInjectionFromEnvelope) {
  DsnInfo info = sample();
  info.original.mail_from = "alice@example.org>\r\nBcc: victim@example.net";
  info.original.envid = "x\r\nX-Injected: 1";
  info.recipients[0].address = "bob@example.com\r\nX-Injected: 2";
  info.recipients[0].diagnostic = "smtp; 550 bad\nX-Injected: 3";
  info.recipients[0].status = "5.1.1\r\nX-Injected: 4";
  info.reporting_mta = "gw\r\nX-Injected: 5";
  const std::string m = build_dsn(info);
  EXPECT_TRUE(every_line_crlf(m));
  EXPECT_EQ(m.find("\r\nBcc:"), std::string::npos);
  EXPECT_EQ(m.find("\r\nX-Injected"), std::string::npos);
  EXPECT_NE(m.find("Status: 5.0.0\r\n"), std::string::npos);  // an invalid status is replaced
}

TEST(Dsn, BareLfOriginalIsNormalisedAndBoundaryIsUnique) {
  DsnInfo info = sample();
  const std::string lf = "Subject: x\n\nline\n--=_bulwark_dsn_1700000200_\nno final newline";
  info.original_message = lf;
  const std::string m = build_dsn(info);
  EXPECT_TRUE(every_line_crlf(m));
  EXPECT_NE(m.find("line\r\n--=_bulwark_dsn_1700000200_\r\nno final newline\r\n"), std::string::npos);
}

TEST(Dsn, WantsDsn) {
  Recipient r{"a@b", "", ""};
  EXPECT_TRUE(wants_dsn(r, "failed"));
  EXPECT_TRUE(wants_dsn(r, "delayed"));
  EXPECT_FALSE(wants_dsn(r, "delivered"));
  r.notify = "NEVER";
  EXPECT_FALSE(wants_dsn(r, "failed"));
  EXPECT_FALSE(wants_dsn(r, "delayed"));
  r.notify = "SUCCESS,DELAY";
  EXPECT_TRUE(wants_dsn(r, "delivered"));
  EXPECT_TRUE(wants_dsn(r, "delayed"));
  EXPECT_FALSE(wants_dsn(r, "failed"));
  r.notify = "failure";
  EXPECT_TRUE(wants_dsn(r, "failed"));
  EXPECT_FALSE(wants_dsn(r, "delayed"));
  EXPECT_FALSE(wants_dsn(r, "bogus"));
}

}  // namespace
