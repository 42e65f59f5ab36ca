// The free-mail provider list behind from_freemail() and replyto_freemail(): webmail
// services where anyone can open an address in a minute, so an address there says nothing
// about who the sender is. Kept apart from the functions so it can grow without noise.
#pragma once

#include <string_view>

namespace bulwark::rules {

// `registrable` is a lower-case registrable domain (gmail.com, yahoo.co.uk).
bool freemail_domain_listed(std::string_view registrable);
// `label` is the registrable domain's first label: providers that exist under many
// country domains (yahoo.fr, gmx.at, yandex.kz) are listed once by that label.
bool freemail_family(std::string_view label);

}  // namespace bulwark::rules
