// Candidate archive passwords from the message text, the way malware campaigns send
// them ("Password: 1234", "pw: infected", "пароль: ...", "mot de passe : ...").
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bulwark::inspect {

std::vector<std::string> find_passwords(std::string_view text, std::size_t max);

}  // namespace bulwark::inspect
