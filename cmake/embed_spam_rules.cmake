# Builds the shipped spam rules (rules/spam/*.rules) into bulwark_rules as byte arrays, so
# the binary needs no rules directory at run time (workers cannot open files anyway).
# include()d from src/rules/CMakeLists.txt after bulwark_rules is defined; the generation
# itself is cmake/embed_rules.cmake in script mode (shared with the YARA rules), writing
# spam_rules_embedded.{h,cc}:
#   extern const EmbeddedRuleFile kEmbeddedSpamRules[];  // sorted by file name
#   extern const std::size_t kEmbeddedSpamRuleCount;
file(GLOB BULWARK_SPAM_RULE_FILES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/rules/spam/*.rules)
list(SORT BULWARK_SPAM_RULE_FILES)
set(BULWARK_SPAM_GEN_DIR ${PROJECT_BINARY_DIR}/generated/spam)
file(MAKE_DIRECTORY ${BULWARK_SPAM_GEN_DIR})
string(REPLACE ";" "|" _bulwark_spam_rules_arg "${BULWARK_SPAM_RULE_FILES}")
add_custom_command(
  OUTPUT ${BULWARK_SPAM_GEN_DIR}/spam_rules_embedded.cc ${BULWARK_SPAM_GEN_DIR}/spam_rules_embedded.h
  COMMAND ${CMAKE_COMMAND} -DOUT_DIR=${BULWARK_SPAM_GEN_DIR} "-DRULES=${_bulwark_spam_rules_arg}"
          -DEMBED_BASENAME=spam_rules_embedded -DEMBED_NAMESPACE=bulwark::rules
          -DEMBED_ARRAY=kEmbeddedSpamRules -DEMBED_COUNT=kEmbeddedSpamRuleCount
          "-DEMBED_FROM=rules/spam/*.rules"
          -P ${PROJECT_SOURCE_DIR}/cmake/embed_rules.cmake
  DEPENDS ${BULWARK_SPAM_RULE_FILES} ${PROJECT_SOURCE_DIR}/cmake/embed_rules.cmake
          ${PROJECT_SOURCE_DIR}/cmake/embed_spam_rules.cmake
  COMMENT "Embedding spam rules (rules/spam/*.rules)"
  VERBATIM)
target_sources(bulwark_rules PRIVATE ${BULWARK_SPAM_GEN_DIR}/spam_rules_embedded.cc
                                     ${BULWARK_SPAM_GEN_DIR}/spam_rules_embedded.h)
target_include_directories(bulwark_rules PRIVATE ${BULWARK_SPAM_GEN_DIR})
