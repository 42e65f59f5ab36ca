// The embedded quarantine store: records and bytes round-trip, filters, ordering, id
// validation, tamper detection, status rules, persistence, threads, and the audit trail.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/hash.h"
#include "store/quarantine.h"

namespace bulwark::store {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  std::string path;
  TempDir() {
    std::string t = "/tmp/bulwark-quarantine-XXXXXX";
    if (::mkdtemp(t.data())) path = t;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

// A 20-hex-digit id like new_queue_id's, distinct per n.
std::string hex_id(unsigned n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0000a1b2c3d4%08x", n);
  return buf;
}

QuarantineRecord record(const std::string& id, std::int64_t at, const std::string& from,
                        std::vector<std::string> rcpts) {
  QuarantineRecord r;
  r.id = id;
  r.envelope.id = id;
  r.envelope.mail_from = from;
  for (auto& a : rcpts) r.envelope.recipients.push_back({a, "", ""});
  r.envelope.client_ip = "192.0.2.7";
  r.envelope.client_helo = "mx.example.net";
  r.envelope.tls = true;
  r.envelope.received_at = at;
  r.quarantined_at = at;
  r.action = "quarantine";
  r.score = 12.5;
  r.reason = "EXE_IN_ZIP";
  r.subject = "Invoice " + id;
  r.header_from = "\"Billing\" <" + from + ">";
  r.message_id = "<" + id + "@example.net>";
  r.verdict_json = R"({"action":"quarantine","score":12.5})";
  return r;
}

std::string body(const std::string& id) {
  return "Subject: Invoice " + id + "\r\n\r\nhello\r\n";
}

std::unique_ptr<QuarantineStore> open_ok(const std::string& dir) {
  auto s = QuarantineStore::open_embedded(dir);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return s.ok() ? std::move(s.value()) : nullptr;
}

// Queries by name; a partial designated initializer trips GCC's -Wmissing-field-initializers.
struct Q {
  QuarantineQuery q;
  Q& status(std::string v) {
    q.status = std::move(v);
    return *this;
  }
  Q& recipient(std::string v) {
    q.recipient = std::move(v);
    return *this;
  }
  Q& sender(std::string v) {
    q.sender = std::move(v);
    return *this;
  }
  Q& since(std::int64_t v) {
    q.since = v;
    return *this;
  }
  Q& limit(std::size_t v) {
    q.limit = v;
    return *this;
  }
  Q& offset(std::size_t v) {
    q.offset = v;
    return *this;
  }
  operator QuarantineQuery() const { return q; }  // NOLINT: implicit by design
};

QuarantineQuery any() {
  return Q().status("").limit(1000);
}

std::vector<std::string> ids(const std::vector<QuarantineRecord>& rs) {
  std::vector<std::string> out;
  for (const auto& r : rs) out.push_back(r.id);
  return out;
}

// Rows of the audit table for one id, as "action|by|detail", read straight from SQLite.
std::vector<std::string> audit_rows(const std::string& dir, const std::string& id) {
  std::vector<std::string> out;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2((dir + "/index.sqlite3").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) !=
      SQLITE_OK) {
    sqlite3_close(db);
    ADD_FAILURE() << "cannot open index";
    return out;
  }
  sqlite3_stmt* s = nullptr;
  const char* sql = "SELECT action, \"by\", detail, at FROM audit WHERE id = ? ORDER BY rowid";
  if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) == SQLITE_OK) {
    sqlite3_bind_text(s, 1, id.c_str(), -1, nullptr);
    while (sqlite3_step(s) == SQLITE_ROW) {
      std::string row;
      for (int i = 0; i < 3; ++i) {
        if (i) row += '|';
        row += reinterpret_cast<const char*>(sqlite3_column_text(s, i));
      }
      EXPECT_GT(sqlite3_column_int64(s, 3), 1600000000);
      out.push_back(row);
    }
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

TEST(StoreQuarantine, RoundTrip) {
  TempDir tmp;
  ASSERT_FALSE(tmp.path.empty());
  const std::string dir = tmp.path + "/q";
  auto store = open_ok(dir);
  ASSERT_TRUE(store);
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((dir + "/msg").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  const std::string id = "0123456789abcdef0123";
  auto rec = record(id, 1700000000, "bad@example.net", {"alice@example.com", "bob@example.com"});
  rec.envelope.recipients[0].notify = "SUCCESS,FAILURE";
  const std::string msg = body(id);
  auto put = store->put(rec, msg);
  ASSERT_TRUE(put.ok()) << put.error().message;
  EXPECT_TRUE(fs::exists(dir + "/msg/" + id + ".eml"));
  EXPECT_FALSE(fs::exists(dir + "/msg/" + id + ".eml.tmp"));

  auto got = store->get(id);
  ASSERT_TRUE(got.ok()) << got.error().message;
  const auto& g = got.value();
  EXPECT_EQ(g.id, id);
  EXPECT_EQ(g.envelope.id, id);
  EXPECT_EQ(g.envelope.mail_from, "bad@example.net");
  ASSERT_EQ(g.envelope.recipients.size(), 2u);
  EXPECT_EQ(g.envelope.recipients[0].address, "alice@example.com");
  EXPECT_EQ(g.envelope.recipients[0].notify, "SUCCESS,FAILURE");
  EXPECT_EQ(g.envelope.recipients[1].address, "bob@example.com");
  EXPECT_EQ(g.envelope.client_ip, "192.0.2.7");
  EXPECT_TRUE(g.envelope.tls);
  EXPECT_EQ(g.envelope.received_at, 1700000000);
  EXPECT_EQ(g.quarantined_at, 1700000000);
  EXPECT_EQ(g.action, "quarantine");
  EXPECT_DOUBLE_EQ(g.score, 12.5);
  EXPECT_EQ(g.reason, "EXE_IN_ZIP");
  EXPECT_EQ(g.subject, "Invoice " + id);
  EXPECT_EQ(g.header_from, "\"Billing\" <bad@example.net>");
  EXPECT_EQ(g.message_id, "<" + id + "@example.net>");
  EXPECT_EQ(g.verdict_json, R"({"action":"quarantine","score":12.5})");
  EXPECT_EQ(g.size, msg.size());
  EXPECT_EQ(g.sha256, sha256_hex(msg));
  EXPECT_EQ(g.status, "held");
  EXPECT_EQ(g.status_at, 1700000000);

  auto bytes = store->message(id);
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  EXPECT_EQ(bytes.value(), msg);

  auto all = store->list({});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(ids(all.value()), std::vector<std::string>{id});
  auto n = store->count({});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.value(), 1u);
}

TEST(StoreQuarantine, BinaryMessageAndEmptyFields) {
  TempDir tmp;
  auto store = open_ok(tmp.path + "/q");
  ASSERT_TRUE(store);
  auto rec = record("abc", 1700000000, "", {"x@example.com"});  // null sender
  rec.header_from = "";
  rec.sha256 = "";
  const std::string msg("a\0b\r\n\xff", 6);
  rec.size = msg.size();
  ASSERT_TRUE(store->put(rec, msg).ok());
  auto bytes = store->message("abc");
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  EXPECT_EQ(bytes.value(), msg);
  auto got = store->get("abc");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got.value().envelope.mail_from, "");
  EXPECT_EQ(got.value().header_from, "");
  auto by_null = store->list(Q().status("").sender(""));
  ASSERT_TRUE(by_null.ok());
  EXPECT_EQ(by_null.value().size(), 1u);
}

