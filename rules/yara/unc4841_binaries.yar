/*
 * Strings of the campaign's Linux implants that the reports publish. Bulwark sees these
 * only if an implant travels by mail (an attachment or an archive member); they are here
 * because the reports give stable strings, not because mail is their usual path.
 *   Mandiant, "Barracuda ESG Zero-Day Vulnerability (CVE-2023-2868) Exploited Globally by
 *     Aggressive and Persistent Suspected China-Nexus Espionage Actor", 2023-06-15;
 *   CISA AR23-250A (SEASPY and WHIRLPOOL backdoors), 2023-09-07.
 */

rule Bulwark_ESG_Whirlpool_Strings
{
  meta:
    description = "WHIRLPOOL, the TLS reverse-shell backdoor: an ELF with its connect routines and source file name"
    source = "Mandiant CVE-2023-2868 report (2023-06-15), WHIRLPOOL hunting strings; CISA AR23-250A (2023-09-07)"
    severity = "threat"
  strings:
    $c1 = "plain_connect" fullword
    $c2 = "ssl_connect" fullword
    $c3 = "SSLShell.c" fullword
  condition:
    uint32(0) == 0x464c457f and filesize < 16MB and all of them
}

rule Bulwark_ESG_Seaspy_Masquerade : suspicious
{
  meta:
    description = "An ELF that names itself BarracudaMailService, the service name SEASPY masqueraded as"
    source = "Mandiant CVE-2023-2868 report (2023-06-15): SEASPY masquerades as BarracudaMailService; CISA AR23-250A (2023-09-07)"
    severity = "suspicious"
  strings:
    $name = "BarracudaMailService"
  condition:
    uint32(0) == 0x464c457f and filesize < 16MB and $name
}
