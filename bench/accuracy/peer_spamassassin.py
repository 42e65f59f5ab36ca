"""SpamAssassin as a peer engine for bench_accuracy.py (stdlib only).

    results, cpu_seconds, extra = run(args, work, layout)

Bayes is trained on TRAIN into a private database under `work`, then TEST is scanned by
long-lived `perl` processes that load Mail::SpamAssassin once (the `spamassassin` CLI would
pay ~1-2 CPU-s of rule parsing per message, which would swamp the measurement). Local tests
only: no DNSBL/URIBL, Razor, Pyzor, DCC. The ruleset is whatever the installed package finds
(sa-update's dir under /var/lib/spamassassin if present, else /usr/share/spamassassin);
sa-update is never run. Nothing outside `work` is written.

Training uses the same Perl script rather than `sa-learn`: sa-learn cannot be given
home_dir_for_helpers, so it creates ~/.spamassassin (its "global state dir" probe uses the
passwd home, not $HOME); one script also guarantees training and scanning share one config.
"""
import os
import pathlib
import resource
import subprocess
import sys
import time

# Same values the Debian `spamassassin`/`sa-learn` scripts compile in; passing them lets the
# library resolve its default rule/site paths exactly as the CLI does.
PATHS = dict(PREFIX="/usr", DEF_RULES_DIR="/usr/share/spamassassin",
             LOCAL_RULES_DIR="/etc/spamassassin", LOCAL_STATE_DIR="/var/lib/spamassassin")
NPROC = 2  # scanners in parallel; CPU time is what is reported, so this only saves wall time

# `perl sa.pl MODE WORK CONF LIST TAG`, MODE = spam|ham (learn LIST) or scan. Scan prints
# "path\tscore\tis_spam\tbayes_p\tBAYES_rule" per message. Config comes in as
# post_config_text (admin level, appended after the site config).
SCRIPT = r"""
use strict; use warnings;
use Mail::SpamAssassin;
my ($mode, $work, $cf, $list, $tag) = @ARGV;
open(my $c, '<', $cf) or die "$cf: $!"; my $post = do { local $/; <$c> }; close $c;
my $sa = Mail::SpamAssassin->new({
  %PATHS%
  local_tests_only => 1, dont_copy_prefs => 1,
  userprefs_filename => "$work/user_prefs", userstate_dir => "$work/state",
  home_dir_for_helpers => "$work/home", post_config_text => $post,
});
sub each_message {
  my ($fn) = @_; my $n = 0;
  open(my $l, '<', $list) or die "$list: $!";
  while (my $path = <$l>) {
    chomp $path;
    open(my $fh, '<', $path) or do { print "$path	ERR
"; next };
    my $text = do { local $/; <$fh> }; close $fh;
    my $msg = $sa->parse($text, 1);
    $fn->($path, $msg);
    $msg->finish;
    print STDERR "  spamassassin[$tag]: $n
" if ++$n % 500 == 0;
  }
}
$| = 1;
if ($mode ne 'scan') {  # what sa-learn does: direct to the DB, no journal
  $sa->init_learner({ wait_for_lock => 1, caller_will_untie => 1, learn_to_journal => 0 });
  my $learned = 0;
  each_message(sub {
    my $st = $sa->learn($_[1], undef, $mode eq 'spam', 0);
    defined $st->did_learn or die "Bayes learning unavailable
";
    $learned += $st->did_learn; $st->finish;
  });
  $sa->finish_learner;
  print "#learned	$learned
";
  exit 0;
}
$sa->compile_now(1);  # parse + compile rules now, so the first message is not special
my ($ns, $nh) = (0, 0);  # as the scanner's own Bayes store sees it: proves the DB is found
for my $p (@{ $sa->{plugins}->{plugins} }) {
  next unless $p->isa('Mail::SpamAssassin::Plugin::Bayes') && $p->{store};
  if ($p->{store}->tie_db_readonly) { ($ns, $nh) = $p->{store}->nspam_nham_get; $p->{store}->untie_db }
}
my @t = times;
print join("	", "#init", $t[0] + $t[1], Mail::SpamAssassin::Version(), $ns, $nh,
  $sa->first_existing_path(@Mail::SpamAssassin::default_rules_path) // ''), "
";
each_message(sub {
  my $st = $sa->check($_[1]);
  my ($bayes) = grep { /^BAYES_/ } split /,/, $st->get_names_of_tests_hit;
  printf "%s	%.3f	%d	%s	%s
", $_[0], $st->get_score, $st->is_spam ? 1 : 0,
    $st->{bayes_score} // '', $bayes // '';
  $st->finish;
});
print "#required	", $sa->{conf}->{required_score}, "
";
"""