TEST(StoreQuarantine, RejectsInconsistentRecords) {
  TempDir tmp;
  auto store = open_ok(tmp.path + "/q");
  ASSERT_TRUE(store);
  auto rec = record("aa", 1700000000, "s@example.net", {"r@example.com"});

  auto wrong_sha = rec;
  wrong_sha.sha256 = sha256_hex("something else");
  EXPECT_FALSE(store->put(wrong_sha, "x").ok());
  auto wrong_size = rec;
  wrong_size.size = 99;
  EXPECT_FALSE(store->put(wrong_size, "x").ok());
  auto other_env = rec;
  other_env.envelope.id = "bb";
  EXPECT_FALSE(store->put(other_env, "x").ok());
  auto no_rcpt = rec;
  no_rcpt.envelope.recipients.clear();
  EXPECT_FALSE(store->put(no_rcpt, "x").ok());
  auto released = rec;
  released.status = "released";
  EXPECT_FALSE(store->put(released, "x").ok());

  EXPECT_EQ(store->count(any()).value(), 0u);
  EXPECT_FALSE(fs::exists(tmp.path + "/q/msg/aa.eml"));
  ASSERT_TRUE(store->put(rec, "x").ok());
  EXPECT_EQ(store->count(any()).value(), 1u);
}

TEST(StoreQuarantine, DuplicateIdIsAnErrorAndKeepsTheFirst) {
  TempDir tmp;
  auto store = open_ok(tmp.path + "/q");
  ASSERT_TRUE(store);
  auto rec = record("dead01", 1700000000, "s@example.net", {"r@example.com"});
  ASSERT_TRUE(store->put(rec, "first").ok());
  auto again = store->put(rec, "second");
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("already stored"), std::string::npos)
      << again.error().message;
  EXPECT_EQ(store->message("dead01").value(), "first");
  EXPECT_EQ(store->count(any()).value(), 1u);
}

