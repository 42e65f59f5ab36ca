// Mailing-list footers: the text a list server appends to every post ("Foo mailing list /
// https://lists.example.org/listinfo/foo", sponsor blurbs, "(un)subscription information").
//
// The list adds it, not the author, and it is identical on every post: on ham and on the spam
// that reaches the list alike. Trained on list mail, those words become strong ham evidence
// that then shields any spam posted to a list; so the classifier does not read them.
//
//   if (classify::is_list_message(root)) text = classify::strip_list_footer(text);
#pragma once

#include <string_view>

#include "mime/message.h"

namespace bulwark::classify {

// The message carries the header fields a discussion-list server adds (List-Id, List-Post,
// List-Help, Mailing-List, X-Mailing-List). List-Unsubscribe alone does not count: bulk
// senders add it too, and their own opt-out paragraph is theirs, not a list's.
bool is_list_message(const mime::Part& root);

// `text` without its trailing list footer: from the first separator line (a run of 8 or
// more of one of "-_=*~", or the signature marker "-- ") within the last 20 lines after
// which the text names a list ("mailing list", "listinfo", "unsubscribe", "mailman", ...),
// provided no block after that separator is longer than 8 lines. `text` unchanged when
// there is no such footer.
std::string_view strip_list_footer(std::string_view text);

}  // namespace bulwark::classify
