/* cli_util.c - EIP-55 addresses, wei amounts with units, key files. */
#include "cli/cli_util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "base/bytes.h"
#include "base/error.h"
#include "crypto/ecdsa.h"
#include "crypto/keccak.h"

void cli_address_checksum(const uint8_t address[20], char out[CLI_ADDRESS_STR_LEN])
{
    char lower[41];
    uint8_t digest[32];
    hex_encode(address, 20, lower);
    keccak256(lower, 40, digest);
    out[0] = '0';
    out[1] = 'x';
    for (size_t i = 0; i < 40; i++) {
        /* Nibble i of the digest decides the case of hex digit i. */
        unsigned nibble = (i % 2 == 0) ? (digest[i / 2] >> 4) : (digest[i / 2] & 0x0f);
        char c = lower[i];
        out[2 + i] = (c >= 'a' && c <= 'f' && nibble >= 8) ? (char)(c - 'a' + 'A') : c;
    }
    out[42] = '\0';
}

int cli_parse_address(const char *s, uint8_t address[20])
{
    if (s == NULL)
        return TC_EINVAL;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    if (strlen(s) != 40)
        return TC_EINVAL;
    bool has_lower = false, has_upper = false;
    for (size_t i = 0; i < 40; i++) {
        if (islower((unsigned char)s[i]))
            has_lower = true;
        else if (isupper((unsigned char)s[i]))
            has_upper = true;
    }
    if (hex_decode(s, 40, address, 20, &(size_t){ 0 }) != TC_OK)
        return TC_EINVAL;
    if (has_lower && has_upper) {
        char expect[CLI_ADDRESS_STR_LEN];
        cli_address_checksum(address, expect);
        if (memcmp(expect + 2, s, 40) != 0)
            return TC_ECRYPTO;
    }
    return TC_OK;
}

struct unit {
    const char *name;
    unsigned decimals;
};

static const struct unit units[] = {
    { "wei", 0 },    { "kwei", 3 },    { "mwei", 6 },   { "gwei", 9 },
    { "szabo", 12 }, { "finney", 15 }, { "ether", 18 },
};

/* digits[0..len) (all decimal) appended to *acc: acc = acc * 10 + d. */
static int accumulate_digits(u256 *acc, const char *digits, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        u256 next;
        if (u256_mul_overflow(*acc, u256_from_u64(10), &next))
            return TC_ERANGE;
        u256 sum = u256_add(next, u256_from_u64((uint64_t)(digits[i] - '0')));
        if (u256_lt(sum, next))
            return TC_ERANGE;
        *acc = sum;
    }
    return TC_OK;
}

int cli_parse_value(const char *s, u256 *wei)
{
    if (s == NULL || *s == '\0')
        return TC_EINVAL;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        return u256_from_hex(s, wei) == TC_OK ? TC_OK : TC_EINVAL;
    size_t int_len = strspn(s, "0123456789");
    const char *p = s + int_len;
    const char *frac = NULL;
    size_t frac_len = 0;
    if (*p == '.') {
        frac = p + 1;
        frac_len = strspn(frac, "0123456789");
        if (frac_len == 0)
            return TC_EINVAL;
        p = frac + frac_len;
    }
    if (int_len == 0 && frac == NULL)
        return TC_EINVAL;
    unsigned decimals = 0;
    if (*p != '\0') {
        const struct unit *found = NULL;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
            if (strcasecmp(p, units[i].name) == 0)
                found = &units[i];
        }
        if (found == NULL)
            return TC_EINVAL;
        decimals = found->decimals;
    }
    if (frac_len > decimals)
        return TC_EINVAL;
    u256 acc = u256_zero();
    int rc = accumulate_digits(&acc, s, int_len);
    if (rc == TC_OK && frac_len > 0)
        rc = accumulate_digits(&acc, frac, frac_len);
    for (size_t i = frac_len; rc == TC_OK && i < decimals; i++)
        rc = accumulate_digits(&acc, "0", 1);
    if (rc != TC_OK)
        return rc;
    *wei = acc;
    return TC_OK;
}

int cli_parse_u64(const char *s, uint64_t *out)
{
    u256 v;
    if (s == NULL || *s == '\0')
        return TC_EINVAL;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        if (u256_from_hex(s, &v) != TC_OK)
            return TC_EINVAL;
    } else {
        if (strspn(s, "0123456789") != strlen(s))
            return TC_EINVAL;
        u256 acc = u256_zero();
        if (accumulate_digits(&acc, s, strlen(s)) != TC_OK)
            return TC_ERANGE;
        v = acc;
    }
    if (!u256_fits_u64(v))
        return TC_ERANGE;
    *out = v.w[0];
    return TC_OK;
}