TEST(StoreQuarantine, InvalidIdsNeverReachAPath) {
  TempDir tmp;
  auto store = open_ok(tmp.path + "/q");
  ASSERT_TRUE(store);
  const std::vector<std::string> bad = {"../x",
                                        "ABC",
                                        "",
                                        "g",
                                        "ab/cd",
                                        "ab.eml",
                                        "a b",
                                        std::string("ab\0cd", 5),
                                        std::string(65, 'a')};
  for (const auto& id : bad) {
    auto rec = record(id, 1700000000, "s@example.net", {"r@example.com"});
    auto put = store->put(rec, "x");
    ASSERT_FALSE(put.ok()) << "accepted id " << id;
    EXPECT_NE(put.error().message.find("invalid id"), std::string::npos) << put.error().message;
    EXPECT_FALSE(store->get(id).ok());
    EXPECT_FALSE(store->message(id).ok());
    EXPECT_FALSE(store->set_status(id, "deleted", "cli:root").ok());
  }
  EXPECT_TRUE(
      store->put(record(std::string(64, 'f'), 1, "s@example.net", {"r@example.com"}), "x").ok());
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(tmp.path + "/q/msg")) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1u);
  EXPECT_FALSE(fs::exists(tmp.path + "/x.eml"));
  EXPECT_EQ(store->count(any()).value(), 1u);
}

TEST(StoreQuarantine, UnknownIdIsAnError) {
  TempDir tmp;
  auto store = open_ok(tmp.path + "/q");
  ASSERT_TRUE(store);
  auto g = store->get("beef");
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.error().message.find("no message with id beef"), std::string::npos);
  EXPECT_FALSE(store->message("beef").ok());
  EXPECT_FALSE(store->set_status("beef", "released", "cli:root").ok());
}

class Populated : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp.path.empty());
    store = open_ok(tmp.path + "/q");
    ASSERT_TRUE(store);
    // Put out of time order: the store, not insertion, orders lists.
    ASSERT_TRUE(
        store->put(record("a2", 2000, "mallory@evil.test", {"alice@example.com"}), "m2").ok());
    ASSERT_TRUE(
        store
            ->put(record("a1", 1000, "spam@bulk.test", {"alice@example.com", "bob@example.com"}),
                  "m1")
            .ok());
    ASSERT_TRUE(
        store->put(record("a4", 4000, "mallory@evil.test", {"bob@example.com"}), "m4").ok());
    ASSERT_TRUE(store->put(record("a3", 3000, "spam@bulk.test", {"carol@example.com"}), "m3").ok());
    ASSERT_TRUE(store->put(record("a5", 3000, "spam@bulk.test", {"alice@example.com"}), "m5").ok());
  }
  std::vector<std::string> list(const QuarantineQuery& q) {
    auto r = store->list(q);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? ids(r.value()) : std::vector<std::string>{};
  }
  std::size_t count(const QuarantineQuery& q) {
    auto r = store->count(q);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? r.value() : 999;
  }
  TempDir tmp;
  std::unique_ptr<QuarantineStore> store;
};

using V = std::vector<std::string>;

TEST_F(Populated, NewestFirstWithLimitAndOffset) {
  // Equal times (a3, a5) fall back to the id, which is time-ordered too.
  EXPECT_EQ(list({}), (V{"a4", "a5", "a3", "a2", "a1"}));
  EXPECT_EQ(list(Q().limit(2)), (V{"a4", "a5"}));
  EXPECT_EQ(list(Q().limit(2).offset(2)), (V{"a3", "a2"}));
  EXPECT_EQ(list(Q().limit(2).offset(4)), (V{"a1"}));
  EXPECT_EQ(list(Q().limit(2).offset(5)), V{});
  EXPECT_EQ(list(Q().limit(0)), V{});
  EXPECT_EQ(count(Q().limit(1)), 5u);  // count ignores limit and offset
}

