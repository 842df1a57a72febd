// libxml2's C API (tree parser), used only to read *_MTL.xml. Debian: libxml2-dev.
//
// Debian's libxml2 is built with ICU, so <libxml/encoding.h> would include the system's
// <unicode/ucnv.h>, whose UErrorCode clashes with the ICU copy inside Foundation
// (_FoundationICU) in any module that imports both. We never touch the ICU converter fields of
// xmlCharEncodingHandler (nor allocate one), so the headers are read without them.
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
