/*
 * bytes.h - byte buffers and strict hex.
 *
 * struct bytes is a growable, owned buffer (free with bytes_free). A
 * struct bytes_view is a borrowed pointer + length; it is valid only as long
 * as the memory it points into.
 *
 * Hex parsing is strict: an optional "0x"/"0X" prefix only where the function
 * says so, an even number of digits, and only [0-9a-fA-F]. Errors:
 * TC_EINVAL for a bad digit or odd length, TC_ETOOBIG when the output would
 * not fit.
 */
#ifndef TC_BASE_BYTES_H
#define TC_BASE_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bytes_view {
    const uint8_t *ptr;
    size_t len;
};

struct bytes {
    uint8_t *ptr;
    size_t len;
    size_t cap;
};

static inline struct bytes_view bytes_view_of(const void *ptr, size_t len)
{
    struct bytes_view v = { (const uint8_t *)ptr, len };
    return v;
}

static inline struct bytes_view bytes_as_view(const struct bytes *b)
{
    return bytes_view_of(b->ptr, b->len);
}

/* Empty buffer; no allocation until something is appended. */
void bytes_init(struct bytes *b);
/* Releases the buffer and resets it to empty. Safe on an empty buffer. */
void bytes_free(struct bytes *b);
/* Ensures room for `extra` more bytes. TC_ENOMEM on failure. */
int bytes_reserve(struct bytes *b, size_t extra);
/* Appends; TC_ENOMEM on failure (b is unchanged then). */
int bytes_append(struct bytes *b, const void *data, size_t len);
int bytes_push(struct bytes *b, uint8_t byte);
/* Sets length to 0, keeps the allocation. */
void bytes_clear(struct bytes *b);
/* Detaches the memory (caller frees with free()); b becomes empty. */
uint8_t *bytes_take(struct bytes *b, size_t *len);

bool bytes_view_eq(struct bytes_view a, struct bytes_view b);

/* Value of one hex digit [0-9a-fA-F], or -1 for any other character. */
int hex_digit_value(char c);
/* Lower-case hex of `len` bytes into out (2*len+1 bytes incl. NUL), no prefix. */
void hex_encode(const uint8_t *data, size_t len, char *out);
/*
 * Decodes exactly the digits in hex[0..hex_len) (no prefix allowed) into out,
 * which holds out_cap bytes. *out_len gets the decoded length.
 */
int hex_decode(const char *hex, size_t hex_len, uint8_t *out, size_t out_cap, size_t *out_len);
/* As hex_decode, but requires a leading "0x" or "0X". */
int hex_decode_prefixed(const char *hex, size_t hex_len, uint8_t *out, size_t out_cap,
                        size_t *out_len);
/* Decodes a 0x-prefixed (or unprefixed when allow_bare) string into a new buffer. */
int hex_decode_alloc(const char *hex, bool allow_bare, struct bytes *out);
/* Exactly `len` bytes from a hex string with optional 0x prefix; TC_EINVAL otherwise. */
int hex_decode_exact(const char *hex, uint8_t *out, size_t len);

#endif
