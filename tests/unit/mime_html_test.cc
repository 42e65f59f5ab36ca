#include "mime/html.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace bulwark::mime {
namespace {

constexpr std::size_t kText = 1 << 20;
constexpr std::size_t kLinks = 1000;

HtmlResult parse(const std::string& html) {
  return html_to_text(html, kText, kLinks);
}

// A <br> with more attributes than tree mode accepts: the rest of the document then goes
// through flat mode, which must agree with tree mode on ordinary markup.
std::string force_flat_prefix() {
  std::string s = "<br";
  for (int i = 0; i < 300; ++i) s += " pad" + std::to_string(i);
  return s + ">";
}

std::vector<std::string> urls_of(const HtmlResult& r) {
  std::vector<std::string> out;
  for (const Link& l : r.links) out.push_back(l.url);
  return out;
}

const Link* find_link(const HtmlResult& r, const std::string& tag) {
  for (const Link& l : r.links)
    if (l.tag == tag) return &l;
  return nullptr;
}

TEST(HtmlToText, PhishingAnchorShowsOneDomainLinksAnother) {
  const HtmlResult r = parse(
      "<html><body><p>Dear customer, please verify at "
      "<a href=\"http://paypa1-secure.example.net/login.php\">https://www.paypal.com/signin</a>"
      " today.</p></body></html>");
  EXPECT_EQ(r.text, "Dear customer, please verify at https://www.paypal.com/signin today.");
  ASSERT_EQ(r.links.size(), 1u);
  EXPECT_EQ(r.links[0].tag, "a");
  EXPECT_EQ(r.links[0].url, "http://paypa1-secure.example.net/login.php");
  EXPECT_EQ(r.links[0].text, "https://www.paypal.com/signin");
}

TEST(HtmlToText, AnchorTextIsCollapsedAndSkipsHiddenParts) {
  const HtmlResult r = parse(
      "<a href=x>\n   Click\n\t <b>here</b>   </a><a href=y>Pay<span "
      "style=\"display:none\">zzz</span>Pal</a>");
  ASSERT_EQ(r.links.size(), 2u);
  EXPECT_EQ(r.links[0].text, "Click here");
  EXPECT_EQ(r.links[1].text, "PayPal");
  EXPECT_EQ(r.text, "Click here PayPal");
  EXPECT_EQ(r.hidden_text_bytes, 3u);
}

TEST(HtmlToText, UrlsAreTrimmedAndLoseTabsAndNewlines) {
  const HtmlResult r = parse("<a href=\"  http://ex\nam\tple.com/\r\npath?a=1&amp;b=2 \">t</a>");
  ASSERT_EQ(r.links.size(), 1u);
  EXPECT_EQ(r.links[0].url, "http://example.com/path?a=1&b=2");
}

TEST(HtmlToText, EntitiesAreDecoded) {
  const HtmlResult r = parse("<p>Tom &amp; Jerry &#x41;&#66;&nbsp;C &lt;tag&gt; &eacute;</p>");
  EXPECT_EQ(r.text, "Tom & Jerry AB C <tag> \xC3\xA9");
}

TEST(HtmlToText, BlocksBreakLinesAndWhitespaceCollapses) {
  const HtmlResult r = parse(
      "<div>one</div><div>two</div>  <p>three \n\n  four</p>line<br>break<br><br>para"
      "<ul><li>a</li><li>b</li></ul><h1>Title</h1><blockquote>q</blockquote><hr>end");
  EXPECT_EQ(r.text, "one\ntwo\nthree four\nline\nbreak\n\npara\na\nb\nTitle\nq\nend");
}

TEST(HtmlToText, InvisibleCharactersAreDroppedAndNbspIsASpace) {
  const HtmlResult r = parse("<p>Pay&#8203;Pal&shy; Se&zwj;cure&nbsp;&nbsp;&nbsp;Login</p>");
  EXPECT_EQ(r.text, "PayPal Secure Login");
}

TEST(HtmlToText, NestedTables) {
  const HtmlResult r = parse(
      "<table><tr><td>A1</td><td>B1</td></tr>"
      "<tr><td><table><tr><td>inner</td><td>cell</td></tr></table></td><td>B2</td></tr>"
      "</table>after");
  EXPECT_EQ(r.text, "A1 B1\ninner cell\nB2\nafter");
}

TEST(HtmlToText, HeadScriptStyleAndTemplateAreNotText) {
  const HtmlResult r = parse(
      "<html><head><title>Invoice</title><style>p{color:red}</style>"
      "<script>var a = '<b>x</b>';</script></head><body>"
      "<script src=\"https://cdn.example/x.js\"></script>Hello"
      "<template><p>never</p></template><noscript>no js</noscript></body></html>");
  EXPECT_EQ(r.text, "Hello\nno js");
  EXPECT_EQ(r.script_count, 2u);
  ASSERT_EQ(r.links.size(), 1u);
  EXPECT_EQ(r.links[0].tag, "script");
  EXPECT_EQ(r.links[0].url, "https://cdn.example/x.js");
}

TEST(HtmlToText, MetaRefresh) {
  const HtmlResult r = parse(
      "<head><meta http-equiv=\"Refresh\" content=\"0; URL=http://a.example/x\">"
      "<meta http-equiv=refresh content=\"5;url='http://b.example/y'\">"
      "<meta http-equiv=refresh content=\"3\">"
      "<meta http-equiv=refresh content=\"1, http://c.example/\">"
      "<meta name=refresh content=\"0; url=http://not-equiv.example/\"></head>");
  EXPECT_EQ(urls_of(r), (std::vector<std::string>{"http://a.example/x", "http://b.example/y",
                                                  "http://c.example/"}));
  for (const Link& l : r.links) EXPECT_EQ(l.tag, "meta-refresh");
}

TEST(HtmlToText, FormWithPasswordInput) {
  const HtmlResult r = parse(
      "<form action=\" https://collect.example/p.php \" method=post>"
      "Email <input type=text name=e> Password <input type=\"PassWord\" name=p>"
      "<input type=submit value=\"Sign in\"></form><form></form>");
  EXPECT_TRUE(r.password_input);
  EXPECT_EQ(r.form_count, 2u);
  const Link* form = find_link(r, "form");
  ASSERT_NE(form, nullptr);
  EXPECT_EQ(form->url, "https://collect.example/p.php");
  EXPECT_EQ(r.text, "Email Password Sign in");

  const HtmlResult plain = parse("<form><input type=text><input type=hidden value=x></form>");
  EXPECT_FALSE(plain.password_input);
  EXPECT_EQ(plain.form_count, 1u);
  EXPECT_TRUE(plain.links.empty());
}

TEST(HtmlToText, DisplayNoneTextIsCountedNotShown) {
  const HtmlResult r =
      parse("<div style=\"DISPLAY : none !important\">secret <b>words</b></div>visible");
  EXPECT_EQ(r.text, "visible");
  EXPECT_EQ(r.hidden_text_bytes, 11u);  // "secret" + "words", whitespace not counted
}

TEST(HtmlToText, ZeroFontSizeAndChildOverride) {
  const HtmlResult r = parse(
      "<span style=\"font-size:0px\">abc</span><span style=\"font-size:1px\">d</span>"
      "<div style=\"font-size:0\"><span style=\"font-size:16px\">shown</span>"
      "<span style=\"font-size:2em\">still0</span></div><font size=0>f0</font>");
  EXPECT_EQ(r.text, "shown");
  EXPECT_EQ(r.hidden_text_bytes, 3u + 1u + 6u + 2u);
}

TEST(HtmlToText, WhiteOnWhite) {
  const HtmlResult r = parse(
      "<body bgcolor=\"#FFFFFF\"><font color=\"white\">invisible</font>"
      "<span style=\"color:#fefefe\">faint</span>"
      "<div style=\"background:#000;color:#fff\">inverse</div>"
      "<table bgcolor=\"black\"><tr><td><font color=\"#000000\">dark</font></td></tr></table>"
      "<span style=\"color:rgb(255, 255, 255)\">rgb</span></body>");
  EXPECT_EQ(r.text, "inverse");
  EXPECT_EQ(r.hidden_text_bytes, 9u + 5u + 4u + 3u);
}

TEST(HtmlToText, OtherHidingTricks) {
  const HtmlResult r = parse(
      "<div style=\"visibility:hidden\">vh<span style=\"visibility:visible\">vis</span></div>"
      "<p style=\"opacity:0\">op</p><p hidden>ha</p><p style=\"mso-hide:all\">mso</p>"
      "<div style=\"max-height:0;overflow:hidden\">mh</div><p style=\"color:transparent\">tr</p>"
      "<p style=\"display:block\">ok</p>");
  EXPECT_EQ(r.text, "vis\nok");
  EXPECT_EQ(r.hidden_text_bytes, 2u + 2u + 2u + 3u + 2u + 2u);
}

TEST(HtmlToText, TextMovedOffTheScreenIsHidden) {
  // Indented or shifted thousands of pixels away, or pushed below any screen by a margin:
  // the reader never sees it, the filter would.
  const HtmlResult r = parse(
      "<html><head><style>.belowView { margin-top: 470500px; }</style></head><body>"
      "<p>Lure</p><p style=\"text-indent:-9999px\">ti</p><div style=\"position:absolute;left:-5000px\">le</div>"
      "<div style=\"margin-left:-300em\">em</div><div style=\"padding:20000px 0 0 0\">pa</div>"
      "<div class=\"belowView\">salad</div>"
      // Layout, not hiding: small offsets, big widths, percentages, a normal margin.
      "<p style=\"text-indent:2em;margin-left:-20px;left:-50%\">a</p><p style=\"margin-top:40px;width:5000px\">b</p>"
      "</body></html>");
  EXPECT_EQ(r.text, "Lure\na\nb");
  EXPECT_EQ(r.hidden_text_bytes, 2u + 2u + 2u + 2u + 5u);
}

TEST(HtmlToText, StyleSheetClassesAndIdsHideText) {
  // "Hidden text salting": filler hidden through a <style> rule instead of an inline style.
  const HtmlResult r = parse(
      "<html><head><style type=\"text/css\"><!-- .salt { display: none !important } "
      "#s2{font-size:0px} /* comment { } */ span.pale{color:#ffffff} .a.b{visibility:hidden} "
      "p{color:#000} --></style></head><body>Buy <span class=\"x salt\">zzz</span>now"
      "<div id=\"s2\">qq</div><span class=pale>ww</span><em class=pale>em</em>"
      "<i class=\"a\">ia</i><i class=\"b a\">ab</i></body></html>");
  EXPECT_EQ(r.text, "Buy now\nemia");
  EXPECT_EQ(r.hidden_text_bytes, 3u + 2u + 2u + 2u);
}

TEST(HtmlToText, StyleSheetLimitsOfWhatIsApplied) {
  const HtmlResult r = parse(
      "<style>@media only screen and (max-width:600px) { .desk { display:none } }"
      "@import url(x.css); div p { display:none } .h:hover{display:none} [title]{display:none}"
      ".Case{display:none} .off{display:none} .off2{display:none} .off2{display:block}</style>"
      "<div class=desk>desktop</div><div><p>nested</p></div><p title=t>attr</p>"
      "<p class=case>case</p><p class=off style=\"display:block\">inline wins</p>"
      "<p class=off2>later rule wins</p>");
  EXPECT_EQ(r.text, "desktop\nnested\nattr\ncase\ninline wins\nlater rule wins");
  EXPECT_EQ(r.hidden_text_bytes, 0u);
}

TEST(HtmlToText, StyleSheetAppliesInFlatModeAndAfterTheContent) {
  const std::string doc = "<p>Buy <span class=h>zz</span>now</p><style>.h{display:none}</style>";
  const HtmlResult tree = parse(doc);
  const HtmlResult flat = parse(force_flat_prefix() + doc);
  EXPECT_EQ(tree.text, "Buy now");
  EXPECT_EQ(flat.text, tree.text);
  EXPECT_EQ(tree.hidden_text_bytes, 2u);
  EXPECT_EQ(flat.hidden_text_bytes, 2u);
}

TEST(HtmlToText, HugeStyleSheetsStayBounded) {
  std::string css;
  for (int i = 0; i < 200000; ++i) css += ".c" + std::to_string(i) + "{display:none}";
  std::string body;
  for (int i = 0; i < 20000; ++i) body += "<span class=\"c1 c2 c3 c4 c5 c6 c7 c8\">x</span>";
  // 256 KiB of style text are read (about 16,000 of the rules) and at most 4,096 rules
  // kept: c1..c8 are among them, so every span is hidden.
  const HtmlResult r = parse("<style>" + css + "{{{{</style>" + body + "end");
  EXPECT_EQ(r.text, "end");
  EXPECT_EQ(r.hidden_text_bytes, 20000u);

  // Thousands of rules under one class, or one tag repeated: each element looks at a
  // bounded number of them, and repeated selectors merge (the last value wins).
  std::string same_key;
  for (int i = 0; i < 5000; ++i) same_key += ".a.b" + std::to_string(i) + "{display:none}p{color:#000}";
  same_key += "p{display:none}";
  std::string many;
  for (int i = 0; i < 20000; ++i) many += "<span class=\"a b1\">y</span>";
  const HtmlResult r2 = parse("<style>" + same_key + "</style>" + many + "<p>para</p>tail");
  EXPECT_EQ(r2.text, "tail");
  EXPECT_EQ(r2.hidden_text_bytes, 20000u + 4u);
}

TEST(HtmlToText, ImageLinkWithAlt) {
  const HtmlResult r = parse(
      "<a href=\"http://evil.example/\"><img src=\"http://img.example/logo.png\" "
      "alt=\"www.paypal.com\"></a>");
  ASSERT_EQ(r.links.size(), 2u);
  EXPECT_EQ(r.links[0].tag, "a");
  EXPECT_EQ(r.links[0].url, "http://evil.example/");
  EXPECT_EQ(r.links[0].text, "www.paypal.com");  // no text: the alt shown for the image
  EXPECT_EQ(r.links[1].tag, "img");
  EXPECT_EQ(r.links[1].url, "http://img.example/logo.png");
  EXPECT_EQ(r.links[1].text, "www.paypal.com");
  EXPECT_EQ(r.text, "");
}

TEST(HtmlToText, EveryLinkBearingElement) {
  const HtmlResult r = parse(
      "<head><base href=\"http://base.example/\"><link rel=stylesheet href=\"/s.css\"></head>"
      "<body><iframe src=\"http://frame.example/\"></iframe><embed src=\"e.swf\">"
      "<object data=\"o.bin\"></object><map><area href=\"http://area.example/\" alt=\"Area\">"
      "</map><video src=\"v.mp4\"></video><foo-bar src=\"custom\"></foo-bar>"
      "<button formaction=\"http://fa.example/\">Go</button>"
      "<svg><a xlink:href=\"http://svg.example/\"><text>svg</text></a></svg></body>");
  std::vector<std::string> got;
  for (const Link& l : r.links) got.push_back(l.tag + " " + l.url + " [" + l.text + "]");
  EXPECT_EQ(got, (std::vector<std::string>{
                     "base http://base.example/ []", "link /s.css []",
                     "iframe http://frame.example/ []", "embed e.swf []", "object o.bin []",
                     "area http://area.example/ [Area]", "video v.mp4 []", "foo-bar custom []",
                     "button http://fa.example/ []", "a http://svg.example/ [svg]"}));
}

TEST(HtmlToText, TextareaAndSelectAreVisible) {
  const HtmlResult r = parse(
      "<textarea>a &amp; <b></textarea><select><option>one<option>two"
      "</select>");
  EXPECT_EQ(r.text, "a & <b>\none\ntwo");
}

TEST(HtmlToText, HundredThousandNestedDivs) {
  std::string html;
  for (int i = 0; i < 100000; ++i) html += "<div>";
  html += "deep <a href=\"http://deep.example/\">link</a><span style=\"display:none\">h</span>";
  for (int i = 0; i < 100000; ++i) html += "</div>";
  html += "after";
  const auto start = std::chrono::steady_clock::now();
  const HtmlResult r = parse(html);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.text, "deep link\nafter");
  EXPECT_EQ(urls_of(r), std::vector<std::string>{"http://deep.example/"});
  EXPECT_EQ(r.links[0].text, "link");
  EXPECT_EQ(r.hidden_text_bytes, 1u);
  // gumbo alone needs ~12 s here (quadratic scope walks); we must stay linear.
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST(HtmlToText, DeepUnclosedNestingStillCompletes) {
  std::string html;
  for (int i = 0; i < 50000; ++i) html += "<span><b><table><tr><td>";
  html += "bottom";
  const HtmlResult r = parse(html);
  EXPECT_EQ(r.text, "bottom");
}

TEST(HtmlToText, ReconstructedFormattingElementsStayBounded) {
  // In gumbo each <b> here re-opens all the earlier ones: a quadratic tree (1.6 GB, 4.5 s
  // for this input). The allocation cap turns it into flat mode.
  std::string html;
  for (int i = 0; i < 3000; ++i) html += "<p><b id=" + std::to_string(i) + "></p>";
  html += "<p>end <a href=\"http://end.example/\">e</a></p>";
  const auto start = std::chrono::steady_clock::now();
  const HtmlResult r = parse(html);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(r.text, "end e");
  EXPECT_EQ(urls_of(r), std::vector<std::string>{"http://end.example/"});
}

TEST(HtmlToText, MisnestedAnchorsAroundBlocksStayLinear) {
  // gumbo's adoption agency nests each <div> one level deeper here: 1.5 MB took ~15 s.
  std::string html;
  for (int i = 0; i < 100000; ++i) html += "<a href=x><div>";
  html += "end";
  const auto start = std::chrono::steady_clock::now();
  const HtmlResult r = parse(html);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(r.text, "end");
  EXPECT_EQ(r.links.size(), kLinks);
}

TEST(HtmlToText, ManyCommentsStayLinear) {
  std::string html;
  for (int i = 0; i < 200000; ++i) html += "x<!--c-->";
  const auto start = std::chrono::steady_clock::now();
  const HtmlResult r = parse(html);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(r.text, std::string(200000, 'x'));
}

TEST(HtmlToText, ManyAttributesCannotHideALinkOrAStyle) {
  std::string pad;
  for (int i = 0; i < 40000; ++i) pad += " a" + std::to_string(i);
  const HtmlResult r = parse("<a" + pad + " href=\"http://evil.example/\">click</a><div" + pad +
                             " style=\"display:none\">secret</div>shown");
  EXPECT_EQ(urls_of(r), std::vector<std::string>{"http://evil.example/"});
  EXPECT_EQ(r.links[0].text, "click");
  EXPECT_EQ(r.text, "click\nshown");
  EXPECT_EQ(r.hidden_text_bytes, 6u);
}

TEST(HtmlToText, HugeAttributeValues) {
  const std::string big(2'000'000, 'a');
  const HtmlResult r = parse("<div title=\"" + big + "\">t</div><a href=\"http://x.example/" + big +
                             "\">long</a><img alt=\"" + big + "\" src=\"i.png\">");
  EXPECT_EQ(r.text, "t\nlong");
  ASSERT_EQ(r.links.size(), 2u);
  EXPECT_EQ(r.links[0].url.rfind("http://x.example/aaaa", 0), 0u);
  EXPECT_LE(r.links[0].url.size(), 8192u);
  EXPECT_EQ(r.links[0].text, "long");
  EXPECT_EQ(r.links[1].url, "i.png");
  EXPECT_LE(r.links[1].text.size(), 1024u);
}

TEST(HtmlToText, MaxTextCutsOnUtf8Boundary) {
  const HtmlResult r = html_to_text("<p>\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9</p>", 5, kLinks);
  EXPECT_EQ(r.text, "\xC3\xA9\xC3\xA9");
  const HtmlResult zero = html_to_text("<p>abc</p>", 0, kLinks);
  EXPECT_EQ(zero.text, "");
}

TEST(HtmlToText, MaxLinksCapsLinks) {
  std::string html;
  for (int i = 0; i < 50; ++i)
    html += "<a href=\"http://l" + std::to_string(i) + ".example/\">x</a>";
  const HtmlResult r = html_to_text(html, kText, 10);
  ASSERT_EQ(r.links.size(), 10u);
  EXPECT_EQ(r.links[9].url, "http://l9.example/");
  EXPECT_TRUE(html_to_text(html, kText, 0).links.empty());
}

TEST(HtmlToText, EmptyAndGarbageInput) {
  EXPECT_EQ(parse("").text, "");
  EXPECT_TRUE(parse("").links.empty());
  std::string junk;
  for (int i = 0; i < 4096; ++i) junk.push_back(static_cast<char>((i * 7919) & 0xFF));
  const HtmlResult r = parse(junk);
  EXPECT_LE(r.text.size(), kText);
  // '<' not followed by a letter is text; "</>" vanishes; "</ x>" and "<!--" are comments.
  EXPECT_EQ(parse("<<<>>></></ x><!--").text, "<<<>>>");
  EXPECT_EQ(parse(force_flat_prefix() + "<<<>>></></ x><!--").text, "<<<>>>");
}

TEST(HtmlToText, FlatModeAgreesWithTreeMode) {
  const std::string doc =
      "<html><head><title>T</title><meta http-equiv=refresh content=\"0;url=http://r/\">"
      "</head><body bgcolor=\"#ffffff\"><p>Dear   customer,<br>your <b>account</b> &amp; "
      "&#x41;&nbsp;B is <a href=\" http://evil.example/lo\ngin \">www.paypal.com <i>login</i>"
      "</a>.</p><div style=\"display:none\">secret words</div><font color=white>ww</font>"
      "<div style=\"font-size:0\"><span style=\"font-size:14px\">kept</span></div>"
      "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>"
      "<form action=\"http://phish/post\"><input type=password><input type=submit "
      "value=\"Sign in\"></form><a href=\"http://x/\"><img src=\"http://img/l.png\" alt=\"Pay\">"
      "</a><script>document.write('<p>no</p>')</script><textarea>t&amp;a</textarea>"
      "<ul><li>one<li>two</ul><p>p1<p>p2</body></html>";
  const HtmlResult tree = parse(doc);
  const HtmlResult flat = parse(force_flat_prefix() + doc);
  EXPECT_EQ(tree.text,
            "Dear customer,\nyour account & A B is www.paypal.com login.\nkept\na b\nc\nSign in"
            "\nt&a\none\ntwo\np1\np2");
  EXPECT_EQ(flat.text, tree.text);
  EXPECT_EQ(flat.hidden_text_bytes, tree.hidden_text_bytes);
  EXPECT_EQ(flat.script_count, tree.script_count);
  EXPECT_EQ(flat.form_count, tree.form_count);
  EXPECT_EQ(flat.password_input, tree.password_input);
  ASSERT_EQ(flat.links.size(), tree.links.size());
  for (std::size_t i = 0; i < tree.links.size(); ++i) {
    EXPECT_EQ(flat.links[i].url, tree.links[i].url) << i;
    EXPECT_EQ(flat.links[i].text, tree.links[i].text) << i;
    EXPECT_EQ(flat.links[i].tag, tree.links[i].tag) << i;
  }
}

TEST(HtmlToText, FlatModeKeepsTextAcrossChunks) {
  // Far more than one flat chunk (256 KiB of rewritten markup); words must not merge at
  // chunk boundaries.
  std::string html = force_flat_prefix();
  std::string expected;
  for (int i = 0; i < 40000; ++i) {
    html += "<b>w" + std::to_string(i) + "</b> ";
    if (i > 0) expected += ' ';
    expected += "w" + std::to_string(i);
  }
  EXPECT_EQ(parse(html).text, expected);
}

}  // namespace
}  // namespace bulwark::mime
