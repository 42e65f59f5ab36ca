/*
 * The CVE-2023-2868 delivery itself: a TAR attachment whose member file name carries a
 * shell command in backticks, closed and reopened with single quotes ('`...`') so that the
 * ESG's Perl code, which built a shell command around the quoted name (qx{}), ran it.
 * Written for Bulwark from the public descriptions in:
 *   Mandiant, "Barracuda ESG Zero-Day Vulnerability (CVE-2023-2868) Exploited Globally by
 *     Aggressive and Persistent Suspected China-Nexus Espionage Actor", 2023-06-15;
 *   Barracuda, "Barracuda Email Security Gateway Appliance (ESG) Vulnerability", 2023-05-23 (updated 2023-05-30);
 *   CISA AR23-209A (MAR-10454006-r1.v2, SUBMARINE), 2023-07-28: the exploit's file names.
 * Bulwark's own name checks (src/inspect/names.cc) look at every member name whatever the
 * container; these rules find the same payload in the raw bytes of a TAR blob, including
 * GNU long names and pax path records, which a name-only check could miss if an unpacker
 * rejected the archive.
 */

rule Bulwark_ESG_Tar_Name_Command_Injection
{
  meta:
    description = "A TAR member name (ustar name field, GNU ././@LongLink or pax path record) containing a quoted backtick command: '`...`'"
    source = "Mandiant CVE-2023-2868 report (2023-06-15): TAR file names formatted as '`<command>`'; CISA AR23-209A (2023-07-28)"
    severity = "threat"
  strings:
    $ustar = "ustar"
    $bt = /'`[^`\x00]{2,250}`[^'\x00]{0,32}'/
    $longlink = "././@LongLink"
    $pax = /[0-9]{1,6} path=[^\n\x00]{0,240}'`/
  condition:
    $ustar at 257 and (
      // in the name field (first 100 bytes) of a block that is itself a ustar header
      for any i in (1..#bt) : (
        @bt[i] % 512 < 100 and uint32(@bt[i] - @bt[i] % 512 + 257) == 0x61747375
      ) or
      // a GNU long name: the name is the data block after the ././@LongLink header
      for any j in (1..#longlink) : (
        @longlink[j] % 512 == 0 and $bt in (@longlink[j] + 512 .. @longlink[j] + 1024)
      ) or
      $pax
    )
}

rule Bulwark_Shell_Quoted_Backtick_Command : suspicious
{
  meta:
    description = "A quoted backtick command with shell syntax ('`...;...`' or with a pipe or $): the CVE-2023-2868 name payload outside a TAR header"
    source = "Mandiant CVE-2023-2868 report (2023-06-15)"
    severity = "suspicious"
  strings:
    $bt = /'`[^`\x00\r\n]{0,200}[;|$][^`\x00\r\n]{0,200}`[^'\x00\r\n]{0,32}'/
  condition:
    $bt
}
