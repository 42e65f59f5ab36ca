/*
 * Lua mail-filter hooks of the 2023 Barracuda ESG campaign (UNC4841). The ESG's mail
 * scanner runs Lua modules on every message; the actor added hooks that run commands built
 * from the message: an attachment's file name (SEASPRAY), the SMTP HELO string (SEASIDE),
 * or an encrypted command carried in a Content-ID header (SKIPJACK). Written for Bulwark
 * from the public descriptions in:
 *   Mandiant, "Barracuda ESG Zero-Day Vulnerability (CVE-2023-2868) Exploited Globally by
 *     Aggressive and Persistent Suspected China-Nexus Espionage Actor", 2023-06-15
 *     (SEASIDE, SEASPRAY, SKIPJACK);
 *   Mandiant, "Diving Deep into UNC4841 Operations Following Barracuda ESG Zero-Day
 *     Remediation (CVE-2023-2868)", 2023-08-29 (SKIPJACK, DEPTHCHARGE).
 */

rule Bulwark_Lua_Exec_Message_Data
{
  meta:
    description = "Lua running a command built from message data: os.execute / io.popen with an attachment's file name or the HELO string in its argument"
    source = "Mandiant CVE-2023-2868 report (2023-06-15): SEASPRAY (os.execute with attachment:filename()), SEASIDE (on_helo hook, os.execute of a command built from the HELO string)"
    severity = "threat"
  strings:
    $attach = /(os\.execute|io\.popen)\s*\([^\n]{0,120}attachment:filename\s*\(\s*\)/
    $helo = /(os\.execute|io\.popen)\s*\([^\n]{0,120}\bhelo[A-Za-z0-9_]*\b/
    $fname = /(os\.execute|io\.popen)\s*\([^\n]{0,120}\.\.\s*[A-Za-z0-9_.:]{0,40}file_?name\b/
    $hook = /function\s+on_helo\s*\(/
    $exec = /(os\.execute|io\.popen)\s*\(/
  condition:
    $attach or $helo or $fname or ($hook and $exec)
}

rule Bulwark_Lua_Header_Decode_Exec
{
  meta:
    description = "Lua that reads a header body, base64-decodes it and runs the result (os.execute / io.popen)"
    source = "Mandiant CVE-2023-2868 report (2023-06-15) and follow-up (2023-08-29): SKIPJACK, a Lua hook that decodes a Content-ID header and executes it"
    severity = "threat"
  strings:
    $hdr = /hdr:(body|value)\s*\(\s*\)/
    $b64_match = /string\.match\s*\(\s*hdr:body\s*\(\s*\)\s*,\s*["']\^\[%w%\+\/=/
    $b64_call = /(base64|b64)[A-Za-z0-9_.:]{0,20}(decode|_d|dec)\w*\s*\(/ nocase
    $b64_cmd = /base64\s+(-d|--decode|-di|-id)/
    $exec = /(os\.execute|io\.popen)\s*\(/
  condition:
    filesize < 2MB and $hdr and $exec and ($b64_match or $b64_call or $b64_cmd)
}

rule Bulwark_ESG_ContentID_AES_Shell
{
  meta:
    description = "A Content-ID header's value decrypted with openssl aes-256-cbc and piped into a shell (SKIPJACK); also its base64-wrapped installer"
    source = "Mandiant CVE-2023-2868 report (2023-06-15): SKIPJACK hook and installation script (Content-ID header, openssl aes-256-cbc -d, base64 -d | sh)"
    severity = "threat"
  strings:
    $cid = "Content-ID" nocase
    $aes = /openssl\s+(enc\s+)?-?aes-256-cbc\b[^\n|]{0,200}\s-d\b/
    $aes_any = /openssl\s+(enc\s+)?-?aes-256-cbc\b/
    $sh = /\|\s*(\/usr)?(\/bin\/)?(ba|da|z|k)?sh\b/
    $cid_b64 = "hdr:name() == 'Content-ID'" base64
    $aes_b64 = "openssl aes-256-cbc" base64
  condition:
    ($cid and $aes and $sh) or
    ($cid and $aes_any and $sh and filesize < 64KB) or
    ($cid_b64 and $aes_b64)
}
