// bench_mime CORPUS_DIR [--repeat N]
//
// Bulwark's MIME engine against GMime 3 on a directory of .eml files (the SpamAssassin
// corpus in `make bench`). Every message is loaded into memory once; each comparison then
// runs over all of them N times (default 3) and keeps the best round, in wall time
// (steady_clock) and in process CPU time (CLOCK_PROCESS_CPUTIME_ID: less sensitive to a
// busy machine). Single-threaded.
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "core/config.h"
#include "gmime_walk.h"  // tests/corpus/: the GMime side, shared with the differential test
#include "mime/parser.h"

namespace fs = std::filesystem;

namespace {

struct Corpus {
  std::vector<std::string> messages;
  std::size_t bytes = 0;
};

Corpus load(const fs::path& dir) {
  std::vector<fs::path> paths;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".eml") paths.push_back(e.path());
  std::sort(paths.begin(), paths.end());
  Corpus c;
  c.messages.reserve(paths.size());
  for (const fs::path& p : paths) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    c.bytes += ss.str().size();
    c.messages.push_back(std::move(ss).str());
  }
  return c;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("model name")) continue;
    const std::size_t colon = line.find(':');
    if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
  }
  return "unknown";
}

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Timing {
  double wall = 1e300;  // best round, seconds
  double cpu = 1e300;
  std::size_t check = 0;  // work summary of the last round, so nothing is optimised away
};

// Runs `round` (one pass over the corpus) `repeat` times; keeps the best wall and CPU times.
Timing measure(int repeat, const std::function<std::size_t()>& round) {
  Timing t;
  for (int i = 0; i < repeat; ++i) {
    const double c0 = cpu_seconds();
    const auto w0 = std::chrono::steady_clock::now();
    t.check = round();
    const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - w0;
    t.wall = std::min(t.wall, wall.count());
    t.cpu = std::min(t.cpu, cpu_seconds() - c0);
  }
  return t;
}

void print_row(const char* label, const Timing& t, const Corpus& c) {
  const double n = static_cast<double>(c.messages.size());
  const double mb = static_cast<double>(c.bytes) / 1e6;
  std::printf("  %-46s %9.0f %8.1f %9.0f %8.1f   %.3f / %.3f\n", label, n / t.wall, mb / t.wall,
              n / t.cpu, mb / t.cpu, t.wall, t.cpu);
}

void print_ratio(const char* what, const Timing& bulwark, const Timing& gmime) {
  std::printf("  => Bulwark/GMime speed, %s: %.2fx wall, %.2fx CPU\n\n", what,
              gmime.wall / bulwark.wall, gmime.cpu / bulwark.cpu);
}

