/*
 * error.h - the project's one error enum.
 *
 * Every function that can fail returns int: 0 (TC_OK) on success, a negative
 * TC_E* code otherwise. tc_strerror() gives a short, static, human-readable
 * message for any code; it never returns NULL. Modules that need to say more
 * (which field, which offset) keep an error buffer on their long-lived object
 * or take a `char *err, size_t err_len` argument; the code is still one of
 * these.
 */
#ifndef TC_BASE_ERROR_H
#define TC_BASE_ERROR_H

enum tc_error {
    TC_OK = 0,
    TC_ENOMEM = -1,        /* out of memory */
    TC_EINVAL = -2,        /* invalid argument or malformed input */
    TC_ERANGE = -3,        /* value out of range / overflow */
    TC_ETRUNCATED = -4,    /* input ends before the encoded length */
    TC_ETRAILING = -5,     /* bytes left after a complete value */
    TC_ENONCANONICAL = -6, /* valid but non-minimal encoding */
    TC_ETOODEEP = -7,      /* nesting beyond the allowed depth */
    TC_ETOOBIG = -8,       /* size beyond a configured bound */
    TC_EIO = -9,           /* read/write/fsync failed (see errno in the log) */
    TC_ECORRUPT = -10,     /* stored data fails its checksum or format */
    TC_ENOTFOUND = -11,    /* no such key / entry */
    TC_EEXIST = -12,       /* already present */
    TC_EFULL = -13,        /* bounded queue or pool is full */
    TC_ECRYPTO = -14,      /* cryptographic failure: bad signature, auth tag... */
    TC_EUNSUPPORTED = -15, /* recognised but not supported (e.g. tx type 3) */
    TC_ESTATE = -16,       /* operation not valid in the current state */
    TC_ETIMEOUT = -17,     /* deadline passed */
    TC_ECLOSED = -18,      /* object is shut down */
    TC_EAGAIN = -19,       /* try again later */
    TC_EPERM = -20,        /* not allowed (policy, authentication) */
    TC_ERROR_MIN = -20
};

#include <stddef.h>

/* Short message for a TC_* code (static storage, never NULL). */
const char *tc_strerror(int code);

/* Formats a message into a caller's error buffer (`char *err, size_t
 * err_len`); does nothing when err is NULL or err_len is 0. */
void tc_errorf(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
