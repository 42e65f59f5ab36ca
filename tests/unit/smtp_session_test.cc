// The SMTP protocol state machine, without sockets: every reply code, every limit, and
// every published SMTP smuggling sequence replayed against it.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "smtp/session.h"

namespace bulwark::smtp {
namespace {

// EHLO must be answered before the client goes on (RFC 2920); MAIL and RCPT may be pipelined.
const std::string kEnvelope = "MAIL FROM:<a@sender.test>\r\nRCPT TO:<b@example.com>\r\n";

struct Harness {
  explicit Harness(ClientInfo client = {"192.0.2.1", false, false, false, false}) : session(settings, client) {
    settings.check_recipient = [](const std::string& a, bool relay) -> std::string {
      if (a.ends_with("@example.com") || relay) return "";
      return "554 5.7.1 <" + a + ">: Relay access denied";
    };
    settings.check_password = [](const std::string& u, const std::string& p) { return u == "alice" && p == "secret"; };
    session.start();
    session.output().clear();
  }
  void envelope() {
    feed("EHLO client.test\r\n");
    feed(kEnvelope);
  }
  // Feeds bytes; every complete message is accepted with 250 and collected.
  std::string feed(const std::string& bytes) {
    session.feed(bytes);
    while (session.state() == Session::State::kMessageReady) {
      messages.push_back(session.take_message());
      session.finish_message("250 2.0.0 Ok: queued");
    }
    std::string out = session.output();
    session.output().clear();
    return out;
  }
  SessionSettings settings;
  Session session;
  std::vector<Session::Message> messages;
};


TEST(SmtpSession, GreetingAndEhloAdvertiseExtensions) {
  SessionSettings s;
  s.max_message_bytes = 12345;
  Session session(s, ClientInfo{"192.0.2.1", false, false, false, true});
  session.start();
  EXPECT_EQ(session.output(), "220 bulwark.localhost ESMTP Bulwark\r\n");
  session.output().clear();
  session.feed("EHLO client.test\r\n");
  const std::string& out = session.output();
  EXPECT_TRUE(out.starts_with("250-bulwark.localhost\r\n")) << out;
  for (const char* ext : {"PIPELINING", "SIZE 12345", "STARTTLS", "ENHANCEDSTATUSCODES", "8BITMIME", "SMTPUTF8", "DSN", "CHUNKING"})
    EXPECT_NE(out.find(ext), std::string::npos) << ext;
  EXPECT_EQ(out.find("AUTH"), std::string::npos);  // not on the inbound listener
  EXPECT_TRUE(out.ends_with("250 CHUNKING\r\n"));
}

TEST(SmtpSession, PlainMessageIsUnstuffedAndExact) {
  Harness h;
  h.envelope();
  EXPECT_EQ(h.feed("DATA\r\n"), "354 End data with <CR><LF>.<CR><LF>\r\n");
  h.feed("Subject: hi\r\n\r\n..leading dot\r\n.\r\n");
  ASSERT_EQ(h.messages.size(), 1u);
  EXPECT_EQ(h.messages[0].data, "Subject: hi\r\n\r\n.leading dot\r\n");
  EXPECT_EQ(h.messages[0].envelope.mail_from, "a@sender.test");
  ASSERT_EQ(h.messages[0].envelope.recipients.size(), 1u);
  EXPECT_EQ(h.messages[0].envelope.recipients[0].address, "b@example.com");
  EXPECT_EQ(h.messages[0].envelope.client_helo, "client.test");
  EXPECT_EQ(h.messages[0].envelope.client_ip, "192.0.2.1");
  EXPECT_EQ(h.messages[0].envelope.id.size(), 20u);
}

TEST(SmtpSession, SecondMessageOfASessionKeepsTheHeloName) {
  Harness h;
  h.envelope();
  h.feed("DATA\r\n");
  h.feed("one\r\n.\r\n");
  h.feed(kEnvelope);
  h.feed("DATA\r\n");
  h.feed("two\r\n.\r\n");
  ASSERT_EQ(h.messages.size(), 2u);
  EXPECT_EQ(h.messages[0].envelope.client_helo, "client.test");
  EXPECT_EQ(h.messages[1].envelope.client_helo, "client.test");
}

TEST(SmtpSession, PipelinedTransactionGetsRepliesInOrder) {
  Harness h;
  h.feed("EHLO c\r\n");
  const std::string out = h.feed("MAIL FROM:<a@s.test>\r\nRCPT TO:<b@example.com>\r\nRCPT TO:<x@other.test>\r\nDATA\r\n");
  EXPECT_EQ(out, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n554 5.7.1 <x@other.test>: Relay access denied\r\n354 End data with <CR><LF>.<CR><LF>\r\n");
}

TEST(SmtpSession, NotAnOpenRelay) {
  Harness h;
  h.feed("EHLO c\r\n");
  h.feed("MAIL FROM:<a@s.test>\r\n");
  EXPECT_EQ(h.feed("RCPT TO:<victim@elsewhere.test>\r\n"), "554 5.7.1 <victim@elsewhere.test>: Relay access denied\r\n");
  EXPECT_EQ(h.feed("DATA\r\n"), "554 5.5.1 Error: no valid recipients\r\n");
  EXPECT_TRUE(h.messages.empty());
}

TEST(SmtpSession, TrustedClientMayRelay) {
  Harness h(ClientInfo{"10.0.0.5", true, false, false, false});
  h.feed("EHLO c\r\n");
  h.feed("MAIL FROM:<a@s.test>\r\n");
  EXPECT_EQ(h.feed("RCPT TO:<someone@elsewhere.test>\r\n"), "250 2.1.5 Ok\r\n");
}

TEST(SmtpSession, CommandOrderAndSyntaxErrors) {
  Harness h;
  EXPECT_EQ(h.feed("MAIL FROM:<a@s.test>\r\n"), "503 5.5.1 Error: send HELO/EHLO first\r\n");
  h.feed("EHLO c\r\n");
  EXPECT_EQ(h.feed("RCPT TO:<b@example.com>\r\n"), "503 5.5.1 Error: need MAIL command\r\n");
  EXPECT_EQ(h.feed("MAIL FROM:a@s.test\r\n"), "501 5.1.7 Error: address must be in angle brackets\r\n");
  EXPECT_EQ(h.feed("MAIL FROM:<a@s.test> FOO=1\r\n"), "555 5.5.4 Error: unsupported parameter FOO\r\n");
  EXPECT_EQ(h.feed("MAIL FROM:<a@s.test> BODY=BINARYMIME\r\n"), "555 5.5.4 Error: BODY=BINARYMIME not supported\r\n");
  EXPECT_EQ(h.feed("MAIL FROM:<a@s.test>\r\n"), "250 2.1.0 Ok\r\n");
  EXPECT_EQ(h.feed("MAIL FROM:<a@s.test>\r\n"), "503 5.5.1 Error: nested MAIL command\r\n");
  EXPECT_EQ(h.feed("RCPT TO:<bad address@example.com>\r\n"), "501 5.1.3 Error: malformed address\r\n");
  EXPECT_EQ(h.feed("VRFY x\r\n"), "252 2.5.2 Cannot VRFY user, but will accept message and attempt delivery\r\n");
  EXPECT_EQ(h.feed("EXPN x\r\n"), "502 5.5.1 Error: EXPN not supported\r\n");
  EXPECT_EQ(h.feed("FOO\r\n"), "500 5.5.2 Error: command not recognized\r\n");
  EXPECT_EQ(h.feed("NOOP\r\n"), "250 2.0.0 Ok\r\n");
  EXPECT_EQ(h.feed("RSET\r\n"), "250 2.0.0 Ok\r\n");
  EXPECT_EQ(h.feed("QUIT\r\n"), "221 2.0.0 Bye\r\n");
  EXPECT_EQ(h.session.state(), Session::State::kClosed);
}

TEST(SmtpSession, NullSenderAndPostmaster) {
  Harness h;
  h.feed("EHLO c\r\n");
  EXPECT_EQ(h.feed("MAIL FROM:<>\r\n"), "250 2.1.0 Ok\r\n");
  h.settings.check_recipient = [](const std::string& a, bool) { return a == "postmaster@bulwark.localhost" ? "" : "550 no"; };
  EXPECT_EQ(h.feed("RCPT TO:<Postmaster>\r\n"), "250 2.1.5 Ok\r\n");
}

TEST(SmtpSession, SizeLimitAnnouncedAndEnforced) {
  Harness h;
  h.settings.max_message_bytes = 100;
  h.feed("EHLO c\r\n");
  EXPECT_EQ(h.feed("MAIL FROM:<a@s.test> SIZE=101\r\n"), "552 5.3.4 Error: message size exceeds the limit of 100 bytes\r\n");
  h.feed("MAIL FROM:<a@s.test> SIZE=50\r\nRCPT TO:<b@example.com>\r\n");
  h.feed("DATA\r\n");
  EXPECT_EQ(h.feed(std::string(200, 'x') + "\r\n.\r\n"), "552 5.3.4 Error: message size exceeds the limit of 100 bytes\r\n");
  EXPECT_TRUE(h.messages.empty());
  // The session goes on: a small message is accepted.
  h.feed("MAIL FROM:<a@s.test>\r\nRCPT TO:<b@example.com>\r\n");
  h.feed("DATA\r\n");
  EXPECT_EQ(h.feed("small\r\n.\r\n"), "250 2.0.0 Ok: queued\r\n");
  EXPECT_EQ(h.messages.size(), 1u);
}

TEST(SmtpSession, RecipientLimit) {
  Harness h;
  h.settings.max_recipients = 2;
  h.feed("EHLO c\r\n");
  h.feed("MAIL FROM:<a@s.test>\r\n");
  EXPECT_EQ(h.feed("RCPT TO:<1@example.com>\r\n"), "250 2.1.5 Ok\r\n");
  EXPECT_EQ(h.feed("RCPT TO:<2@example.com>\r\n"), "250 2.1.5 Ok\r\n");
  EXPECT_EQ(h.feed("RCPT TO:<3@example.com>\r\n"), "452 4.5.3 Error: too many recipients\r\n");
}

TEST(SmtpSession, LongLines) {
  Harness h;
  h.settings.max_command_line = 600;
  h.settings.max_data_line = 1000;
  h.feed("EHLO c\r\n");
  EXPECT_EQ(h.feed("NOOP " + std::string(700, 'a') + "\r\n"), "500 5.5.2 Error: line too long\r\n");
  h.feed("MAIL FROM:<a@s.test>\r\nRCPT TO:<b@example.com>\r\n");
  h.feed("DATA\r\n");
  // Sent in pieces: the long line is dropped as it comes, the message refused at its end.
  h.feed(std::string(3000, 'y'));
  h.feed(std::string(3000, 'y'));
  EXPECT_EQ(h.feed("\r\n.\r\n"), "554 5.6.0 Error: message has a line longer than 1000 bytes\r\n");
  EXPECT_TRUE(h.messages.empty());
}

TEST(SmtpSession, TooManyErrorsDisconnects) {
  Harness h;
  h.settings.max_errors = 3;
  h.feed("EHLO c\r\n");
  const std::string out = h.feed("FOO\r\n");
  h.feed("BAR\r\n");
  EXPECT_EQ(h.feed("BAZ\r\n"), "500 5.5.2 Error: command not recognized\r\n421 4.7.0 bulwark.localhost Error: too many errors\r\n");
  EXPECT_EQ(h.session.state(), Session::State::kClosed);
}

TEST(SmtpSession, DsnParametersKept) {
  Harness h;
  h.feed("EHLO c\r\n");
  EXPECT_EQ(h.feed("MAIL FROM:<a@s.test> RET=HDRS ENVID=abc+2Bdef\r\n"), "250 2.1.0 Ok\r\n");
  EXPECT_EQ(h.feed("RCPT TO:<b@example.com> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b+40example.com\r\n"), "250 2.1.5 Ok\r\n");
  EXPECT_EQ(h.feed("RCPT TO:<c@example.com> NOTIFY=NEVER,SUCCESS\r\n"), "501 5.5.4 Error: bad NOTIFY parameter\r\n");
  h.feed("DATA\r\n");
  h.feed("x\r\n.\r\n");
  ASSERT_EQ(h.messages.size(), 1u);
  const Envelope& e = h.messages[0].envelope;
  EXPECT_EQ(e.ret, "HDRS");
  EXPECT_EQ(e.envid, "abc+def");
  EXPECT_EQ(e.recipients[0].notify, "SUCCESS,FAILURE");
  EXPECT_EQ(e.recipients[0].orcpt, "rfc822;b@example.com");
}

TEST(SmtpSession, BdatChunksAreLengthFramed) {
  Harness h;
  h.envelope();
  // A chunk containing what DATA would take as the end marker is just bytes.
  const std::string chunk1 = "Subject: x\r\n\r\nline\r\n.\r\nMAIL FROM:<evil@x>\r\n";
  EXPECT_EQ(h.feed("BDAT " + std::to_string(chunk1.size()) + "\r\n" + chunk1),
            "250 2.0.0 " + std::to_string(chunk1.size()) + " octets received\r\n");
  const std::string chunk2 = "end\r\n";
  EXPECT_EQ(h.feed("BDAT " + std::to_string(chunk2.size()) + " LAST\r\n" + chunk2), "250 2.0.0 Ok: queued\r\n");
  ASSERT_EQ(h.messages.size(), 1u);
  EXPECT_EQ(h.messages[0].data, chunk1 + chunk2);
}

TEST(SmtpSession, BdatSplitAcrossReadsAndPipelined) {
  Harness h;
  h.feed("EHLO c\r\n");
  const std::string body = "Subject: y\r\n\r\nhello\r\n";
  const std::string all = "MAIL FROM:<a@s.test>\r\nRCPT TO:<b@example.com>\r\nBDAT " + std::to_string(body.size()) +
                          " LAST\r\n" + body + "QUIT\r\n";
  std::string out;
  for (char c : all) out += h.feed(std::string(1, c));  // one byte at a time
  EXPECT_EQ(out, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok: queued\r\n221 2.0.0 Bye\r\n");
  ASSERT_EQ(h.messages.size(), 1u);
  EXPECT_EQ(h.messages[0].data, body);
}

TEST(SmtpSession, BdatWithBareLineFeedIsRefused) {
  Harness h;
  h.envelope();
  const std::string chunk = "Subject: x\r\n\r\na\n.\nb\r\n";
  EXPECT_EQ(h.feed("BDAT " + std::to_string(chunk.size()) + " LAST\r\n" + chunk),
            "554 5.6.0 Error: message contains a bare <CR> or <LF>\r\n");
  EXPECT_TRUE(h.messages.empty());
}

TEST(SmtpSession, DataAfterBdatAndBdatWithoutRecipients) {
  Harness h;
  h.feed("EHLO c\r\n");
  h.feed("MAIL FROM:<a@s.test>\r\n");
  EXPECT_EQ(h.feed("BDAT 3 LAST\r\nabc"), "554 5.5.1 Error: no valid recipients\r\n");
  EXPECT_EQ(h.feed("BDAT x\r\n"), "501 5.5.4 Syntax: BDAT size [LAST]\r\n");
  EXPECT_EQ(h.session.state(), Session::State::kClosed);
}

// Every published smuggling sequence, each followed by a would-be second message. Only CRLF
// . CRLF ends DATA: the session must hang up (521) or keep it all in one message, and never
// accept a second message from the smuggled bytes.
TEST(SmtpSession, SmugglingSequencesNeverSplitAMessage) {
  const std::vector<std::string> ends = {
      "\n.\n", "\n.\r\n", "\r.\r", "\r\n.\r", "\r\n.\n", "\r.\r\n", "\r\n.\r\r\n", std::string("\r\n\x00.\r\n", 6),
      std::string("\r\n.\x00\r\n", 6), "\r\n\r.\r\n", "\n\n.\n\n", "\r\r\n.\r\r\n", "\r\n.\n\r\n",
      "\n.\r\r\n", "\r\n .\r\n",
  };
  const std::string smuggled =
      "MAIL FROM:<admin@bank.test>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nSubject: SMUGGLED\r\n\r\nforged\r\n.\r\n";
  for (const auto& end : ends) {
    SCOPED_TRACE(::testing::PrintToString(end));
    Harness h;
    h.envelope();
    h.feed("DATA\r\n");
    h.feed("Subject: real\r\n\r\nbody" + end + smuggled);
    if (h.session.state() != Session::State::kClosed) h.feed("\r\n.\r\n");
    // At most the real message; never a message that starts with the smuggled one.
    ASSERT_LE(h.messages.size(), 1u);
    for (const auto& m : h.messages) {
      EXPECT_TRUE(m.data.starts_with("Subject: real")) << m.data;
      EXPECT_EQ(m.envelope.mail_from, "a@sender.test");
    }
  }
}

TEST(SmtpSession, BareLineFeedInDataHangsUp) {
  Harness h;
  h.envelope();
  h.feed("DATA\r\n");
  EXPECT_EQ(h.feed("Subject: x\r\n\r\nbody\n.\n"),
            "521 5.5.2 Error: bare <CR> or <LF> received in message data; lines must end with <CR><LF>\r\n");
  EXPECT_EQ(h.session.state(), Session::State::kClosed);
  EXPECT_TRUE(h.messages.empty());
}

TEST(SmtpSession, NulInDataRefusesTheMessage) {
  Harness h;
  h.envelope();
  h.feed("DATA\r\n");
  EXPECT_EQ(h.feed(std::string("a\0b\r\n.\r\n", 8)), "554 5.6.0 Error: message contains NUL characters\r\n");
  EXPECT_TRUE(h.messages.empty());
}

TEST(SmtpSession, TrustedNormalisingNetworkTurnsBareLfIntoCrlf) {
  Harness h(ClientInfo{"10.0.0.9", true, /*normalize_bare_lf=*/true, false, false});
  h.feed("EHLO c\n");
  h.feed("MAIL FROM:<a@s.test>\nRCPT TO:<b@example.com>\n");
  h.feed("DATA\n");
  h.feed("Subject: legacy\n\nline\n.\n");
  ASSERT_EQ(h.messages.size(), 1u);
  EXPECT_EQ(h.messages[0].data, "Subject: legacy\r\n\r\nline\r\n");
}

TEST(SmtpSession, BareLineFeedInCommandHangsUp) {
  Harness h;
  EXPECT_EQ(h.feed("EHLO c\n"), "521 5.5.2 Error: bare <CR> or <LF> received; lines must end with <CR><LF>\r\n");
  EXPECT_EQ(h.session.state(), Session::State::kClosed);
}

TEST(SmtpSession, ImproperPipeliningIsRefused) {
  {  // Data sent before the 354.
    Harness h;
    h.envelope();
    EXPECT_EQ(h.feed("DATA\r\nSubject: early\r\n\r\nx\r\n.\r\n"),
              "554 5.5.0 Error: command sent ahead of the server's reply (improper pipelining)\r\n");
    EXPECT_TRUE(h.messages.empty());
  }
  {  // Commands after EHLO before its reply.
    Harness h;
    EXPECT_EQ(h.feed("EHLO c\r\nMAIL FROM:<a@s.test>\r\n"),
              "554 5.5.0 Error: command sent ahead of the server's reply (improper pipelining)\r\n");
  }
  {  // HELO clients did not negotiate PIPELINING at all.
    Harness h;
    h.feed("HELO c\r\n");
    EXPECT_EQ(h.feed("MAIL FROM:<a@s.test>\r\nRCPT TO:<b@example.com>\r\n"),
              "554 5.5.0 Error: command sent ahead of the server's reply (improper pipelining)\r\n");
  }
}

TEST(SmtpSession, EarlyTalkerIsRefused) {
  SessionSettings s;
  Session session(s, ClientInfo{});
  session.early_talker();
  EXPECT_EQ(session.output(), "554 5.5.1 Error: SMTP protocol violation: client talked before the greeting\r\n");
  EXPECT_EQ(session.state(), Session::State::kClosed);
}

TEST(SmtpSession, StartTlsInjectionIsRefused) {
  Harness h(ClientInfo{"192.0.2.1", false, false, false, true});
  h.feed("EHLO c\r\n");
  EXPECT_EQ(h.feed("STARTTLS\r\nMAIL FROM:<a@s.test>\r\n"),
            "554 5.5.0 Error: data sent after STARTTLS before the TLS handshake\r\n");
  Harness ok(ClientInfo{"192.0.2.1", false, false, false, true});
  ok.feed("EHLO c\r\n");
  EXPECT_EQ(ok.feed("STARTTLS\r\n"), "220 2.0.0 Ready to start TLS\r\n");
  EXPECT_EQ(ok.session.state(), Session::State::kStartTls);
  ok.session.tls_started();
  EXPECT_EQ(ok.feed("MAIL FROM:<a@s.test>\r\n"), "503 5.5.1 Error: send HELO/EHLO first\r\n");
}

TEST(SmtpSession, AuthOnlyOnSubmissionAfterTls) {
  Harness inbound;
  inbound.feed("EHLO c\r\n");
  EXPECT_EQ(inbound.feed("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"), "503 5.5.1 Error: authentication not enabled\r\n");

  Harness sub(ClientInfo{"192.0.2.1", false, false, /*submission=*/true, true});
  sub.feed("EHLO c\r\n");
  EXPECT_EQ(sub.feed("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"),
            "538 5.7.11 Encryption required for requested authentication mechanism\r\n");
  EXPECT_EQ(sub.feed("MAIL FROM:<a@s.test>\r\n"), "530 5.7.0 Error: authentication required\r\n");
  sub.feed("STARTTLS\r\n");
  sub.session.tls_started();
  const std::string ehlo = sub.feed("EHLO c\r\n");
  EXPECT_NE(ehlo.find("AUTH PLAIN LOGIN"), std::string::npos);
  EXPECT_EQ(ehlo.find("STARTTLS"), std::string::npos);
  EXPECT_EQ(sub.feed("AUTH PLAIN AGFsaWNlAHdyb25n\r\n"), "535 5.7.8 Error: authentication credentials invalid\r\n");
  EXPECT_EQ(sub.feed("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"), "235 2.7.0 Authentication successful\r\n");
  EXPECT_EQ(sub.feed("MAIL FROM:<a@s.test>\r\n"), "250 2.1.0 Ok\r\n");
  // Authenticated submitters may send anywhere.
  EXPECT_EQ(sub.feed("RCPT TO:<x@elsewhere.test>\r\n"), "250 2.1.5 Ok\r\n");
}

TEST(SmtpSession, AuthLoginDialogue) {
  Harness sub(ClientInfo{"192.0.2.1", false, false, true, true});
  sub.feed("EHLO c\r\n");
  sub.feed("STARTTLS\r\n");
  sub.session.tls_started();
  sub.feed("EHLO c\r\n");
  EXPECT_EQ(sub.feed("AUTH LOGIN\r\n"), "334 VXNlcm5hbWU6\r\n");
  EXPECT_EQ(sub.feed("YWxpY2U=\r\n"), "334 UGFzc3dvcmQ6\r\n");
  EXPECT_EQ(sub.feed("c2VjcmV0\r\n"), "235 2.7.0 Authentication successful\r\n");
}

}  // namespace
}  // namespace bulwark::smtp
