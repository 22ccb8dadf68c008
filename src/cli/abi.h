/*
 * abi.h - the Solidity contract ABI for the `teechain` CLI: function
 * signatures, selectors, encoding of arguments given as text, decoding of
 * return data and of revert data.
 *
 * Signatures are written as Foundry's `cast` takes them:
 *     name(type,...)                 the inputs only
 *     name(type,...)(type,...)       inputs and return types
 * Types: uint<M> and int<M> for M = 8, 16, ..., 256 (uint and int mean the
 * 256-bit ones), address, bool, bytes, bytes<M> (M = 1..32), string, T[]
 * (dynamic array), T[k] (fixed array, k >= 1), tuples (T1,T2,...) and any
 * nesting of these up to ABI_MAX_DEPTH levels. Spaces around types are
 * ignored; parameter names are not accepted. The selector is the first 4
 * bytes of keccak256 of the canonical signature (no spaces, uint -> uint256,
 * int -> int256).
 *
 * Usage:
 *     struct abi_signature sig;
 *     struct bytes data;
 *     if (abi_signature_parse("transfer(address,uint256)(bool)", &sig, err, n) != 0) ...
 *     bytes_init(&data);
 *     if (abi_encode_call(&sig, argc, argv, &data, err, n) != 0) ...   (selector + args)
 *     ... eth_call ... -> ret
 *     char *text;
 *     if (abi_decode(sig.outputs, ret.ptr, ret.len, &text, NULL, err, n) == 0) puts(text);
 *     free(text); bytes_free(&data); abi_signature_free(&sig);
 *
 * Argument text (one string per top-level argument, as argv gives them):
 *   integers   decimal or 0x hex, with a leading '-' for a negative int<M>;
 *              the value must fit the type (uint8: 0..255, int8: -128..127)
 *   address    40 hex digits, optional 0x; mixed case must be EIP-55
 *   bool       true or false
 *   bytes      0x followed by an even number of hex digits ("0x" is empty);
 *              bytes<M> needs exactly M bytes
 *   string     a top-level argument is taken verbatim; inside an array or a
 *              tuple an element is either unquoted (whitespace around it is
 *              dropped; it cannot contain , [ ] ( ) or ") or double-quoted,
 *              with the escapes \" \\ \n \t and \xNN; "" is the empty string
 *   T[] / T[k] [e1,e2,...] ("[]" is empty; T[k] needs exactly k elements)
 *   tuple      (e1,e2,...) with one element per member
 * Elements nest: 'uint8[][]' takes '[[1,2],[],[3]]'.
 *
 * Decoded values print in the same syntax (so that output can be fed back as
 * input): integers in decimal, addresses EIP-55, bytes as 0x hex, strings
 * quoted and escaped inside arrays and tuples; a top-level string prints
 * verbatim unless it holds a control character other than \t and \n, then
 * quoted and escaped. Decoding to JSON gives integers as decimal strings
 * (they may exceed a double), addresses, bytes and strings as strings, bool
 * as true/false, arrays and tuples as arrays (a string holding a NUL byte is
 * cut there in JSON; the text form keeps it as \x00).
 *
 * Bounds (exceeding one is an error, never a crash): ABI_MAX_SIGNATURE_LEN,
 * ABI_MAX_DEPTH, ABI_MAX_MEMBERS, ABI_MAX_ARRAY_LEN elements per array (also
 * when decoding), ABI_MAX_ENCODED_BYTES of encoded data (also the static size
 * of a type), ABI_MAX_DECODE_ITEMS values and ABI_MAX_DECODE_OUTPUT_BYTES of
 * text produced by one decode.
 *
 * Errors: every function that can fail returns 0 or a negative TC_E* code
 * and writes a one-line reason into err, naming the argument (and the
 * element path, "argument 2[1].0") where the input is at fault: TC_EINVAL
 * malformed text or data, TC_ERANGE a number out of range for its type,
 * TC_ECRYPTO a wrong EIP-55 checksum, TC_ETOODEEP nesting too deep,
 * TC_ETOOBIG a bound above exceeded, TC_ETRUNCATED data shorter than its
 * encoding says.
 */
#ifndef TC_CLI_ABI_H
#define TC_CLI_ABI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "base/bytes.h"