TEST_F(Populated, Filters) {
  EXPECT_EQ(list(Q().recipient("alice@example.com")), (V{"a5", "a2", "a1"}));
  EXPECT_EQ(count(Q().recipient("alice@example.com")), 3u);
  EXPECT_EQ(list(Q().recipient("bob@example.com")), (V{"a4", "a1"}));
  EXPECT_EQ(list(Q().recipient("ALICE@example.com")), V{});  // exact match
  EXPECT_EQ(list(Q().sender("mallory@evil.test")), (V{"a4", "a2"}));
  EXPECT_EQ(count(Q().sender("mallory@evil.test")), 2u);
  EXPECT_EQ(list(Q().since(3000)), (V{"a4", "a5", "a3"}));
  EXPECT_EQ(count(Q().since(3000)), 3u);
  EXPECT_EQ(list(Q().recipient("alice@example.com").sender("spam@bulk.test").since(1500)), V{"a5"});
  EXPECT_EQ(count(Q().recipient("alice@example.com").sender("spam@bulk.test").since(1500)), 1u);
  EXPECT_EQ(list(Q().sender("nobody@example.com")), V{});
  // SQL in a value is only a value.
  EXPECT_EQ(list(Q().sender("x' OR '1'='1")), V{});
}

TEST_F(Populated, StatusFilter) {
  ASSERT_TRUE(store->set_status("a2", "released", "cli:root").ok());
  ASSERT_TRUE(store->set_status("a4", "deleted", "cli:root").ok());
  EXPECT_EQ(list({}), (V{"a5", "a3", "a1"}));  // default: held
  EXPECT_EQ(count({}), 3u);
  EXPECT_EQ(list(Q().status("released")), V{"a2"});
  EXPECT_EQ(list(Q().status("deleted")), V{"a4"});
  EXPECT_EQ(list(Q().status("")), (V{"a4", "a5", "a3", "a2", "a1"}));
  EXPECT_EQ(count(Q().status("")), 5u);
  EXPECT_EQ(list(Q().status("").sender("mallory@evil.test")), (V{"a4", "a2"}));
  auto bad = store->list(Q().status("all"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("unknown status 'all'"), std::string::npos);
  EXPECT_FALSE(store->count(Q().status("bogus")).ok());
}

TEST_F(Populated, StatusTransitions) {
  // Who may not be empty; unknown statuses and "held" are refused.
  EXPECT_FALSE(store->set_status("a1", "released", "").ok());
  EXPECT_FALSE(store->set_status("a1", "purged", "cli:root").ok());
  EXPECT_FALSE(store->set_status("a1", "held", "cli:root").ok());

  const auto before = std::time(nullptr);
  ASSERT_TRUE(store->set_status("a1", "released", "cli:root").ok());
  auto r = store->get("a1").value();
  EXPECT_EQ(r.status, "released");
  EXPECT_EQ(r.status_by, "cli:root");
  EXPECT_GE(r.status_at, before);
  EXPECT_LE(r.status_at, std::time(nullptr));
  EXPECT_EQ(store->message("a1").value(), "m1");  // released keeps the bytes for the trace

  auto again = store->set_status("a1", "released", "cli:root");
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("a1 is released; it cannot become released"),
            std::string::npos)
      << again.error().message;
  EXPECT_FALSE(store->set_status("a1", "held", "cli:root").ok());
  ASSERT_TRUE(store->set_status("a1", "deleted", "console:eve").ok());
  EXPECT_FALSE(store->set_status("a1", "released", "cli:root").ok());
  EXPECT_FALSE(store->set_status("a1", "deleted", "cli:root").ok());
  EXPECT_FALSE(store->set_status("a1", "held", "cli:root").ok());
  EXPECT_EQ(store->get("a1").value().status_by, "console:eve");

  ASSERT_TRUE(store->set_status("a2", "deleted", "cli:root").ok());  // held -> deleted
  EXPECT_EQ(store->get("a2").value().status, "deleted");
}

TEST_F(Populated, DeleteRemovesTheFileAndKeepsTheRow) {
  const std::string file = tmp.path + "/q/msg/a3.eml";
  ASSERT_TRUE(fs::exists(file));
  ASSERT_TRUE(store->set_status("a3", "deleted", "cli:root").ok());
  EXPECT_FALSE(fs::exists(file));
  auto r = store->get("a3");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().status, "deleted");
  EXPECT_EQ(r.value().subject, "Invoice a3");
  EXPECT_EQ(r.value().sha256, sha256_hex("m3"));
  auto m = store->message("a3");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("deleted"), std::string::npos);
  EXPECT_EQ(store->message("a5").value(), "m5");  // the neighbours are untouched
}