def _config(work: pathlib.Path) -> str:
    """Plugin-specific options are wrapped in ifplugin: an option of a plugin that is not
    loaded is a config parse error."""
    return "\n".join([
        "use_bayes 1",
        "bayes_auto_learn 0",                # TEST must not leak into the model
        f"bayes_path {work / 'bayes' / 'bayes'}",
        "bayes_auto_expire 0",
        "bayes_learn_to_journal 0",
        "bayes_journal_max_size 0",          # scans only journal token atimes; never sync
        "dns_available no",
        "skip_rbl_checks 1",
        "ifplugin Mail::SpamAssassin::Plugin::AWL", "use_auto_whitelist 0", "endif",
        "ifplugin Mail::SpamAssassin::Plugin::TxRep", "use_txrep 0", "endif",
        "ifplugin Mail::SpamAssassin::Plugin::Razor2", "use_razor2 0", "endif",
        "ifplugin Mail::SpamAssassin::Plugin::Pyzor", "use_pyzor 0", "endif",
        "ifplugin Mail::SpamAssassin::Plugin::DCC", "use_dcc 0", "endif",
    ]) + "\n"


def _cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _files(d) -> list:
    return sorted(str(p) for p in pathlib.Path(d).iterdir() if not p.name.startswith("."))


def _start(work, env, mode, paths, tag):
    """Starts the Perl script on a list file (not a stdin pipe: perl buffers stdin, so
    feeding one process would block before the next got any input)."""
    (work / f"{tag}.list").write_text("".join(f + "\n" for f in paths))
    out = open(work / f"{tag}.tsv", "w")
    p = subprocess.Popen(["perl", str(work / "sa.pl"), mode, str(work), str(work / "post.cf"),
                          str(work / f"{tag}.list"), tag], stdout=out, env=env)
    return p, out


def _wait(p, out) -> list:
    p.wait()
    out.close()
    if p.returncode != 0:
        sys.exit(f"peer_spamassassin: perl failed ({p.returncode}); see {out.name}")
    return [line.split("\t") for line in pathlib.Path(out.name).read_text().splitlines()]


def run(args, work: pathlib.Path, layout: dict) -> tuple:
    work = pathlib.Path(work).resolve()
    for sub in ("bayes", "state", "home"):
        (work / sub).mkdir(parents=True, exist_ok=True)
    (work / "user_prefs").write_text("# empty: keeps SpamAssassin off ~/.spamassassin\n")
    (work / "post.cf").write_text(_config(work))
    (work / "sa.pl").write_text(SCRIPT.replace(
        "%PATHS%", " ".join(f"{k} => '{v}'," for k, v in PATHS.items())))
    # HOME too: whatever still falls back to ~ lands in the work dir, not the real home
    env = dict(os.environ, HOME=str(work / "home"))

    # Train: spam then ham, one process each, sequentially (they share the DB lock).
    t0, extra = time.monotonic(), {}
    for kind in ("spam", "ham"):
        lines = _wait(*_start(work, env, kind, _files(layout[("train", kind)]), f"learn-{kind}"))
        extra[f"learned_{kind}"] = int(lines[-1][1])
    extra["train_seconds"] = round(time.monotonic() - t0, 1)
    print(f"  spamassassin: trained in {extra['train_seconds']} s", file=sys.stderr)

    # Scan: round-robin so each scanner gets a similar mix of spam and ham.
    groups = ("spam", "easy-ham", "hard-ham")
    todo = [(g, f) for g in groups for f in _files(layout[("test", g)])]
    group_of = {f: g for g, f in todo}
    cpu0, t0 = _cpu_children(), time.monotonic()
    procs = [_start(work, env, "scan", [f for _, f in todo[i::NPROC]], f"scan{i}")
             for i in range(NPROC)]
    outputs = [_wait(p, out) for p, out in procs]
    cpu = _cpu_children() - cpu0
    extra["scan_wall_seconds"] = round(time.monotonic() - t0, 1)

    results = {g: [] for g in groups}
    init_cpu, bayes_hits, errors = 0.0, 0, 0
    for f in (f for lines in outputs for f in lines):
        if f[0] == "#init":
            init_cpu += float(f[1])
            extra.update(version=f"SpamAssassin {f[2]}", bayes_nspam=int(f[3]),
                         bayes_nham=int(f[4]), ruleset=f[5])
        elif f[0] == "#required":
            extra["required_score"] = float(f[1])
        elif f[1] == "ERR":
            errors += 1
        else:
            bayes_hits += bool(f[4])
            results[group_of[f[0]]].append({"file": f[0], "score": float(f[1]),
                                            "flagged": f[2] == "1",
                                            "p": float(f[3]) if f[3] else None})
    n = sum(len(v) for v in results.values())
    extra.update(scan_init_cpu_seconds=round(init_cpu, 2), bayes_rule_hits=bayes_hits,
                 unreadable=errors, scanned=n)
    if min(extra.get("bayes_nspam", 0), extra.get("bayes_nham", 0)) < 200:
        print("  spamassassin: WARNING: the scanner sees <200 spam or ham in its Bayes DB",
              file=sys.stderr)
    if n and bayes_hits < n * 0.9:
        # a BAYES_xx rule fires on every message once the DB has >=200/200; if not, the
        # scanner is not reading the DB training wrote, or Bayes is off
        print(f"  spamassassin: WARNING: a BAYES_ rule hit only {bayes_hits}/{n} messages",
              file=sys.stderr)
    if errors or n != len(todo):
        print(f"  spamassassin: WARNING: {len(todo) - n} of {len(todo)} not scanned",
              file=sys.stderr)
    return results, cpu, extra
