// libFuzzer target for inspect_rtf: RTF (objects, objdata, fields).
#include "inspect/documents.h"
#include "inspect_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return bulwark::fuzz::run_analyser(bulwark::inspect::inspect_rtf, "fuzz", data, size);
}
