// The text stage: every text/* leaf (views included) to UTF-8, HTML rendered to text and
// links, and the message's URL list. Separate from parse_structure so that structure and
// transfer decoding can be measured and used alone; parse_message runs both.
//   Message m = parse_structure(raw, limits, options);
//   extract_text(m, limits, options);
#pragma once

#include "core/config.h"
#include "mime/message.h"

namespace bulwark::mime {

// Bounded by limits.max_time_ms of its own (MIME_LIMIT_TIME when exceeded: the remaining
// parts keep no text) and by 10,000 URLs per message.
void extract_text(Message& m, const MimeLimits& limits, const MimeConfig& options);

}  // namespace bulwark::mime
