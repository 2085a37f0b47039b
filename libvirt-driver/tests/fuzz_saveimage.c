// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_saveimage: a save image's trailer and XML checks (khv_saveimage.c)
 * on any file.  The input is the whole image; what the decoder accepts
 * must lie inside it, which is checked here, then the XML check reads it.
 *
 *   make -C libvirt-driver fuzz         clang's libFuzzer, FUZZ_SECONDS
 *   make -C libvirt-driver check-corpus the corpus (tests/corpus/saveimage)
 *                                       replayed under ASan and UBSan
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../khv_saveimage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	khvSaveTrailer t;
	const char *why = NULL;
	char *xml;

	if (size < KHV_SAVE_TRAILER_LEN) {
		unsigned char pad[KHV_SAVE_TRAILER_LEN] = { 0 };

		memcpy(pad, data, size);
		if (khvSaveTrailerDecode(pad, size, &t, &why) == 0 || !why)
			abort();	/* a file shorter than a trailer holds none */
		return 0;
	}
	if (khvSaveTrailerDecode(data + size - KHV_SAVE_TRAILER_LEN, size, &t, &why) < 0) {
		if (!why)
			abort();
		return 0;
	}
	if (t.xmlOffset + t.xmlLen + KHV_SAVE_TRAILER_LEN != size || t.xmlLen == 0 ||
	    t.xmlLen > KHV_SAVE_XML_MAX)
		abort();
	/* As the driver reads it: a copy, NUL-terminated. */
	xml = malloc(t.xmlLen + 1);
	if (!xml)
		return 0;
	memcpy(xml, data + t.xmlOffset, t.xmlLen);
	xml[t.xmlLen] = 0;
	if (khvSaveXMLCheck(xml, t.xmlLen, &why) == 0 && strlen(xml) != t.xmlLen)
		abort();
	free(xml);
	return 0;
}

#include "../../tools/khv-run/tests/fuzz_replay.h"
