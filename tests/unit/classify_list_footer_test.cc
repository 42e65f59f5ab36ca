// Mailing-list footers are not read by the classifier: they are the list's words, identical
// on ham and on spam that reaches the list.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "classify/list_footer.h"
#include "classify/tokenizer.h"
#include "core/config.h"
#include "mime/parser.h"

namespace {

using bulwark::classify::strip_list_footer;

const std::string kMailman =
    "\n_______________________________________________\n"
    "Exmh-users mailing list\n"
    "Exmh-users@example.org\n"
    "https://lists.example.org/mailman/listinfo/exmh-users\n\n";

const std::string kSponsorAndMailman =
    "\n-------------------------------------------------------\n"
    "This email is sponsored by: GeekShop\n"
    "Welcome to geek heaven.\n"
    "http://geekshop.example/sf\n"
    "_______________________________________________\n"
    "Talk mailing list\n"
    "Talk@lists.example.net\n"
    "https://lists.example.net/lists/listinfo/talk\n";

TEST(ClassifyListFooter, MailmanFooterIsCut) {
  const std::string body = "Has anyone tried the new release?\nIt fails on startup.\n";
  EXPECT_EQ(strip_list_footer(body + kMailman), body + "\n");  // up to the separator line
}

TEST(ClassifyListFooter, SponsorBlurbGoesWithTheFooter) {
  const std::string body = "Great deals on printer ink!\nClick below.\n";
  EXPECT_EQ(strip_list_footer(body + kSponsorAndMailman), body + "\n");
}

TEST(ClassifyListFooter, SignatureStyleFooter) {
  const std::string body = "The patch is attached.\n\n";
  const std::string footer =
      "-- \nIrish Linux Users' Group: users@example.ie\n"
      "http://www.example.ie/mailman/listinfo/users for (un)subscription information.\n"
      "List maintainer: listmaster@example.ie\n";
  EXPECT_EQ(strip_list_footer(body + footer), body);
}

TEST(ClassifyListFooter, WholePartFooter) {
  // Mailman appends its footer as a part of its own to multipart posts.
  EXPECT_EQ(strip_list_footer(kMailman.substr(1)), "");
}

TEST(ClassifyListFooter, TextWithoutAListFooterIsUnchanged) {
  const std::string plain = "Hi,\n\n-----------\nSee you at 5.\n-- \nBob\n";
  EXPECT_EQ(strip_list_footer(plain), plain);
  // A separator far from the end is body, not footer.
  std::string long_tail = "intro\n________________\nmailing list talk\n";
  for (int i = 0; i < 30; ++i) long_tail += "line " + std::to_string(i) + "\n";
  EXPECT_EQ(strip_list_footer(long_tail), long_tail);
  // A long block after the separator is the author's text, even if it mentions a list.
  std::string long_block = "intro\n----------------\n";
  for (int i = 0; i < 12; ++i) long_block += "we discussed the mailing list " + std::to_string(i) + "\n";
  EXPECT_EQ(strip_list_footer(long_block), long_block);
  EXPECT_EQ(strip_list_footer(""), "");
}

bulwark::mime::Message parse(const std::string& raw) {
  const bulwark::Config c;
  return bulwark::mime::parse_message(raw, c.limits, c.mime);
}

TEST(ClassifyListFooter, TokenizerSkipsFootersOfListMailOnly) {
  const std::string body = "Subject: hi\r\nContent-Type: text/plain\r\n";
  const std::string text = "\r\nquarterly figures attached\r\n" + kMailman;
  auto has = [](const std::vector<std::string>& v, const std::string& t) {
    return std::find(v.begin(), v.end(), t) != v.end();
  };
  const auto listed = bulwark::classify::tokenize(parse("List-Id: <exmh.example.org>\r\n" + body + text));
  EXPECT_TRUE(has(listed, "quarterly"));
  EXPECT_FALSE(has(listed, "listinfo"));
  EXPECT_FALSE(has(listed, "exmh-users"));
  // Without list headers the same words are the sender's own, and are read.
  const auto direct = bulwark::classify::tokenize(parse(body + text));
  EXPECT_TRUE(has(direct, "quarterly"));
  EXPECT_TRUE(has(direct, "exmh-users"));
}

}  // namespace
