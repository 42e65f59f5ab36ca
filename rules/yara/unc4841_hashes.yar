/*
 * Published file hashes of the 2023 Barracuda ESG campaign (UNC4841), matched on the whole
 * blob. Hashing costs CPU on every blob, so each rule first bounds the size (all published
 * samples below are small scripts, SQL triggers or exploit files) and YARA evaluates the
 * size test first.
 *
 * SHA-256 values: the sample hashes in the YARA rules (sha256_1) of CISA AR23-209A,
 * "MAR-10454006-r1.v2 Barracuda Backdoor (SUBMARINE)", 2023-07-28. They were copied from
 * the rule metadata as reproduced in public rule collections, not recomputed from samples
 * (Bulwark has none).
 *
 * MD5 values: the sample hashes in the hunting rules of Mandiant, "Barracuda ESG Zero-Day
 * Vulnerability (CVE-2023-2868) Exploited Globally by Aggressive and Persistent Suspected
 * China-Nexus Espionage Actor", 2023-06-15 (SEASIDE, SKIPJACK installer, SKIPJACK,
 * SEASPRAY; WHIRLPOOL's binary is larger, hence its own bound).
 */
import "hash"

rule Bulwark_ESG_Published_SHA256
{
  meta:
    description = "A file whose SHA-256 is one of the SUBMARINE / CVE-2023-2868 samples published by CISA"
    source = "CISA AR23-209A, MAR-10454006-r1.v2 (SUBMARINE), 2023-07-28"
    severity = "threat"
  condition:
    filesize < 512KB and (
      // CISA_10454006_01: SUBMARINE backdoor component
      hash.sha256(0, filesize) == "81cf3b162a4fe1f1b916021ec652ade4a14df808021eeb9f7c81c8d2326bddab" or
      // CISA_10454006_02: encoded GZIP archive
      hash.sha256(0, filesize) == "6dd8de093e391da96070a978209ebdf9d807e05c89dba13971be5aea2e1251d0" or
      // CISA_10454006_03: SUBMARINE launcher script
      hash.sha256(0, filesize) == "bbbae0455f8c98cc955487125a791052353456c8f652ddee14f452415c0b235a" or
      // CISA_10454006_04: SUBMARINE launcher script
      hash.sha256(0, filesize) == "b98f8989e8706380f779bfd464f3dea87c122651a7a6d06a994d9a4758e12e43" or
      // CISA_10454006_05: SUBMARINE launcher script (bsmtpd control script)
      hash.sha256(0, filesize) == "cc131dd1976a47ee3b631a136c3224a138716e9053e04d8bea3ee2e2c5de451a" or
      // CISA_10454006_06: SUBMARINE SQL trigger
      hash.sha256(0, filesize) == "2a353e9c250e5ea905fa59d33faeaaa197d17b4a4785456133aab5dbc1d1d5d5" or
      // CISA_10454006_07: ESG file-name exploit (CVE-2023-2868)
      hash.sha256(0, filesize) == "8695945155d3a87a5733d31bf0f4c897e133381175e1a3cdc8c73d9e38640239"
    )
}

rule Bulwark_ESG_Published_MD5
{
  meta:
    description = "A file whose MD5 is one of the SEASIDE / SKIPJACK / SEASPRAY / WHIRLPOOL samples named in Mandiant's hunting rules"
    source = "Mandiant, Barracuda ESG Zero-Day Vulnerability (CVE-2023-2868) report, 2023-06-15"
    severity = "threat"
  condition:
    (filesize < 1MB and (
      hash.md5(0, filesize) == "cd2813f0260d63ad5adf0446253c2172" or  // SEASIDE (Lua)
      hash.md5(0, filesize) == "e4e86c273a2b67a605f5d4686783e0cc" or  // SKIPJACK installer
      hash.md5(0, filesize) == "87847445f9524671022d70f2a812728f" or  // SKIPJACK (Lua)
      hash.md5(0, filesize) == "35cf6faf442d325961935f660e2ab5a0"     // SEASPRAY (Lua)
    )) or
    (uint32(0) == 0x464c457f and filesize < 16MB and
      hash.md5(0, filesize) == "177add288b289d43236d2dba33e65956")    // WHIRLPOOL (ELF)
}

rule Bulwark_Hash_List_Selftest
{
  meta:
    description = "TEST ENTRY, not a published indicator: matches only Bulwark's harmless hash-list test sample (the 54 bytes 'Bulwark YARA hash-list self-test sample. Not malware.' and a newline), so the hash mechanism can be tested end to end, like EICAR for antivirus"
    source = "Bulwark test suite (tests/unit/inspect_av_test.cc), computed from the test sample"
    severity = "threat"
  condition:
    filesize == 54 and
    hash.sha256(0, filesize) == "7bcfac858cb64962221d8d9de9a4a9c2f38e5a093997a2a45e2a8c5fb840bf18"
}
