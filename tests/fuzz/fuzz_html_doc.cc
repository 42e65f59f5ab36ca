// libFuzzer target for inspect_html_attachment: HTML attachments (scripts, credential forms, smuggling).
#include "inspect/documents.h"
#include "inspect_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return bulwark::fuzz::run_analyser(bulwark::inspect::inspect_html_attachment, "page.html", data, size);
}
