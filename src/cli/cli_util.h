/*
 * cli_util.h - small pieces the `teechain` CLI shares between subcommands:
 * EIP-55 addresses, wei amounts with units, and private-key files.
 *
 * Addresses: output is always EIP-55 checksummed ("0x" + 40 digits, the case
 * of each letter taken from keccak256 of the lower-case hex). Input is
 * accepted in any case, with or without "0x", but a mixed-case address must
 * carry a correct checksum (that is what the checksum is for: a typo is
 * caught before money moves).
 *
 * Amounts: "1000" is wei; a unit suffix scales it ("5gwei", "1ether",
 * "1.5ether"; units wei, kwei, mwei, gwei, szabo, finney, ether). A fraction
 * may have at most as many digits as the unit has decimals. Anything that
 * does not fit in 256 bits is rejected.
 *
 * Key files: one secp256k1 private key as 64 hex digits and a newline,
 * created with O_CREAT|O_EXCL and mode 0600 (never widened and then
 * narrowed). Readers accept an optional "0x" and surrounding whitespace.
 *
 * Every function that can fail returns 0 or a negative TC_E* code; those
 * with an `err` buffer write a one-line reason into it.
 */
#ifndef TC_CLI_CLI_UTIL_H
#define TC_CLI_CLI_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/u256.h"

/* "0x" + 40 digits + NUL. */
#define CLI_ADDRESS_STR_LEN 43
/* Longest key file accepted by cli_read_key_file (hex, prefix, whitespace). */
#define CLI_KEY_FILE_MAX_BYTES 256

/* Writes the EIP-55 checksummed form of address into out. Cannot fail. */
void cli_address_checksum(const uint8_t address[20], char out[CLI_ADDRESS_STR_LEN]);

/*
 * Parses an address: optional "0x", exactly 40 hex digits; all lower, all
 * upper, or a valid EIP-55 mixed case. Returns 0, or TC_EINVAL (bad length
 * or digit) / TC_ECRYPTO (mixed case with a wrong checksum).
 */
int cli_parse_address(const char *s, uint8_t address[20]);

/*
 * Parses an amount in wei with an optional unit suffix (see above).
 * Returns 0, TC_EINVAL (malformed, unknown unit, too many fraction digits)
 * or TC_ERANGE (more than 2^256 - 1 wei).
 */
int cli_parse_value(const char *s, u256 *wei);

/*
 * Parses a non-negative decimal or 0x-hex integer that fits in 64 bits.
 * Returns 0, TC_EINVAL or TC_ERANGE.
 */
int cli_parse_u64(const char *s, uint64_t *out);

/* Formats wei as ether with up to 18 decimals, trailing zeros dropped
 * ("1.5", "0", "0.000000000000000001"). out holds CLI_ETHER_STR_LEN bytes. */
#define CLI_ETHER_STR_LEN 100
void cli_format_ether(u256 wei, char out[CLI_ETHER_STR_LEN]);

/*
 * Creates `path` (which must not exist) with mode 0600 and writes len bytes.
 * Returns 0, TC_EEXIST if the file exists, TC_EIO otherwise (err says why;
 * a partly written file is removed).
 */
int cli_write_private_file(const char *path, const void *data, size_t len, char *err,
                           size_t err_len);

/* Writes seckey as a key file (see above) with cli_write_private_file. */
int cli_write_key_file(const char *path, const uint8_t seckey[32], char *err, size_t err_len);

/*
 * Reads a key file into seckey and checks that it is a valid secp256k1 key.
 * Returns 0, TC_EIO (unreadable), TC_ETOOBIG (file too long) or TC_EINVAL
 * (not 64 hex digits, or not a valid key). seckey is wiped on failure.
 */
int cli_read_key_file(const char *path, uint8_t seckey[32], char *err, size_t err_len);

/*
 * Generates a fresh account key, writes it to DIR/<checksummed address>.key
 * and returns the key's address. Returns 0, TC_ECRYPTO or a code of
 * cli_write_key_file. The key never leaves this function except in the file.
 */
int cli_new_account(const char *dir, uint8_t address[20], char *err, size_t err_len);

/* Creates a directory with mode 0700 or 0755 (private=false); an existing
 * directory is fine. Returns 0 or TC_EIO (err says why). */
int cli_mkdir(const char *path, bool private_dir, char *err, size_t err_len);

#endif