int usage() {
  std::fprintf(stderr, "usage: bench_mime CORPUS_DIR [--repeat N]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const fs::path dir = argv[1];
  int repeat = 3;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--repeat" && i + 1 < argc) {
      repeat = std::atoi(argv[++i]);
    } else {
      return usage();
    }
  }
  if (repeat < 1) return usage();
  if (!fs::is_directory(dir)) {
    std::fprintf(stderr, "bench_mime: %s is not a directory (run `make corpus`)\n", dir.c_str());
    return 1;
  }
  const Corpus corpus = load(dir);
  if (corpus.messages.empty()) {
    std::fprintf(stderr, "bench_mime: no .eml files under %s\n", dir.c_str());
    return 1;
  }
  bulwark::testing::gmime_init_once();

  std::printf("bench_mime: %zu messages, %.1f MB from %s; best of %d rounds, one thread\n",
              corpus.messages.size(), static_cast<double>(corpus.bytes) / 1e6, dir.c_str(), repeat);
  std::printf("machine: %s, nproc %ld; GMime %s\n\n", cpu_model().c_str(),
              sysconf(_SC_NPROCESSORS_ONLN), bulwark::testing::gmime_version().c_str());
  std::printf("  %-46s %9s %8s %9s %8s   %s\n", "", "wall", "", "CPU", "", "best seconds");
  std::printf("  %-46s %9s %8s %9s %8s   %s\n", "", "msg/s", "MB/s", "msg/s", "MB/s", "wall / CPU");

  const bulwark::Config full = bulwark::default_config();
  bulwark::Config lean = full;
  lean.mime.html_to_text = false;
  lean.mime.detect_charset = false;

  // parse_message takes its bytes by value: the copy of each message is timed, as in the
  // gateway, where the bytes arrive in a buffer the Message then owns.
  const auto bulwark_round = [&corpus](const bulwark::Config& c) {
    return [&corpus, &c] {
      std::size_t parts = 0;
      for (const std::string& m : corpus.messages)
        parts += bulwark::mime::parse_message(std::string(m), c.limits, c.mime).parts.size();
      return parts;
    };
  };
  // GMime's memory stream copies each message too.
  const auto gmime_round = [&corpus](bool decode) {
    return [&corpus, decode] {
      std::size_t work = 0;
      for (const std::string& m : corpus.messages) {
        const bulwark::testing::GmimeCount n = bulwark::testing::gmime_parse(m, decode);
        work += n.leaves + n.decoded_bytes;
      }
      return work;
    };
  };

  bulwark::Config no_html = full;
  no_html.mime.html_to_text = false;
  bulwark::Config no_detect = full;
  no_detect.mime.detect_charset = false;
  const auto structure_round = [&corpus, &full] {
    std::size_t parts = 0;
    for (const std::string& m : corpus.messages)
      parts += bulwark::mime::parse_structure(std::string(m), full.limits, full.mime).parts.size();
    return parts;
  };

  const Timing b_struct = measure(repeat, structure_round);
  const Timing b_full = measure(repeat, bulwark_round(full));
  const Timing b_lean = measure(repeat, bulwark_round(lean));
  const Timing b_no_html = measure(repeat, bulwark_round(no_html));
  const Timing b_no_detect = measure(repeat, bulwark_round(no_detect));
  const Timing g_parse = measure(repeat, gmime_round(false));
  const Timing g_decode = measure(repeat, gmime_round(true));

  std::printf(
      "(1) the MIME engine, like for like: structure, headers and every leaf's transfer\n"
      "    encoding decoded (Bulwark parse_structure, views and embedded files included;\n"
      "    GMime construct_message + each leaf decoded into a memory stream).\n");
  print_row("(1) Bulwark parse_structure", b_struct, corpus);
  print_row("(1) GMime construct_message + decode leaves", g_decode, corpus);
  print_ratio("MIME engine", b_struct, g_decode);

  std::printf("(2) Bulwark still decoding every leaf; GMime parsing only.\n");
  print_row("(2) Bulwark parse_structure", b_struct, corpus);
  print_row("(2) GMime construct_message", g_parse, corpus);
  print_ratio("Bulwark decoding vs GMime parse only", b_struct, g_parse);

  std::printf(
      "(3) Bulwark's whole MIME stage (parse_message: + text to UTF-8 with charset\n"
      "    detection, HTML rendered to text and links, URLs), which GMime does not do.\n");
  print_row("(3) Bulwark parse_message, default config", b_full, corpus);
  print_row("(3) Bulwark parse_message, no HTML, no detection", b_lean, corpus);
  print_row("(3) GMime construct_message + decode leaves", g_decode, corpus);
  print_ratio("full MIME stage vs GMime decoding", b_full, g_decode);

  // Where the text stage's time goes, to know what to optimise.
  std::printf("Bulwark text stage breakdown (each option off alone):\n");
  print_row("mime.html_to_text=false", b_no_html, corpus);
  print_row("mime.detect_charset=false", b_no_detect, corpus);

  std::printf("\ncheck: %zu %zu %zu %zu %zu\n", b_struct.check, b_full.check, b_lean.check,
              g_parse.check, g_decode.check);
  return 0;
}
