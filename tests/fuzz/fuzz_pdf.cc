// libFuzzer target for inspect_pdf: PDF (names, object streams, embedded files).
#include "inspect/documents.h"
#include "inspect_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return bulwark::fuzz::run_analyser(bulwark::inspect::inspect_pdf, "fuzz", data, size);
}
