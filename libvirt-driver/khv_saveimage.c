// SPDX-License-Identifier: GPL-2.0
/*
 * khv_saveimage.c: a save image's trailer (khv_saveimage.h).  Every value
 * read from an image is checked here: the image is a file anyone with
 * write access to it may have changed.
 */
#include <string.h>

#include "khv_saveimage.h"

static void
put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = v >> (8 * i);
}

static void
put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = v >> (8 * i);
}

static uint32_t
get32(const unsigned char *p)
{
    uint32_t v = 0;

    for (int i = 3; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint64_t
get64(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

void
khvSaveTrailerEncode(const khvSaveTrailer *t, unsigned char buf[KHV_SAVE_TRAILER_LEN])
{
    memset(buf, 0, KHV_SAVE_TRAILER_LEN);
    memcpy(buf, KHV_SAVE_MAGIC, 16);
    put32(buf + 16, t->version);
    put32(buf + 20, t->flags);
    put64(buf + 24, t->xmlOffset);
    put64(buf + 32, t->xmlLen);
}

int
khvSaveTrailerDecode(const unsigned char buf[KHV_SAVE_TRAILER_LEN], uint64_t fileSize,
                     khvSaveTrailer *t, const char **why)
{
    if (fileSize < KHV_SAVE_TRAILER_LEN || memcmp(buf, KHV_SAVE_MAGIC, 16) != 0) {
        *why = "not a save image of a khv domain (no trailer)";
        return -1;
    }
    t->version = get32(buf + 16);
    t->flags = get32(buf + 20);
    t->xmlOffset = get64(buf + 24);
    t->xmlLen = get64(buf + 32);
    if (t->version != KHV_SAVE_VERSION) {
        *why = "a save image of another version of the khv driver";
        return -1;
    }
    if (t->flags & ~KHV_SAVE_RUNNING) {
        *why = "the save image's trailer has unknown flags";
        return -1;
    }
    for (int i = 40; i < KHV_SAVE_TRAILER_LEN; i++) {
        if (buf[i]) {
            *why = "the save image's trailer has reserved bytes set";
            return -1;
        }
    }
    if (t->xmlLen == 0 || t->xmlLen > KHV_SAVE_XML_MAX) {
        *why = "the save image's domain XML is empty or too long";
        return -1;
    }
    /* Each bounded, so the sum cannot wrap. */
    if (t->xmlOffset < KHV_SAVE_SNAPSHOT_MIN || t->xmlOffset > fileSize ||
        t->xmlOffset + t->xmlLen + KHV_SAVE_TRAILER_LEN != fileSize) {
        *why = "the save image is truncated or its trailer is damaged";
        return -1;
    }
    return 0;
}

int
khvSaveXMLCheck(const char *xml, size_t n, const char **why)
{
    if (memchr(xml, 0, n)) {
        *why = "the save image's domain XML has a NUL byte";
        return -1;
    }
    return 0;
}
