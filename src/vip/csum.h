/*
 * csum.h — the Internet checksum (RFC 1071) shared by the frames built
 * in garp.c (ICMPv6) and tickle_wire.c (IPv4 header, TCP).
 */
#ifndef DUONAS_CSUM_H
#define DUONAS_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* One's complement sum of 16-bit big-endian words, not yet folded; an
 * odd trailing byte counts as the high byte of a word.  Chain calls by
 * passing the previous result as sum. */
uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n);

/* Fold the carries of a csum_add() result and complement it: the
 * checksum to store (host order; write it with put_be16()). */
uint16_t csum_fold(uint32_t sum);

#endif
