// Engines: what inspection loads once per process, before the workers are forked (so every worker
// shares it copy-on-write and none needs to open a file after lockdown): the libmagic
// database, the ClamAV engine with its signatures, the compiled YARA rules, the OCR model.
//   auto e = Engines::load(config.inspect);   // Result<std::unique_ptr<Engines>>
#pragma once

#include <memory>
#include <string>

#include "core/config.h"
#include "core/result.h"
#include "inspect/av.h"

namespace bulwark::inspect {

class Ocr;

class Engines {
 public:
  static Result<std::unique_ptr<Engines>> load(const InspectConfig& config);
  ~Engines();
  Engines(const Engines&) = delete;
  Engines& operator=(const Engines&) = delete;

  // libmagic's handle (a magic_t), used by filetype.cc only.
  void* magic() const { return magic_; }
  const ClamAv* clamav() const { return clamav_.get(); }  // nullptr: no signature database
  const YaraRules* yara() const { return yara_.get(); }
  const Ocr* ocr() const { return ocr_.get(); }  // nullptr: OCR off or no model
  std::string describe() const;

 private:
  Engines() = default;
  void* magic_ = nullptr;
  ClamAvPtr clamav_;
  YaraRulesPtr yara_;
  std::unique_ptr<Ocr> ocr_;
  std::string ocr_note_;  // why there is no OCR, when it was asked for
};

}  // namespace bulwark::inspect
