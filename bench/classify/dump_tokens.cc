// Prints the classifier's tokens of every message, one line per message:
//   <path>\t<token>\x1f<token>...
// For experiments on the tokenizer and the combining rule without retraining through the
// SQLite store (bench/classify/eval_tokens.py reads this).
//   ninja -C build bulwark_dump_tokens
//   build/src/classify/bulwark_dump_tokens DIR... > tokens.tsv
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "classify/tokenizer.h"
#include "core/config.h"
#include "mime/parser.h"

namespace fs = std::filesystem;
using namespace bulwark;

int main(int argc, char** argv) {
  const Config config = default_config();
  for (int a = 1; a < argc; ++a) {
    std::vector<fs::path> files;
    for (const auto& e : fs::recursive_directory_iterator(argv[a]))
      if (e.is_regular_file() && e.path().filename().string()[0] != '.') files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::ifstream in(f, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      const mime::Message m = mime::parse_message(ss.str(), config.limits, config.mime);
      std::cout << f.string() << '\t';
      bool first = true;
      for (const auto& t : classify::tokenize(m)) {
        if (!first) std::cout << '\x1f';
        first = false;
        for (char c : t) std::cout << (c == '\n' || c == '\t' || c == '\x1f' ? ' ' : c);
      }
      std::cout << '\n';
    }
  }
}
