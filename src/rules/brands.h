// Brands that phishing names in the From display name ("PayPal Service", "DHL Express",
// "Microsoft 365 Security") while sending from a domain the brand does not own. The list
// holds each brand's words and the domains it really sends from; a brand is also taken to
// own every registrable domain whose first label is its name (paypal.de, dhl.co.uk).
// Kept apart from the URL checks so it can grow without noise (FROM_BRAND_IMPERSONATION).
#pragma once

#include <string>
#include <string_view>

namespace bulwark::rules {

// The brand `display` presents itself as, when `registrable` (the sender's registrable
// domain, lower-case ASCII) is not one of that brand's; "" otherwise. The display name is
// read after undoing disguises (look-alike letters, invisible characters) and must be the
// brand's name alone or with service words around it ("Support", "Team", "Kundenservice",
// "Pakket", ...): "Chase Miller" or "Notes on the Apple keynote" are not a brand speaking.
std::string impersonated_brand(std::string_view display, std::string_view registrable);

}  // namespace bulwark::rules
