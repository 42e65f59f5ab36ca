// libFuzzer target for inspect_ooxml_part: OOXML parts (relationships, DDE fields, content types), read as a settings .rels part.
#include "inspect/documents.h"
#include "inspect_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return bulwark::fuzz::run_analyser(bulwark::inspect::inspect_ooxml_part, "word/_rels/settings.xml.rels", data, size);
}
