// `bulwark train --spam PATH... --ham PATH...`: teaches the classifier from mail an
// administrator has sorted. Messages are parsed in this process (trusted input, as for
// `scan --no-sandbox`), learned in batches of one transaction each, and remembered by their
// SHA-256: running the command again over the same directories learns only what is new, so an
// interrupted run (Ctrl-C) resumes where its last batch ended.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <iostream>

#include "classify/classifier.h"
#include "classify/tokenizer.h"
#include "cli/commands.h"
#include "cli/input.h"
#include "core/escape.h"
#include "core/hash.h"
#include "mime/parser.h"

namespace bulwark::cli {

namespace {

constexpr std::size_t kBatch = 500;  // messages per transaction

volatile std::sig_atomic_t g_interrupted = 0;
extern "C" void on_interrupt(int) { g_interrupted = 1; }

struct Counts {
  std::size_t learned = 0, relearned = 0, known = 0;
  std::size_t total() const { return learned + relearned + known; }
};

}  // namespace

int run_train(const TrainOptions& options) {
  if (options.spam.empty() && options.ham.empty() && !options.reset) {
    std::cerr << "bulwark train: nothing to learn: give --spam PATH... and/or --ham PATH...\n";
    return 2;
  }
  auto loaded = load_config_or_default(options.config_path);
  if (!loaded) {
    std::cerr << loaded.error().message << "\n";
    return 2;
  }
  const Config& config = loaded.value();
  const std::string path = classify::model_path(config);
  auto opened = classify::Trainer::open(path, options.reset);
  if (!opened) {
    std::cerr << "bulwark train: " << opened.error().message << "\n";
    return 2;
  }
  classify::Trainer& trainer = *opened.value();

  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  const bool tty = options.progress && isatty(STDERR_FILENO);
  bool errors = false;
  auto commit = [&]() -> bool {
    auto r = trainer.commit();
    if (!r) {
      std::cerr << "\nbulwark train: " << r.error().message << "\n";
      errors = true;
      return false;
    }
    return true;
  };

  auto learn_all = [&](const std::vector<std::string>& paths, bool spam, Counts& counts) -> bool {
    if (paths.empty()) return true;
    const char* label = spam ? "spam" : "ham";
    const std::size_t files = tty ? count_files(paths) : 0;
    bool failed = false;
    auto on_message = [&](const std::string& origin, std::string&& bytes) {
      if (g_interrupted || failed) return;
      const std::string digest = sha256_hex(bytes);
      const mime::Message m = mime::parse_message(std::move(bytes), config.limits, config.mime);
      auto r = trainer.learn(digest, classify::token_hashes(m), spam);
      if (!r) {
        std::cerr << "bulwark train: " << escape_for_display(origin) << ": " << r.error().message << "\n";
        failed = true;
        return;
      }
      switch (r.value()) {
        case classify::Trainer::Outcome::kLearned: ++counts.learned; break;
        case classify::Trainer::Outcome::kRelearned: ++counts.relearned; break;
        case classify::Trainer::Outcome::kKnown: ++counts.known; break;
      }
      if (trainer.pending() >= kBatch && !commit()) failed = true;
      if (tty && counts.total() % 50 == 0)
        std::fprintf(stderr, "\r%s: %zu/%zu", label, counts.total(), files);
    };
    auto on_error = [&](const InputError& e) {
      errors = true;
      std::cerr << "bulwark train: " << escape_for_display(e.path) << ": " << e.what << "\n";
    };
    for_each_message(paths, config.limits.max_message_bytes, on_message, on_error);
    if (tty) std::fprintf(stderr, "\r%*s\r", 40, "");
    return !failed && commit();
  };

  Counts spam, ham;
  const bool ok = learn_all(options.spam, true, spam) && learn_all(options.ham, false, ham);
  auto line = [](const char* label, const Counts& c) {
    std::cout << label << ": " << c.learned << " learned, " << c.known << " already known";
    if (c.relearned) std::cout << ", " << c.relearned << " moved from the other class";
    std::cout << "\n";
  };
  if (!options.spam.empty()) line("spam", spam);
  if (!options.ham.empty()) line("ham", ham);
  std::cout << "model " << path << ": " << trainer.spam_messages() << " spam, " << trainer.ham_messages()
            << " ham\n";
  if (g_interrupted) {
    std::cout << "interrupted: everything up to the last batch is saved; run the same command to resume\n";
    return 2;
  }
  if (trainer.spam_messages() < config.classify.min_train || trainer.ham_messages() < config.classify.min_train)
    std::cout << "the classifier scores once it has learned " << config.classify.min_train
              << " messages of each class (classify.min_train)\n";
  return ok && !errors ? 0 : 2;
}

}  // namespace bulwark::cli
