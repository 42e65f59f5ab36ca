#!/usr/bin/env python3
"""An attachment-heavy corpus for bench/inspect: N messages, each carrying documents,
archives or nested containers (all clean, deterministic for a given seed).

Usage: gen_attachment_corpus.py OUT_DIR [N] [SEED]

Kinds, in rotation: OOXML document (docx/xlsx: a zip of XML parts), PDF, RTF, zip of text
files, tar.gz, tar.xz, tar.bz2, nested (zip in tar.gz in zip), a forwarded message/rfc822
carrying a zip, an HTML attachment, and a PNG-like binary. Attachment bodies are 4-160 KB
of word-like text so that decompression and signature matching have real work to do.
"""
import base64
import io
import os
import random
import sys
import tarfile
import zipfile

WORDS = ("invoice quarterly figures meeting agenda budget report delivery schedule "
         "contract review approval customer supplier shipment payment balance account "
         "summary attached please find regards team project update status").split()


def text(rng, size):
    out, n = [], 0
    while n < size:
        w = rng.choice(WORDS)
        out.append(w)
        n += len(w) + 1
        if rng.random() < 0.08:
            out.append(".\n")
    return " ".join(out)[:size]


def zip_of(files):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files:
            z.writestr(name, data)
    return buf.getvalue()


def tar_of(files, mode):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as t:
        for name, data in files:
            if isinstance(data, str):
                data = data.encode()
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mtime = 1688378400
            t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def docx(rng):
    body = "".join("<w:p><w:r><w:t>%s</w:t></w:r></w:p>" % text(rng, 200)
                   for _ in range(rng.randint(20, 200)))
    return zip_of([
        ("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
         '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'),
        ("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>'),
        ("word/document.xml", '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>%s</w:body></w:document>' % body),
    ])


def xlsx(rng):
    rows = "".join('<row r="%d"><c r="A%d"><v>%d</v></c><c r="B%d" t="inlineStr"><is><t>%s</t></is></c></row>'
                   % (i, i, rng.randint(0, 99999), i, rng.choice(WORDS)) for i in range(1, rng.randint(200, 2000)))
    return zip_of([
        ("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'),
        ("xl/workbook.xml", '<?xml version="1.0"?><workbook/>'),
        ("xl/worksheets/sheet1.xml", '<?xml version="1.0"?><worksheet><sheetData>%s</sheetData></worksheet>' % rows),
    ])


def pdf(rng):
    content = "BT /F1 11 Tf 50 750 Td (%s) Tj ET" % text(rng, rng.randint(2000, 40000)).replace("\n", " ")
    objs = ["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
            "<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content)]
    out, offsets = "%PDF-1.4\n", []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += "%d 0 obj\n%s\nendobj\n" % (i, o)
    xref = len(out)
    out += "xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += "".join("%010d 00000 n \n" % o for o in offsets)
    out += "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return out.encode()


def rtf(rng):
    return ("{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Times;}}\\f0\\fs22 %s\\par}"
            % text(rng, rng.randint(4000, 60000)).replace("\n", "\\par ")).encode()


def b64(data):
    return base64.encodebytes(data).decode().replace("\n", "\r\n")


def message(subject, parts, boundary):
    out = ("From: bench@example.com\r\nTo: rcpt@example.com\r\nSubject: %s\r\n"
           "Date: Mon, 3 Jul 2023 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
           "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n" % (subject, boundary))
    for ctype, name, data in parts:
        out += "--%s\r\n" % boundary
        if name is None and ctype == "message/rfc822":
            out += "Content-Type: message/rfc822\r\n\r\n%s\r\n" % data
        elif name is None:
            out += "Content-Type: %s; charset=utf-8\r\n\r\n%s\r\n" % (ctype, data)
        else:
            out += ("Content-Type: %s; name=\"%s\"\r\nContent-Disposition: attachment; filename=\"%s\"\r\n"
                    "Content-Transfer-Encoding: base64\r\n\r\n%s" % (ctype, name, name, b64(data)))
    return out + "--%s--\r\n" % boundary


def attachment(kind, rng):
    files = [("doc%d.txt" % i, text(rng, rng.randint(4000, 40000))) for i in range(rng.randint(2, 6))]
    if kind == 0:
        return "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "report.docx", docx(rng)
    if kind == 1:
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "figures.xlsx", xlsx(rng)
    if kind == 2:
        return "application/pdf", "statement.pdf", pdf(rng)
    if kind == 3:
        return "application/rtf", "letter.rtf", rtf(rng)
    if kind == 4:
        return "application/zip", "documents.zip", zip_of(files)
    if kind == 5:
        return "application/gzip", "documents.tar.gz", tar_of(files, "w:gz")
    if kind == 6:
        return "application/x-xz", "documents.tar.xz", tar_of(files, "w:xz")
    if kind == 7:
        return "application/x-bzip2", "documents.tar.bz2", tar_of(files, "w:bz2")
    if kind == 8:
        inner = zip_of(files)
        mid = tar_of([("inner.zip", inner), ("notes.txt", text(rng, 3000))], "w:gz")
        return "application/zip", "bundle.zip", zip_of([("bundle.tar.gz", mid), ("readme.txt", "see bundle")])
    if kind == 9:
        return "text/html", "page.html", ("<html><body><h1>Report</h1><p>%s</p></body></html>"
                                          % text(rng, rng.randint(4000, 60000))).encode()
    data = b"\x89PNG\r\n\x1a\n" + bytes(rng.getrandbits(8) for _ in range(rng.randint(4000, 120000)))
    return "image/png", "photo.png", data


def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 2023)
    os.makedirs(out, exist_ok=True)
    for i in range(n):
        kind = i % 12
        parts = [("text/plain", None, text(rng, rng.randint(200, 2000)))]
        if kind == 11:
            inner = message("fwd %d" % i, [("text/plain", None, "forwarded"), attachment(4, rng)], "inner%d" % i)
            parts.append(("message/rfc822", None, inner))
        else:
            parts.append(attachment(kind, rng))
            if rng.random() < 0.3:
                parts.append(attachment(rng.randrange(11), rng))
        with open(os.path.join(out, "%05d.eml" % i), "w", newline="") as f:
            f.write(message("bench %d" % i, parts, "b%d" % i))


if __name__ == "__main__":
    main()
