#include "rules/freemail.h"

#include <algorithm>
#include <array>
#include <iterator>
#include <vector>

namespace bulwark::rules {

namespace {

// Webmail services (not ISPs' customer mailboxes), by region.
constexpr std::string_view kDomains[] = {
    // International
    "gmail.com", "googlemail.com", "outlook.com", "live.com", "msn.com", "passport.com", "aol.com", "aim.com",
    "icloud.com", "me.com", "mac.com", "protonmail.com", "protonmail.ch", "proton.me", "pm.me", "tutanota.com",
    "tutanota.de", "tuta.io", "tutamail.com", "zoho.com", "zohomail.com", "fastmail.com", "fastmail.fm",
    "hushmail.com", "hush.com", "mailfence.com", "posteo.de", "posteo.net", "mailbox.org", "gmx.com", "gmx.net",
    "rocketmail.com", "inbox.com", "lycos.com", "excite.com", "netscape.net", "netscape.com", "juno.com",
    "netzero.net", "netzero.com", "usa.net", "myway.com", "mail2world.com", "eudoramail.com", "operamail.com",
    "postmark.net", "latinmail.com", "hotpop.com", "ureach.com", "lavabit.com", "runbox.com", "startmail.com",
    // mail.com and its many vanity domains
    "mail.com", "email.com", "usa.com", "post.com", "consultant.com", "engineer.com", "europe.com", "asia.com",
    "myself.com", "techie.com", "writeme.com", "dr.com", "cheerful.com", "accountant.com", "doctor.com",
    "iname.com", "execs.com", "workmail.com",
    // Disposable addresses
    "mailinator.com", "guerrillamail.com", "guerrillamail.net", "sharklasers.com", "10minutemail.com",
    "yopmail.com", "trashmail.com", "temp-mail.org", "dispostable.com", "getnada.com", "maildrop.cc",
    // Europe
    "web.de", "freenet.de", "t-online.de", "arcor.de", "email.de", "laposte.net", "caramail.com", "orange.fr",
    "wanadoo.fr", "free.fr", "sfr.fr", "libero.it", "virgilio.it", "tiscali.it", "alice.it", "tin.it",
    "email.it", "inwind.it", "sapo.pt", "terra.es", "wp.pl", "o2.pl", "onet.pl", "op.pl", "interia.pl",
    "gazeta.pl", "poczta.fm", "seznam.cz", "centrum.cz", "atlas.cz", "email.cz", "azet.sk", "centrum.sk",
    "freemail.hu", "citromail.hu", "abv.bg", "mail.bg", "walla.com", "walla.co.il", "mail.ee",
    // Russia, Ukraine and neighbours
    "mail.ru", "bk.ru", "list.ru", "inbox.ru", "internet.ru", "rambler.ru", "lenta.ru", "pochta.ru",
    "ukr.net", "i.ua", "meta.ua", "bigmir.net", "mail.ua", "tut.by",
    // Asia
    "qq.com", "foxmail.com", "163.com", "126.com", "yeah.net", "sina.com", "sina.cn", "sohu.com", "tom.com",
    "21cn.com", "139.com", "aliyun.com", "naver.com", "hanmail.net", "daum.net", "nate.com", "rediffmail.com",
    "sify.com", "indiatimes.com", "hongkong.com",
    // The Americas, Africa
    "bol.com.br", "uol.com.br", "ig.com.br", "terra.com.br", "zipmail.com.br", "r7.com", "mymail.co.za",
};

// Providers under many country domains, by first label of the registrable domain.
constexpr std::array<std::string_view, 9> kFamilies = {"yahoo", "ymail", "hotmail", "windowslive", "gmx",
                                                       "yandex", "lycos", "aol", "outlook"};

}  // namespace

bool freemail_domain_listed(std::string_view registrable) {
  static const std::vector<std::string_view> sorted = [] {
    std::vector<std::string_view> v(std::begin(kDomains), std::end(kDomains));
    std::sort(v.begin(), v.end());
    return v;
  }();
  return std::binary_search(sorted.begin(), sorted.end(), registrable);
}

bool freemail_family(std::string_view label) {
  return std::find(kFamilies.begin(), kFamilies.end(), label) != kFamilies.end();
}

}  // namespace bulwark::rules
