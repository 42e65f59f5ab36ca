#include "mime/url.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace bulwark::mime {
namespace {

using Urls = std::vector<std::string>;

Urls find(const std::string& text, std::size_t max = 1000) {
  return find_urls(text, max);
}

TEST(FindUrls, PlainSchemes) {
  EXPECT_EQ(find("see http://example.com/a?b=c#d now"), Urls{"http://example.com/a?b=c#d"});
  EXPECT_EQ(find("https://example.com"), Urls{"https://example.com"});
  EXPECT_EQ(find("get ftp://files.example.com/pub/x.zip"),
            Urls{"ftp://files.example.com/pub/x.zip"});
}

TEST(FindUrls, UppercaseSchemesKeptAsWritten) {
  EXPECT_EQ(find("HTTP://EXAMPLE.COM/X and HtTpS://Mixed.Example"),
            (Urls{"HTTP://EXAMPLE.COM/X", "HtTpS://Mixed.Example"}));
  EXPECT_EQ(find("WWW.EXAMPLE.COM"), Urls{"WWW.EXAMPLE.COM"});
}

TEST(FindUrls, TrailingSentencePunctuationIsStripped) {
  EXPECT_EQ(find("Visit http://example.com/path."), Urls{"http://example.com/path"});
  EXPECT_EQ(find("http://example.com/a, http://example.com/b; http://example.com/c:"),
            (Urls{"http://example.com/a", "http://example.com/b", "http://example.com/c"}));
  EXPECT_EQ(find("really? http://example.com/?q=1!?"), Urls{"http://example.com/?q=1"});
  EXPECT_EQ(find("'http://example.com/q'"), Urls{"http://example.com/q"});
  EXPECT_EQ(find("http://example.com/a.b.c/"), Urls{"http://example.com/a.b.c/"});
}

TEST(FindUrls, Parentheses) {
  EXPECT_EQ(find("(see http://example.com/x)"), Urls{"http://example.com/x"});
  EXPECT_EQ(find("http://en.wikipedia.org/wiki/Foo_(bar)"),
            Urls{"http://en.wikipedia.org/wiki/Foo_(bar)"});
  EXPECT_EQ(find("(http://en.wikipedia.org/wiki/Foo_(bar))."),
            Urls{"http://en.wikipedia.org/wiki/Foo_(bar)"});
  EXPECT_EQ(find("[http://example.com/a[1]]"), Urls{"http://example.com/a[1]"});
}

TEST(FindUrls, WwwWithoutScheme) {
  EXPECT_EQ(find("go to www.example.com/x, then"), Urls{"www.example.com/x"});
  EXPECT_EQ(find("(www.example.com)"), Urls{"www.example.com"});
  EXPECT_TRUE(find("mail@www.example.com").empty());
  EXPECT_TRUE(find("awww.example.com").empty());
  EXPECT_TRUE(find("www. example").empty());
  EXPECT_EQ(find("http://www.example.com/"), Urls{"http://www.example.com/"});  // once
}

TEST(FindUrls, Mailto) {
  EXPECT_EQ(find("write to mailto:bob@example.com."), Urls{"mailto:bob@example.com"});
  EXPECT_EQ(find("MAILTO:X@Y.EXAMPLE?subject=hi"), Urls{"MAILTO:X@Y.EXAMPLE?subject=hi"});
  EXPECT_TRUE(find("mailto: bob@example.com").empty());
  EXPECT_TRUE(find("bob@example.com").empty());
}

TEST(FindUrls, NotLinkedByMailClients) {
  EXPECT_TRUE(find("https:/\\example.com").empty());
  EXPECT_TRUE(find("http:\\\\example.com").empty());
  EXPECT_TRUE(find("hxxp://evil.example/ and hxxps://evil.example").empty());
  EXPECT_TRUE(find("xhttp://a.example ftp:/x http:// x http://").empty());
  EXPECT_TRUE(find("http://. http://,").empty());
}

TEST(FindUrls, AngleBrackets) {
  EXPECT_EQ(find("<http://example.com/a.b.>"), Urls{"http://example.com/a.b."});
  EXPECT_EQ(find("<URL:http://example.com/x>"), Urls{"http://example.com/x"});
  EXPECT_EQ(find("Link: <https://example.com>, more"), Urls{"https://example.com"});
  EXPECT_EQ(find("<www.example.com/x>"), Urls{"www.example.com/x"});
  EXPECT_EQ(find("<a href=\"http://example.com/q\">x</a>"), Urls{"http://example.com/q"});
}

TEST(FindUrls, TenOnOneLine) {
  std::string line;
  Urls expected;
  for (int i = 0; i < 10; ++i) {
    const std::string u = "https://host" + std::to_string(i) + ".example/p" + std::to_string(i);
    line += (i % 2 ? " " : ", ") + u;
    expected.push_back(u);
  }
  line += ".";
  EXPECT_EQ(find(line), expected);
}

TEST(FindUrls, MaxUrlsCap) {
  std::string text;
  for (int i = 0; i < 10; ++i) text += "http://h" + std::to_string(i) + ".example/ ";
  const Urls three = find(text, 3);
  EXPECT_EQ(three, (Urls{"http://h0.example/", "http://h1.example/", "http://h2.example/"}));
  EXPECT_TRUE(find(text, 0).empty());
}

TEST(FindUrls, InternationalHostsStayUtf8) {
  EXPECT_EQ(find("http://b\xC3\xBC"
                 "cher.example/stra\xC3\x9F"
                 "e ok"),
            Urls{"http://b\xC3\xBC"
                 "cher.example/stra\xC3\x9F"
                 "e"});
  EXPECT_EQ(find("www.\xD0\xBF\xD1\x80\xD0\xB8\xD0\xBC\xD0\xB5\xD1\x80.\xD1\x80\xD1\x84"),
            Urls{"www.\xD0\xBF\xD1\x80\xD0\xB8\xD0\xBC\xD0\xB5\xD1\x80.\xD1\x80\xD1\x84"});
  // U+00A0 and U+3000 end a URL; a trailing ideographic full stop is punctuation.
  EXPECT_EQ(find("http://a.example/x\xC2\xA0next"), Urls{"http://a.example/x"});
  EXPECT_EQ(find("http://a.example/y\xE3\x80\x80z"), Urls{"http://a.example/y"});
  EXPECT_EQ(find("http://a.example/z\xE3\x80\x82"), Urls{"http://a.example/z"});
}

TEST(FindUrls, Delimiters) {
  EXPECT_EQ(find("a\"http://q.example/\"b"), Urls{"http://q.example/"});
  EXPECT_EQ(find("x\thttp://t.example/\ty"), Urls{"http://t.example/"});
  EXPECT_EQ(find("http://n.example/a\r\nb"), Urls{"http://n.example/a"});
  EXPECT_TRUE(find("").empty());
}

// The scanner jumps between ':' and '.' anchors in blocks; a prefix must be found wherever
// it falls relative to a block, including in the short tail.
TEST(FindUrls, EveryAlignment) {
  const std::string filler = "wo: p. w: s. x";  // anchors that start no link
  const Urls links = {"Www.a.example", "HTTPS://b.example", "ftp://c.example", "mailto:d@e.example",
                      "http://f.example"};
  const std::size_t prefix[] = {4, 8, 6, 7, 7};
  for (std::size_t pad = 0; pad < 40; ++pad) {
    std::string text =
        filler.substr(0, pad % filler.size()) + std::string(pad / filler.size(), ' ') + " ";
    std::vector<std::size_t> at;
    for (const std::string& u : links) {
      at.push_back(text.size());
      text += u + " ";
    }
    EXPECT_EQ(find(text), links) << "pad " << pad;
    // Cut short anywhere: a link is found once a byte follows its prefix, as far as it goes
    // (less a trailing dot).
    for (std::size_t cut = 0; cut < text.size(); ++cut) {
      Urls expected;
      for (std::size_t k = 0; k < links.size(); ++k) {
        if (at[k] + prefix[k] >= cut) continue;
        expected.push_back(links[k].substr(0, cut - at[k]));
        if (expected.back().back() == '.') expected.back().pop_back();
      }
      EXPECT_EQ(find(text.substr(0, cut)), expected) << "pad " << pad << " cut " << cut;
    }
  }
}

TEST(FindUrls, AnchorsInsideALinkStartNoOther) {
  EXPECT_EQ(find("http://a.example/www.b.example/mailto:x"),
            Urls{"http://a.example/www.b.example/mailto:x"});
  EXPECT_EQ(find("stop: ps: www.wwww.x"), Urls{"www.wwww.x"});
  EXPECT_EQ(find("http://a.example<http://b.example>"),
            (Urls{"http://a.example", "http://b.example"}));
  EXPECT_EQ(find("http://\thttp://ok.example"), Urls{"http://ok.example"});
  EXPECT_EQ(find("ftp:/x ftp://f.example"), Urls{"ftp://f.example"});
  EXPECT_EQ(find("Hi:mailto:m@x.example"), Urls{"mailto:m@x.example"});
  EXPECT_EQ(find("xwww.a www.b"), Urls{"www.b"});
  EXPECT_EQ(find("www.a"), Urls{"www.a"});
}

TEST(FindUrls, LinearOnHostileInput) {
  const std::string many_prefixes = [] {
    std::string s;
    for (int i = 0; i < 200000; ++i) s += "www.";
    return s;
  }();
  const std::string parens(1'000'000, ')');
  const std::string dots = "http://a" + std::string(1'000'000, '.');
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(find(many_prefixes).size(), 1u);
  EXPECT_TRUE(find(parens).empty());
  EXPECT_EQ(find(dots), Urls{"http://a"});
  EXPECT_EQ(find("http://a" + parens), Urls{"http://a"});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

}  // namespace
}  // namespace bulwark::mime
