/* SPDX-License-Identifier: GPL-2.0 */
/*
 * khv_saveimage.h: the layout of a libvirt save image of a khv domain
 * (virsh save, managed save; Documentation/khv/migration.rst).
 *
 *   [ khv-run's snapshot, as its snapshot-save writes it ]
 *   [ the domain's XML, UTF-8, no NUL                      ]
 *   [ trailer: 64 bytes, little-endian                     ]
 *
 * The trailer is at the end so that the file is still a snapshot khv-run
 * reads as it is (--restore stops at the stream's END section): the
 * driver restores by pointing khv-run at the image itself, and
 * save-image-define rewrites the XML and trailer without touching the
 * snapshot.  Trailer:
 *
 *   0  magic "khv-libvirt-save" (16 bytes, no NUL)
 *  16  u32 version (1)
 *  20  u32 flags: bit 0, the domain was running (else paused)
 *  24  u64 where the XML starts (= the snapshot's length)
 *  32  u64 the XML's length
 *  40  24 reserved bytes, zero
 *
 * Pure C, no libvirt: the fuzz target (tests/fuzz_saveimage.c) builds it
 * alone.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define KHV_SAVE_TRAILER_LEN    64
#define KHV_SAVE_MAGIC          "khv-libvirt-save"
#define KHV_SAVE_VERSION        1
#define KHV_SAVE_RUNNING        0x1u
/* A domain XML is kilobytes; this bounds what a hostile image makes us read. */
#define KHV_SAVE_XML_MAX        (4u << 20)
/* khv-run's stream header and one section, at least (its smallest snapshot). */
#define KHV_SAVE_SNAPSHOT_MIN   16u

typedef struct _khvSaveTrailer khvSaveTrailer;
struct _khvSaveTrailer {
    uint32_t version;
    uint32_t flags;
    uint64_t xmlOffset;
    uint64_t xmlLen;
};

/* The 64 bytes of t into buf. */
void khvSaveTrailerEncode(const khvSaveTrailer *t, unsigned char buf[KHV_SAVE_TRAILER_LEN]);

/*
 * Check the last 64 bytes (buf) of a file of fileSize bytes and decode
 * them into t: 0, or -1 with *why saying what is wrong (a static string).
 */
int khvSaveTrailerDecode(const unsigned char buf[KHV_SAVE_TRAILER_LEN], uint64_t fileSize,
                         khvSaveTrailer *t, const char **why);

/* Whether the n bytes of an image's XML may be given to the XML parser. */
int khvSaveXMLCheck(const char *xml, size_t n, const char **why);
