// The classifier's model: training and scoring on synthetic mail, the SQLite store
// (persistence, resumability, moving a message between classes), guarded auto-learning, and
// the scanner's one BAYES_* symbol.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "classify/autolearn.h"
#include "classify/classifier.h"
#include "classify/tokenizer.h"
#include "core/hash.h"
#include "mime/parser.h"
#include "scan/pipeline.h"
#include "scan/scoring.h"

namespace fs = std::filesystem;
namespace classify = bulwark::classify;

namespace {

const std::vector<std::string> kSpamWords = {"viagra", "winner", "lottery", "unclaimed", "prize", "cheap",
                                             "pharmacy", "bitcoin", "investment", "guaranteed", "urgent", "offer"};
const std::vector<std::string> kHamWords = {"meeting", "agenda", "review", "patch", "kernel", "lunch",
                                            "minutes", "release", "build", "tests", "deadline", "thanks"};
const std::vector<std::string> kCommon = {"the", "and", "you", "for", "this", "with", "have", "please"};

std::string synthetic(bool spam, int i) {
  std::mt19937 rng(static_cast<unsigned>(i * 2 + (spam ? 1 : 0)));
  const auto& words = spam ? kSpamWords : kHamWords;
  std::string body;
  for (int w = 0; w < 60; ++w) {
    body += (rng() % 3 == 0 ? kCommon[rng() % kCommon.size()] : words[rng() % words.size()]) + " ";
    if (w % 12 == 11) body += "\r\n";
  }
  return "From: " + std::string(spam ? "\"Best Deals\" <deals@promo.example>" : "Bob <bob@corp.example>") +
         "\r\nTo: alice@corp.example\r\nSubject: " + (spam ? "You are a winner " : "Re: meeting ") +
         std::to_string(i) + "\r\nMessage-ID: <" + std::to_string(i) + (spam ? "s" : "h") +
         "@x>\r\n\r\n" + body + "\r\n";
}

std::vector<std::uint64_t> hashes(const std::string& raw) {
  const bulwark::Config c;
  return classify::token_hashes(bulwark::mime::parse_message(raw, c.limits, c.mime));
}

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("bulwark-classify-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

void train(const std::string& path, int n, bool reset = false) {
  auto t = classify::Trainer::open(path, reset);
  ASSERT_TRUE(t) << t.error().message;
  for (int i = 0; i < n; ++i) {
    for (bool spam : {true, false}) {
      const std::string raw = synthetic(spam, i);
      ASSERT_TRUE(t.value()->learn(bulwark::sha256_hex(raw), hashes(raw), spam));
    }
    if (i % 7 == 0) {
      ASSERT_TRUE(t.value()->commit());
    }
  }
  ASSERT_TRUE(t.value()->commit());
}

TEST(ClassifyModel, TrainAndScoreRoundTrip) {
  TempDir d;
  const std::string path = (d.path / "m.sqlite3").string();
  train(path, 40);
  auto m = classify::Model::load(path);
  ASSERT_TRUE(m) << m.error().message;
  ASSERT_NE(m.value(), nullptr);
  const auto& model = *m.value();
  EXPECT_EQ(model.spam_messages(), 40u);
  EXPECT_EQ(model.ham_messages(), 40u);
  EXPECT_TRUE(model.ready(40));
  EXPECT_FALSE(model.ready(41));
  for (int i = 100; i < 110; ++i) {
    EXPECT_GT(model.spam_probability(hashes(synthetic(true, i))), 0.99) << i;
    EXPECT_LT(model.spam_probability(hashes(synthetic(false, i))), 0.01) << i;
  }
  EXPECT_DOUBLE_EQ(model.spam_probability({}), 0.5);
}

TEST(ClassifyModel, TrainingTwiceCountsOnce) {
  TempDir d;
  const std::string path = (d.path / "m.sqlite3").string();
  train(path, 10);
  auto t = classify::Trainer::open(path, false);
  ASSERT_TRUE(t);
  EXPECT_EQ(t.value()->spam_messages(), 10u);
  for (int i = 0; i < 10; ++i) {
    const std::string raw = synthetic(true, i);
    auto r = t.value()->learn(bulwark::sha256_hex(raw), hashes(raw), true);
    ASSERT_TRUE(r);
    EXPECT_EQ(r.value(), classify::Trainer::Outcome::kKnown);
  }
  // The same message twice in one batch counts once too.
  const std::string fresh = synthetic(true, 500);
  EXPECT_EQ(t.value()->learn(bulwark::sha256_hex(fresh), hashes(fresh), true).value(),
            classify::Trainer::Outcome::kLearned);
  EXPECT_EQ(t.value()->learn(bulwark::sha256_hex(fresh), hashes(fresh), true).value(),
            classify::Trainer::Outcome::kKnown);
  ASSERT_TRUE(t.value()->commit());
  t.value().reset();
  auto m = classify::Model::load(path);
  ASSERT_TRUE(m && m.value());
  EXPECT_EQ(m.value()->spam_messages(), 11u);
  EXPECT_EQ(m.value()->ham_messages(), 10u);
}

TEST(ClassifyModel, UncommittedBatchIsLostCommittedStays) {
  TempDir d;
  const std::string path = (d.path / "m.sqlite3").string();
  {
    auto t = classify::Trainer::open(path, false);
    ASSERT_TRUE(t);
    const std::string a = synthetic(true, 1), b = synthetic(false, 1);
    ASSERT_TRUE(t.value()->learn(bulwark::sha256_hex(a), hashes(a), true));
    ASSERT_TRUE(t.value()->commit());
    ASSERT_TRUE(t.value()->learn(bulwark::sha256_hex(b), hashes(b), false));
    // destroyed without commit: as if interrupted
  }
  auto m = classify::Model::load(path);
  ASSERT_TRUE(m && m.value());
  EXPECT_EQ(m.value()->spam_messages(), 1u);
  EXPECT_EQ(m.value()->ham_messages(), 0u);
}

TEST(ClassifyModel, RelearningMovesAMessageBetweenClasses) {
  TempDir d;
  const std::string path = (d.path / "m.sqlite3").string();
  const std::string raw = synthetic(true, 3);
  const auto h = hashes(raw);
  {
    auto t = classify::Trainer::open(path, false);
    ASSERT_TRUE(t);
    ASSERT_TRUE(t.value()->learn(bulwark::sha256_hex(raw), h, true));
    ASSERT_TRUE(t.value()->commit());
    auto r = t.value()->learn(bulwark::sha256_hex(raw), h, false);
    ASSERT_TRUE(r);
    EXPECT_EQ(r.value(), classify::Trainer::Outcome::kRelearned);
    ASSERT_TRUE(t.value()->commit());
  }
  auto m = classify::Model::load(path);
  ASSERT_TRUE(m && m.value());
  EXPECT_EQ(m.value()->spam_messages(), 0u);
  EXPECT_EQ(m.value()->ham_messages(), 1u);
  const classify::TokenCounts* c = m.value()->find(h.front());
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->spam, 0u);
  EXPECT_EQ(c->ham, 1u);
}

TEST(ClassifyModel, MissingFileIsNoModelAndGarbageIsAnError) {
  TempDir d;
  auto none = classify::Model::load((d.path / "absent.sqlite3").string());
  ASSERT_TRUE(none);
  EXPECT_EQ(none.value(), nullptr);
  const fs::path junk = d.path / "junk.sqlite3";
  { std::FILE* f = std::fopen(junk.c_str(), "w"); std::fputs("not a database", f); std::fclose(f); }
  EXPECT_FALSE(classify::Model::load(junk.string()));
}

TEST(ClassifyModel, ResetStartsEmpty) {
  TempDir d;
  const std::string path = (d.path / "m.sqlite3").string();
  train(path, 5);
  auto t = classify::Trainer::open(path, true);
  ASSERT_TRUE(t);
  EXPECT_EQ(t.value()->spam_messages(), 0u);
}

TEST(ClassifyModel, SymbolTiers) {
  EXPECT_EQ(classify::bayes_symbol(0.9995), "BAYES_SPAM_999");
  EXPECT_EQ(classify::bayes_symbol(0.995), "BAYES_SPAM_99");
  EXPECT_EQ(classify::bayes_symbol(0.96), "BAYES_SPAM_95");
  EXPECT_EQ(classify::bayes_symbol(0.85), "BAYES_SPAM_80");
  EXPECT_EQ(classify::bayes_symbol(0.5), "BAYES_UNSURE");
  EXPECT_EQ(classify::bayes_symbol(0.1), "BAYES_HAM");
  EXPECT_EQ(classify::bayes_symbol(0.001), "BAYES_HAM_99");
  EXPECT_EQ(classify::probability_detail(0.99871), "p=0.9987");
  for (double p : {0.0, 0.005, 0.1, 0.5, 0.85, 0.96, 0.995, 0.9995, 1.0})
    EXPECT_NE(bulwark::scan::find_symbol(classify::bayes_symbol(p)), nullptr) << p;
}

TEST(ClassifyModel, AutolearnOnlyWhenSure) {
  bulwark::ClassifyConfig c;  // autolearn off by default
  using classify::Learn;
  EXPECT_EQ(classify::autolearn_decision(c, 30.0, 0.9999, false, false), Learn::kNone);
  c.autolearn = true;
  EXPECT_EQ(classify::autolearn_decision(c, 30.0, 0.9999, false, false), Learn::kSpam);
  EXPECT_EQ(classify::autolearn_decision(c, 30.0, 0.6, false, false), Learn::kNone);   // model disagrees
  EXPECT_EQ(classify::autolearn_decision(c, 8.0, 0.9999, false, false), Learn::kNone);  // rules not sure
  EXPECT_EQ(classify::autolearn_decision(c, 0.0, 0.0001, false, false), Learn::kHam);
  EXPECT_EQ(classify::autolearn_decision(c, 0.0, 0.3, false, false), Learn::kNone);
  EXPECT_EQ(classify::autolearn_decision(c, 2.0, 0.0001, false, false), Learn::kNone);
  EXPECT_EQ(classify::autolearn_decision(c, 30.0, std::nullopt, false, false), Learn::kSpam);  // bootstrap
  EXPECT_EQ(classify::autolearn_decision(c, 30.0, 0.9999, true, false), Learn::kNone);  // threats
  EXPECT_EQ(classify::autolearn_decision(c, 0.0, 0.0001, false, true), Learn::kNone);   // limit hit
}

const bulwark::Symbol* bayes(const bulwark::scan::ScanResult& r) {
  const bulwark::Symbol* found = nullptr;
  for (const auto& s : r.verdict.symbols) {
    if (s.name.starts_with("BAYES_")) {
      EXPECT_EQ(found, nullptr) << "two BAYES_* symbols";
      found = &s;
    }
  }
  return found;
}

TEST(ClassifyScan, OneSymbolWhenAModelIsLoadedNoneWithout) {
  TempDir d;
  bulwark::Config config;
  config.spool.data_dir = d.path.string();
  config.classify.min_train = 20;
  {
    const bulwark::scan::Scanner none(config);
    EXPECT_EQ(none.classifier(), nullptr);
    const auto r = none.scan(synthetic(true, 200), "x");
    EXPECT_EQ(bayes(r), nullptr);
  }
  train(classify::model_path(config), 30);
  EXPECT_EQ(classify::model_path(config), (d.path / "classifier.sqlite3").string());
  const bulwark::scan::Scanner s(config);
  ASSERT_NE(s.classifier(), nullptr) << s.classifier_note();
  const auto spam = s.scan(synthetic(true, 200), "spam");
  const auto* sym = bayes(spam);
  ASSERT_NE(sym, nullptr);
  EXPECT_EQ(sym->name, "BAYES_SPAM_999");
  EXPECT_TRUE(sym->detail.starts_with("p=")) << sym->detail;
  EXPECT_GE(spam.verdict.score, 5.0);
  EXPECT_NE(spam.verdict.action, bulwark::Action::kAccept);
  const auto ham_result = s.scan(synthetic(false, 200), "ham");
  const auto* ham = bayes(ham_result);
  ASSERT_NE(ham, nullptr);
  EXPECT_EQ(ham->name, "BAYES_HAM_99");

  config.classify.min_train = 31;  // not trained enough: no symbol, a note
  const bulwark::scan::Scanner young(config);
  EXPECT_EQ(young.classifier(), nullptr);
  EXPECT_NE(young.classifier_note().find("min_train"), std::string::npos);
  config.classify.min_train = 20;
  config.classify.enabled = false;
  const bulwark::scan::Scanner off(config);
  const auto r = off.scan(synthetic(true, 200), "x");
  EXPECT_EQ(bayes(r), nullptr);
}

TEST(ClassifyAutoLearn, LearnsOnlyConfidentVerdictsOnceAndCommits) {
  TempDir d;
  bulwark::Config config;
  config.spool.data_dir = d.path.string();
  {
    auto off = classify::AutoLearner::open(config);  // classify.autolearn defaults to off
    ASSERT_TRUE(off);
    EXPECT_EQ(off.value(), nullptr);
  }
  config.classify.autolearn = true;
  const std::string spam = synthetic(true, 1), ham = synthetic(false, 1);
  {
    auto l = classify::AutoLearner::open(config);
    ASSERT_TRUE(l) << l.error().message;
    ASSERT_NE(l.value(), nullptr);
    auto& learner = *l.value();
    using classify::Learn;
    EXPECT_EQ(learner.offer(bulwark::sha256_hex(spam), hashes(spam), 15.0, std::nullopt, false, false).value(),
              Learn::kSpam);
    EXPECT_EQ(learner.offer(bulwark::sha256_hex(spam), hashes(spam), 15.0, std::nullopt, false, false).value(),
              Learn::kNone);  // the same message again
    EXPECT_EQ(learner.offer("x1", hashes(synthetic(true, 2)), 15.0, 0.5, false, false).value(),
              Learn::kNone);  // the classifier disagrees
    EXPECT_EQ(learner.offer("x2", hashes(synthetic(true, 3)), 15.0, std::nullopt, true, false).value(),
              Learn::kNone);  // a threat
    EXPECT_EQ(learner.offer("x3", hashes(synthetic(true, 4)), 15.0, std::nullopt, false, true).value(),
              Learn::kNone);  // a parser limit
    EXPECT_EQ(learner.offer("x4", hashes(synthetic(false, 4)), 3.0, std::nullopt, false, false).value(),
              Learn::kNone);  // neither sure spam nor sure ham
    EXPECT_EQ(learner.offer(bulwark::sha256_hex(ham), hashes(ham), -1.0, 0.0001, false, false).value(),
              Learn::kHam);
  }  // destroyed: committed
  auto m = classify::Model::load(classify::model_path(config));
  ASSERT_TRUE(m) << m.error().message;
  ASSERT_NE(m.value(), nullptr);
  EXPECT_EQ(m.value()->spam_messages(), 1u);
  EXPECT_EQ(m.value()->ham_messages(), 1u);
}

TEST(ClassifyModel, TwoWritersKeepEachOthersCounts) {
  // The gateway's auto-learning and `bulwark train` may write the same model at once.
  TempDir d;
  const std::string path = (d.path / "m.sqlite3").string();
  auto a = classify::Trainer::open(path, false);
  auto b = classify::Trainer::open(path, false);
  ASSERT_TRUE(a && b);
  for (int i = 0; i < 3; ++i) {
    const std::string s = synthetic(true, 100 + i), h = synthetic(false, 100 + i);
    ASSERT_TRUE(a.value()->learn(bulwark::sha256_hex(s), hashes(s), true));
    ASSERT_TRUE(b.value()->learn(bulwark::sha256_hex(h), hashes(h), false));
  }
  ASSERT_TRUE(a.value()->commit());
  ASSERT_TRUE(b.value()->commit());
  EXPECT_EQ(b.value()->spam_messages(), 3u);  // b sees a's work after its own commit
  auto m = classify::Model::load(path);
  ASSERT_TRUE(m && m.value());
  EXPECT_EQ(m.value()->spam_messages(), 3u);
  EXPECT_EQ(m.value()->ham_messages(), 3u);
}

}  // namespace
