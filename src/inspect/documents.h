// Document analysers: each looks at one blob of its type, raises named symbols for active
// content, and hands embedded objects back to the chain as child Blobs.
#pragma once

#include <string_view>

#include "inspect/inspect.h"

namespace bulwark::inspect {

// OLE2 / Compound File Binary: VBA projects (DOC_VBA_MACRO), Excel 4.0 macro sheets
// (DOC_XLM_MACRO), embedded Ole10Native packages (children, with their file names),
// encrypted documents (DOC_ENCRYPTED), equation-editor objects (DOC_EQUATION_EDITOR).
bool looks_like_ole(std::string_view bytes);
void inspect_ole(const Blob& blob, Inspector& insp);

// An OLE1 "Package" (the body of an \x01Ole10Native stream after its 4-byte size, and the
// native data of an RTF \objdata "Package" object): label, original path, temp path, data.
// Raises DOC_EMBEDDED_PACKAGE and inspects the data as a child named by its file names.
// Shared by ole.cc and rtf.cc.
void inspect_ole_package(std::string_view native, const Blob& parent, Inspector& insp);

// OOXML parts (members of a .docx/.xlsm/... zip, by their path; and OpenDocument's
// content.xml, for its text): vbaProject.bin is
// handled as OLE; *.rels with TargetMode="External" (DOC_EXTERNAL_TEMPLATE,
// DOC_EXTERNAL_OLE_LINK), DDE field codes (DOC_DDE), macro-enabled content types
// (DOC_MACRO_ENABLED).
bool is_ooxml_part(std::string_view member_path);
void inspect_ooxml_part(const Blob& blob, Inspector& insp);

// RTF: \object / \objdata (children: the decoded OLE object), \objupdate auto-updates,
// Equation.3 (DOC_EQUATION_EDITOR), obfuscation tricks (DOC_RTF_OBFUSCATED); the visible
// text goes to Results::text.
bool looks_like_rtf(std::string_view bytes);
void inspect_rtf(const Blob& blob, Inspector& insp);

// PDF: /JavaScript /JS /OpenAction /AA /Launch /EmbeddedFile (children) /SubmitForm
// /RichMedia /XFA, names hidden with #xx escapes, inside FlateDecode object streams too;
// encrypted files are decrypted (empty or found password: pdf_crypt.h); the page text
// goes to Results::text (pdf_text.h).
// /URI link targets go to Results::urls; image XObjects are read for QR codes (image.h).
bool looks_like_pdf(std::string_view bytes);
void inspect_pdf(const Blob& blob, Inspector& insp);

// HTML and SVG attachments: scripts (HTML_ATTACH_SCRIPT), forms posting credentials
// (HTML_ATTACH_CREDENTIAL_FORM), pages that navigate away as they open
// (HTML_ATTACH_REDIRECT), HTML smuggling (HTML_SMUGGLING: large base64 blobs assembled
// into a download — decoded and inspected as children). Redirect targets (atob() decoded)
// and password-form actions go to Results::urls.
void inspect_html_attachment(const Blob& blob, Inspector& insp);

}  // namespace bulwark::inspect