void cli_format_ether(u256 wei, char out[CLI_ETHER_STR_LEN])
{
    static const uint64_t ether = 1000000000000000000ull;
    u256 q, r;
    u256_div_rem(wei, u256_from_u64(ether), &q, &r);
    char whole[U256_DEC_LEN];
    u256_to_dec(q, whole);
    if (u256_is_zero(r)) {
        snprintf(out, CLI_ETHER_STR_LEN, "%s", whole);
        return;
    }
    char frac[19];
    snprintf(frac, sizeof(frac), "%018llu", (unsigned long long)r.w[0]);
    size_t n = 18;
    while (n > 0 && frac[n - 1] == '0')
        frac[--n] = '\0';
    snprintf(out, CLI_ETHER_STR_LEN, "%s.%s", whole, frac);
}

int cli_write_private_file(const char *path, const void *data, size_t len, char *err,
                           size_t err_len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        int e = errno;
        snprintf(err, err_len, "cannot create %s: %s", path, strerror(e));
        return e == EEXIST ? TC_EEXIST : TC_EIO;
    }
    const uint8_t *p = data;
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, p + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(err, err_len, "cannot write %s: %s", path, strerror(errno));
            goto fail_close;
        }
        done += (size_t)n;
    }
    if (close(fd) != 0) {
        snprintf(err, err_len, "cannot write %s: %s", path, strerror(errno));
        goto fail_unlink;
    }
    return TC_OK;
fail_close:
    close(fd);
fail_unlink:
    unlink(path);
    return TC_EIO;
}

int cli_write_key_file(const char *path, const uint8_t seckey[32], char *err, size_t err_len)
{
    char text[66];
    hex_encode(seckey, 32, text);
    text[64] = '\n';
    text[65] = '\0';
    int rc = cli_write_private_file(path, text, 65, err, err_len);
    OPENSSL_cleanse(text, sizeof(text));
    return rc;
}

int cli_read_key_file(const char *path, uint8_t seckey[32], char *err, size_t err_len)
{
    char buf[CLI_KEY_FILE_MAX_BYTES + 1];
    int rc = TC_OK;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, err_len, "cannot read %s: %s", path, strerror(errno));
        return TC_EIO;
    }
    size_t n = fread(buf, 1, sizeof(buf), f);
    bool read_error = ferror(f) != 0;
    fclose(f);
    if (read_error) {
        snprintf(err, err_len, "cannot read %s", path);
        rc = TC_EIO;
        goto wipe;
    }
    if (n > CLI_KEY_FILE_MAX_BYTES) {
        snprintf(err, err_len, "%s: too long for a key file", path);
        rc = TC_ETOOBIG;
        goto wipe;
    }
    buf[n] = '\0';
    char *start = buf;
    while (isspace((unsigned char)*start))
        start++;
    size_t len = strlen(start);
    while (len > 0 && isspace((unsigned char)start[len - 1]))
        start[--len] = '\0';
    if (len != 64 && len != 66) {
        snprintf(err, err_len, "%s: expected a private key of 64 hex digits", path);
        rc = TC_EINVAL;
        goto wipe;
    }
    uint8_t pub[64];
    if (hex_decode_exact(start, seckey, 32) != TC_OK || ecdsa_pubkey(seckey, pub) != TC_OK) {
        snprintf(err, err_len, "%s: not a valid secp256k1 private key", path);
        OPENSSL_cleanse(seckey, 32);
        rc = TC_EINVAL;
    }
wipe:
    OPENSSL_cleanse(buf, sizeof(buf));
    return rc;
}

int cli_new_account(const char *dir, uint8_t address[20], char *err, size_t err_len)
{
    uint8_t seckey[32];
    char name[CLI_ADDRESS_STR_LEN];
    char path[4096];
    int rc = ecdsa_keygen(seckey);
    if (rc != TC_OK) {
        snprintf(err, err_len, "cannot generate a key: %s", tc_strerror(rc));
        return rc;
    }
    rc = ecdsa_address_from_seckey(seckey, address);
    if (rc != TC_OK) {
        snprintf(err, err_len, "cannot derive the address: %s", tc_strerror(rc));
        goto wipe_key;
    }
    cli_address_checksum(address, name);
    if ((size_t)snprintf(path, sizeof(path), "%s/%s.key", dir, name) >= sizeof(path)) {
        snprintf(err, err_len, "path too long: %s", dir);
        rc = TC_EINVAL;
        goto wipe_key;
    }
    rc = cli_write_key_file(path, seckey, err, err_len);
wipe_key:
    OPENSSL_cleanse(seckey, sizeof(seckey));
    return rc;
}

int cli_mkdir(const char *path, bool private_dir, char *err, size_t err_len)
{
    if (mkdir(path, private_dir ? 0700 : 0755) == 0)
        return TC_OK;
    int e = errno;
    struct stat st;
    if (e == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return TC_OK;
    snprintf(err, err_len, "cannot create directory %s: %s", path, strerror(e));
    return TC_EIO;
}
