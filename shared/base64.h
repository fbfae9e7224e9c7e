/* Base64 (RFC 4648): the standard alphabet with padding, used by Token04 and
 * for binary fields in JSON, and the URL-safe alphabet without padding, used
 * by media tickets.  Decoding is strict: any byte outside the alphabet, a
 * misplaced '=' or a bad length is an error, with the offset of the byte. */
#ifndef ZEGO_BASE64_H
#define ZEGO_BASE64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { ZEGO_BASE64_STD, ZEGO_BASE64_URL } zego_base64_alphabet;

/* Characters zego_base64_encode writes, not counting the final NUL. */
size_t zego_base64_encoded_len(size_t n, zego_base64_alphabet alphabet);

/* Writes the encoding of in[0..n) and a NUL to out, which must hold
 * zego_base64_encoded_len(n) + 1 bytes.  Returns the length written. */
size_t zego_base64_encode(const uint8_t *in, size_t n, char *out, zego_base64_alphabet alphabet);

/* Decodes in[0..len) into out (capacity out_cap).  Returns true and sets
 * *out_len on success; on failure returns false and sets *bad_offset to the
 * offset of the first offending input byte (len when the input is cut short
 * or the output would not fit). */
bool zego_base64_decode(const char *in, size_t len, uint8_t *out, size_t out_cap, size_t *out_len,
                        size_t *bad_offset, zego_base64_alphabet alphabet);

#endif