TEST_F(Populated, TamperingIsDetected) {
  const std::string dir = tmp.path + "/q/msg/";
  {
    std::ofstream(dir + "a1.eml", std::ios::binary | std::ios::trunc) << "m9";  // same size
  }
  auto m = store->message("a1");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("does not match its recorded sha256"), std::string::npos)
      << m.error().message;
  { std::ofstream(dir + "a2.eml", std::ios::binary | std::ios::app) << "\r\nX-Added: 1"; }
  EXPECT_FALSE(store->message("a2").ok());
  fs::remove(dir + "a3.eml");
  auto gone = store->message("a3");
  ASSERT_FALSE(gone.ok());
  EXPECT_NE(gone.error().message.find(dir + "a3.eml"), std::string::npos) << gone.error().message;
  // A symlink in place of the file is not followed.
  fs::remove(dir + "a4.eml");
  fs::create_symlink(dir + "a5.eml", dir + "a4.eml");
  EXPECT_FALSE(store->message("a4").ok());
  EXPECT_EQ(store->message("a5").value(), "m5");
  // A held message whose file vanished can still be deleted.
  EXPECT_TRUE(store->set_status("a3", "deleted", "cli:root").ok());
}

TEST_F(Populated, AuditTrail) {
  ASSERT_TRUE(store->set_status("a1", "released", "cli:root").ok());
  ASSERT_TRUE(store->set_status("a1", "deleted", "console:eve").ok());
  ASSERT_TRUE(store->set_status("a2", "deleted", "cli:root").ok());
  EXPECT_FALSE(store->set_status("a2", "released", "cli:root").ok());  // refused: not audited
  const std::string dir = tmp.path + "/q";
  EXPECT_EQ(audit_rows(dir, "a1"),
            (V{"put|bulwark|quarantine score 12.50: EXE_IN_ZIP",
               "release|cli:root|held -> released", "delete|console:eve|released -> deleted"}));
  EXPECT_EQ(audit_rows(dir, "a2"), (V{"put|bulwark|quarantine score 12.50: EXE_IN_ZIP",
                                      "delete|cli:root|held -> deleted"}));
  EXPECT_EQ(audit_rows(dir, "a3"), (V{"put|bulwark|quarantine score 12.50: EXE_IN_ZIP"}));
}

TEST(StoreQuarantine, PutRecordsWhoWhenGiven) {
  TempDir tmp;
  auto store = open_ok(tmp.path + "/q");
  ASSERT_TRUE(store);
  auto rec = record("c0", 1700000000, "s@example.net", {"r@example.com"});
  rec.status_by = "smtp:inbound";
  ASSERT_TRUE(store->put(rec, "x").ok());
  EXPECT_EQ(store->get("c0").value().status_by, "smtp:inbound");
  EXPECT_EQ(audit_rows(tmp.path + "/q", "c0"),
            V{"put|smtp:inbound|quarantine score 12.50: EXE_IN_ZIP"});
}

TEST(StoreQuarantine, PersistsAcrossReopen) {
  TempDir tmp;
  const std::string dir = tmp.path + "/q";
  {
    auto store = open_ok(dir);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->put(record("f1", 100, "s@example.net", {"r@example.com"}), "one").ok());
    ASSERT_TRUE(store->put(record("f2", 200, "s@example.net", {"r@example.com"}), "two").ok());
    ASSERT_TRUE(store->set_status("f1", "released", "cli:root").ok());
  }
  auto store = open_ok(dir + "/");  // a trailing slash names the same store
  ASSERT_TRUE(store);
  EXPECT_EQ(store->get("f1").value().status, "released");
  EXPECT_EQ(store->message("f1").value(), "one");
  EXPECT_EQ(store->message("f2").value(), "two");
  EXPECT_EQ(store->count(any()).value(), 2u);
  EXPECT_FALSE(store->put(record("f2", 300, "s@example.net", {"r@example.com"}), "dup").ok());
  ASSERT_TRUE(store->put(record("f3", 300, "s@example.net", {"r@example.com"}), "three").ok());
  EXPECT_EQ(ids(store->list(any()).value()), (V{"f3", "f2", "f1"}));
}

