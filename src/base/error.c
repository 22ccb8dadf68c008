/* error.c - messages for the project's error codes. */
#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>

const char *tc_strerror(int code)
{
    switch (code) {
    case TC_OK:
        return "success";
    case TC_ENOMEM:
        return "out of memory";
    case TC_EINVAL:
        return "invalid argument";
    case TC_ERANGE:
        return "value out of range";
    case TC_ETRUNCATED:
        return "input truncated";
    case TC_ETRAILING:
        return "trailing bytes after value";
    case TC_ENONCANONICAL:
        return "non-canonical encoding";
    case TC_ETOODEEP:
        return "nesting too deep";
    case TC_ETOOBIG:
        return "size exceeds limit";
    case TC_EIO:
        return "I/O error";
    case TC_ECORRUPT:
        return "data corrupt";
    case TC_ENOTFOUND:
        return "not found";
    case TC_EEXIST:
        return "already exists";
    case TC_EFULL:
        return "queue full";
    case TC_ECRYPTO:
        return "cryptographic check failed";
    case TC_EUNSUPPORTED:
        return "unsupported";
    case TC_ESTATE:
        return "invalid state for operation";
    case TC_ETIMEOUT:
        return "timed out";
    case TC_ECLOSED:
        return "closed";
    case TC_EAGAIN:
        return "try again";
    case TC_EPERM:
        return "permission denied";
    default:
        return "unknown error";
    }
}

void tc_errorf(char *err, size_t err_len, const char *fmt, ...)
{
    if (!err || err_len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}
