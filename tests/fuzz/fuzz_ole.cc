// libFuzzer target for inspect_ole: OLE2 / Compound File (VBA, XLM, Ole10Native).
#include "inspect/documents.h"
#include "inspect_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return bulwark::fuzz::run_analyser(bulwark::inspect::inspect_ole, "fuzz", data, size);
}