TEST(StoreQuarantine, TwoHandlesOnOneStore) {
  // The CLI opens the store while the gateway has it open.
  TempDir tmp;
  auto gateway = open_ok(tmp.path + "/q");
  auto cli = open_ok(tmp.path + "/q");
  ASSERT_TRUE(gateway && cli);
  ASSERT_TRUE(gateway->put(record("e1", 100, "s@example.net", {"r@example.com"}), "x").ok());
  ASSERT_TRUE(cli->set_status("e1", "released", "cli:root").ok());
  EXPECT_EQ(gateway->get("e1").value().status, "released");
  EXPECT_FALSE(cli->put(record("e1", 100, "s@example.net", {"r@example.com"}), "x").ok());
}

TEST(StoreQuarantine, ManyThreads) {
  TempDir tmp;
  auto store = open_ok(tmp.path + "/q");
  ASSERT_TRUE(store);
  constexpr unsigned kThreads = 6, kEach = 15;
  std::vector<std::thread> threads;
  std::atomic<unsigned> failures{0};
  for (unsigned t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (unsigned i = 0; i < kEach; ++i) {
        const std::string id = hex_id(t * 1000 + i);
        auto rec =
            record(id, 1000 + i, "t" + std::to_string(t) + "@example.net", {"r@example.com"});
        if (!store->put(rec, body(id)).ok()) ++failures;
        if (!store->list(Q().limit(5)).ok() || !store->message(id).ok()) ++failures;
        if (i % 5 == 0 && !store->set_status(id, "released", "thread").ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0u);
  EXPECT_EQ(store->count(any()).value(), kThreads * kEach);
  EXPECT_EQ(store->count(Q().status("released")).value(), kThreads * 3);
  EXPECT_EQ(store->count(Q().status("").sender("t3@example.net")).value(), kEach);
  auto all = store->list(any());
  ASSERT_TRUE(all.ok());
  const auto listed = ids(all.value());
  const std::set<std::string> distinct(listed.begin(), listed.end());
  EXPECT_EQ(distinct.size(), kThreads * kEach);
  for (const auto& r : all.value()) EXPECT_EQ(store->message(r.id).value(), body(r.id));
}

TEST(StoreQuarantine, OpenErrorsNameThePath) {
  TempDir tmp;
  const std::string missing_parent = tmp.path + "/no/such/q";
  auto a = QuarantineStore::open_embedded(missing_parent);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().message.find(missing_parent), std::string::npos) << a.error().message;

  const std::string file = tmp.path + "/plain";
  std::ofstream(file) << "x";
  auto b = QuarantineStore::open_embedded(file);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find(file + " exists and is not a directory"), std::string::npos)
      << b.error().message;

  EXPECT_FALSE(QuarantineStore::open_embedded("").ok());
}

TEST(StoreQuarantine, CorruptDatabaseIsAnError) {
  TempDir tmp;
  const std::string dir = tmp.path + "/q";
  fs::create_directories(dir);
  {
    std::ofstream out(dir + "/index.sqlite3", std::ios::binary);
    out << std::string(8192, 'Z');
  }
  auto s = QuarantineStore::open_embedded(dir);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find(dir + "/index.sqlite3"), std::string::npos) << s.error().message;
}

TEST(StoreQuarantine, NewerSchemaIsRefused) {
  TempDir tmp;
  const std::string dir = tmp.path + "/q";
  { ASSERT_TRUE(open_ok(dir)); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir + "/index.sqlite3").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 7", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto s = QuarantineStore::open_embedded(dir);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("unsupported schema version 7"), std::string::npos)
      << s.error().message;
}

TEST(StoreQuarantine, ForeignDatabaseIsRefused) {
  TempDir tmp;
  const std::string dir = tmp.path + "/q";
  fs::create_directories(dir);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir + "/index.sqlite3").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE quarantine (x); PRAGMA user_version = 1", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  EXPECT_FALSE(QuarantineStore::open_embedded(dir).ok());
}

TEST(StoreQuarantine, WalAndSchemaVersionOnDisk) {
  TempDir tmp;
  const std::string dir = tmp.path + "/q";
  auto store = open_ok(dir);
  ASSERT_TRUE(store);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2((dir + "/index.sqlite3").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
            SQLITE_OK);
  auto one = [db](const char* sql) {
    sqlite3_stmt* s = nullptr;
    std::string v;
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
      v = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return v;
  };
  EXPECT_EQ(one("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(one("PRAGMA user_version"), "1");
  EXPECT_EQ(one("SELECT count(*) FROM sqlite_schema WHERE name IN "
                "('quarantine', 'quarantine_recipient', 'audit')"),
            "3");
  sqlite3_close(db);
}

}  // namespace
}  // namespace bulwark::store