#define ABI_MAX_SIGNATURE_LEN 4096
#define ABI_MAX_DEPTH         16
#define ABI_MAX_MEMBERS       64
#define ABI_MAX_ARRAY_LEN     65536
#define ABI_MAX_ENCODED_BYTES (4u << 20)
#define ABI_MAX_DECODE_ITEMS  (1u << 20)
/* Bytes of text one decode may produce (offsets can make values repeat). */
#define ABI_MAX_DECODE_OUTPUT_BYTES (16u << 20)

enum abi_kind {
    ABI_UINT,
    ABI_INT,
    ABI_ADDRESS,
    ABI_BOOL,
    ABI_FIXED_BYTES, /* bytes<M> */
    ABI_BYTES,
    ABI_STRING,
    ABI_ARRAY,       /* T[] */
    ABI_FIXED_ARRAY, /* T[k] */
    ABI_TUPLE,
};

/* One parsed type; read-only for callers, owned by its abi_signature. */
struct abi_type {
    enum abi_kind kind;
    uint32_t size;             /* bits of uint/int, bytes of bytes<M>, k of T[k] */
    struct abi_type *elem;     /* ABI_ARRAY and ABI_FIXED_ARRAY */
    struct abi_type **members; /* ABI_TUPLE */
    uint32_t member_count;     /* ABI_TUPLE */
    bool dynamic;              /* encoded in the tail (bytes, string, T[], ...) */
    size_t head_bytes;         /* 32 if dynamic, else the whole encoded size */
};

struct abi_signature {
    char *name;               /* the function name (may be empty) */
    char *canonical;          /* "name(uint256,(bool,bytes32)[])" */
    uint8_t selector[4];      /* keccak256(canonical)[0..4) */
    struct abi_type *inputs;  /* a tuple, possibly with no members */
    struct abi_type *outputs; /* a tuple, or NULL when no return types were given */
};

/*
 * Parses a signature (see above) into *sig. Returns 0 or TC_EINVAL,
 * TC_ETOODEEP, TC_ETOOBIG (err says what and where). On success free sig
 * with abi_signature_free; on failure *sig holds nothing to free.
 */
int abi_signature_parse(const char *text, struct abi_signature *sig, char *err, size_t err_len);

/* Frees what abi_signature_parse allocated; safe on a zeroed struct. */
void abi_signature_free(struct abi_signature *sig);

/*
 * Encodes argc argument texts as the tuple `params` (head/tail encoding, no
 * selector) and appends them to out. The argument count must equal the
 * tuple's member count. Returns 0 or an error above; on failure out may
 * hold a partial encoding (the caller discards it).
 */
int abi_encode_args(const struct abi_type *params, int argc, const char *const *argv,
                    struct bytes *out, char *err, size_t err_len);

/* The selector followed by abi_encode_args of sig->inputs. */
int abi_encode_call(const struct abi_signature *sig, int argc, const char *const *argv,
                    struct bytes *out, char *err, size_t err_len);

/*
 * Decodes data[0..len) as the tuple `params`. *text (when text is not NULL)
 * gets a malloc'ed NUL-terminated string with one line per member (caller
 * frees); *json (when json is not NULL) gets a cJSON array with one item per
 * member (caller frees with cJSON_Delete). Bytes after the encoding are
 * ignored, as Solidity does. Returns 0 or TC_EINVAL / TC_ETRUNCATED /
 * TC_ERANGE (a value that does not fit its type, e.g. a bool of 2) /
 * TC_ETOOBIG; nothing is returned on failure.
 */
int abi_decode(const struct abi_type *params, const uint8_t *data, size_t len, char **text,
               cJSON **json, char *err, size_t err_len);

/*
 * Describes revert data: Error(string) gives its message; Panic(uint256)
 * gives "panic 0x11: arithmetic overflow or underflow" (the known codes are
 * named); empty data gives "" (no reason); anything else (a custom error)
 * gives "custom error 0x<selector>" followed by ": 0x<arguments>" when there
 * are any, and data that is malformed under those two selectors is shown
 * as raw 0x hex. Returns a malloc'ed string (caller frees); never NULL.
 */
char *abi_revert_reason(const uint8_t *data, size_t len);

#endif
