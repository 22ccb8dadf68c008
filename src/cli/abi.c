/* abi.c - Solidity ABI signatures, argument encoding, return and revert decoding. */
#include "cli/abi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/mem.h"
#include "base/u256.h"
#include "cli/cli_util.h"
#include "crypto/keccak.h"

#define WORD 32
/* Room for "argument N" and the element path in messages. */
#define PATH_LEN 160

/* ---- types ------------------------------------------------------------- */

static void type_free(struct abi_type *t)
{
    if (t == NULL)
        return;
    type_free(t->elem);
    for (uint32_t i = 0; i < t->member_count; i++)
        type_free(t->members[i]);
    free(t->members);
    free(t);
}

static struct abi_type *type_new(enum abi_kind kind, uint32_t size)
{
    struct abi_type *t = xcalloc(1, sizeof(*t));
    t->kind = kind;
    t->size = size;
    t->dynamic = kind == ABI_BYTES || kind == ABI_STRING;
    t->head_bytes = WORD;
    return t;
}

struct sig_parser {
    const char *s;
    size_t pos;
    char *err;
    size_t err_len;
};

static void skip_space(struct sig_parser *p)
{
    while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t')
        p->pos++;
}

static bool is_ident_char(char c, bool first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$' ||
           (!first && c >= '0' && c <= '9');
}

/* Reads 1..5 decimal digits without a leading zero; -1 if there are none or
 * too many. */
static long read_small_number(const char *s, size_t len)
{
    if (len == 0 || len > 5 || s[0] == '0')
        return -1;
    long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* The elementary type named s[0..len), or NULL (err set). */
static struct abi_type *elementary_type(struct sig_parser *p, const char *s, size_t len)
{
    long m;
    if (len == 7 && memcmp(s, "address", 7) == 0)
        return type_new(ABI_ADDRESS, 160);
    if (len == 4 && memcmp(s, "bool", 4) == 0)
        return type_new(ABI_BOOL, 8);
    if (len == 6 && memcmp(s, "string", 6) == 0)
        return type_new(ABI_STRING, 0);
    if (len == 5 && memcmp(s, "bytes", 5) == 0)
        return type_new(ABI_BYTES, 0);
    if (len > 5 && memcmp(s, "bytes", 5) == 0) {
        m = read_small_number(s + 5, len - 5);
        if (m >= 1 && m <= 32)
            return type_new(ABI_FIXED_BYTES, (uint32_t)m);
    } else if (len >= 4 && memcmp(s, "uint", 4) == 0) {
        m = len == 4 ? 256 : read_small_number(s + 4, len - 4);
        if (m >= 8 && m <= 256 && m % 8 == 0)
            return type_new(ABI_UINT, (uint32_t)m);
    } else if (len >= 3 && memcmp(s, "int", 3) == 0) {
        m = len == 3 ? 256 : read_small_number(s + 3, len - 3);
        if (m >= 8 && m <= 256 && m % 8 == 0)
            return type_new(ABI_INT, (uint32_t)m);
    }
    tc_errorf(p->err, p->err_len, "unknown type '%.*s' at offset %zu", (int)len, s, p->pos - len);
    return NULL;
}

static int parse_tuple(struct sig_parser *p, unsigned depth, bool allow_empty,
                       struct abi_type **out);

/* Wraps t into T[] or T[k] for every suffix that follows. */
static int parse_array_suffixes(struct sig_parser *p, unsigned depth, struct abi_type **t)
{
    for (;;) {
        skip_space(p);
        if (p->s[p->pos] != '[')
            return TC_OK;
        if (++depth > ABI_MAX_DEPTH) {
            tc_errorf(p->err, p->err_len, "types nest deeper than %d levels", ABI_MAX_DEPTH);
            return TC_ETOODEEP;
        }
        size_t start = ++p->pos;
        while (p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
            p->pos++;
        if (p->s[p->pos] != ']') {
            tc_errorf(p->err, p->err_len, "expected ']' at offset %zu", p->pos);
            return TC_EINVAL;
        }
        struct abi_type *a;
        struct abi_type *elem = *t;
        if (p->pos == start) {
            a = type_new(ABI_ARRAY, 0);
            a->dynamic = true;
        } else {
            long k = read_small_number(p->s + start, p->pos - start);
            if (k < 1 || k > ABI_MAX_ARRAY_LEN) {
                tc_errorf(p->err, p->err_len, "fixed array length must be 1..%d at offset %zu",
                          ABI_MAX_ARRAY_LEN, start);
                return TC_EINVAL;
            }
            a = type_new(ABI_FIXED_ARRAY, (uint32_t)k);
            a->dynamic = elem->dynamic;
            if (!a->dynamic) {
                if (elem->head_bytes > ABI_MAX_ENCODED_BYTES / (size_t)k) {
                    free(a);
                    tc_errorf(p->err, p->err_len,
                              "type at offset %zu encodes to more than %u bytes", start,
                              ABI_MAX_ENCODED_BYTES);
                    return TC_ETOOBIG;
                }
                a->head_bytes = elem->head_bytes * (size_t)k;
            }
        }
        a->elem = elem;
        *t = a;
        p->pos++;
    }
}

static int parse_type(struct sig_parser *p, unsigned depth, struct abi_type **out)
{
    struct abi_type *t = NULL;
    int rc;
    if (depth > ABI_MAX_DEPTH) {
        tc_errorf(p->err, p->err_len, "types nest deeper than %d levels", ABI_MAX_DEPTH);
        return TC_ETOODEEP;
    }
    skip_space(p);
    if (p->s[p->pos] == '(') {
        if ((rc = parse_tuple(p, depth, false, &t)) != TC_OK)
            return rc;
    } else {
        size_t start = p->pos;
        while (is_ident_char(p->s[p->pos], false))
            p->pos++;
        if (p->pos == start) {
            tc_errorf(p->err, p->err_len, "expected a type at offset %zu", start);
            return TC_EINVAL;
        }
        t = elementary_type(p, p->s + start, p->pos - start);
        if (t == NULL)
            return TC_EINVAL;
    }
    if ((rc = parse_array_suffixes(p, depth, &t)) != TC_OK) {
        type_free(t);
        return rc;
    }
    *out = t;
    return TC_OK;
}

/* "(T1,T2,...)"; depth is that of the tuple itself. */
static int parse_tuple(struct sig_parser *p, unsigned depth, bool allow_empty,
                       struct abi_type **out)
{
    struct abi_type *t = type_new(ABI_TUPLE, 0);
    int rc = TC_EINVAL;
    size_t open = p->pos;
    p->pos++; /* '(' */
    t->members = xcalloc(ABI_MAX_MEMBERS, sizeof(*t->members));
    t->head_bytes = 0;
    skip_space(p);
    if (p->s[p->pos] == ')') {
        if (!allow_empty) {
            tc_errorf(p->err, p->err_len, "empty tuple at offset %zu", open);
            goto out_free_tuple;
        }
        p->pos++;
        *out = t;
        return TC_OK;
    }
    for (;;) {
        if (t->member_count == ABI_MAX_MEMBERS) {
            tc_errorf(p->err, p->err_len, "more than %d members in the tuple at offset %zu",
                      ABI_MAX_MEMBERS, open);
            rc = TC_ETOOBIG;
            goto out_free_tuple;
        }
        struct abi_type *m = NULL;
        if ((rc = parse_type(p, depth + 1, &m)) != TC_OK)
            goto out_free_tuple;
        t->members[t->member_count++] = m;
        t->dynamic = t->dynamic || m->dynamic;
        t->head_bytes += m->head_bytes;
        if (t->head_bytes > ABI_MAX_ENCODED_BYTES) {
            tc_errorf(p->err, p->err_len, "tuple at offset %zu encodes to more than %u bytes", open,
                      ABI_MAX_ENCODED_BYTES);
            rc = TC_ETOOBIG;
            goto out_free_tuple;
        }
        skip_space(p);
        if (p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->s[p->pos] == ')') {
            p->pos++;
            break;
        }
        tc_errorf(p->err, p->err_len,
                  "expected ',' or ')' at offset %zu (unterminated '(' at %zu?)", p->pos, open);
        rc = TC_EINVAL;
        goto out_free_tuple;
    }
    if (t->dynamic)
        t->head_bytes = WORD;
    *out = t;
    return TC_OK;
out_free_tuple:
    type_free(t);
    return rc;
}

static int append(struct bytes *b, const void *data, size_t len)
{
    return bytes_append(b, data, len);
}

static int append_str(struct bytes *b, const char *s)
{
    return bytes_append(b, s, strlen(s));
}

static int write_canonical(const struct abi_type *t, struct bytes *out)
{
    char buf[32];
    int rc = TC_OK;
    switch (t->kind) {
    case ABI_UINT:
    case ABI_INT:
        snprintf(buf, sizeof(buf), "%s%u", t->kind == ABI_UINT ? "uint" : "int", (unsigned)t->size);
        return append_str(out, buf);
    case ABI_ADDRESS:
        return append_str(out, "address");
    case ABI_BOOL:
        return append_str(out, "bool");
    case ABI_FIXED_BYTES:
        snprintf(buf, sizeof(buf), "bytes%u", (unsigned)t->size);
        return append_str(out, buf);
    case ABI_BYTES:
        return append_str(out, "bytes");
    case ABI_STRING:
        return append_str(out, "string");
    case ABI_ARRAY:
    case ABI_FIXED_ARRAY:
        if ((rc = write_canonical(t->elem, out)) != TC_OK)
            return rc;
        if (t->kind == ABI_ARRAY)
            return append_str(out, "[]");
        snprintf(buf, sizeof(buf), "[%u]", (unsigned)t->size);
        return append_str(out, buf);
    case ABI_TUPLE:
        rc = append_str(out, "(");
        for (uint32_t i = 0; rc == TC_OK && i < t->member_count; i++) {
            if (i > 0)
                rc = append_str(out, ",");
            if (rc == TC_OK)
                rc = write_canonical(t->members[i], out);
        }
        return rc == TC_OK ? append_str(out, ")") : rc;
    }
    return TC_EINVAL;
}

int abi_signature_parse(const char *text, struct abi_signature *sig, char *err, size_t err_len)
{
    struct sig_parser p = { text, 0, err, err_len };
    struct bytes canon;
    int rc;
    memset(sig, 0, sizeof(*sig));
    if (strlen(text) > ABI_MAX_SIGNATURE_LEN) {
        tc_errorf(err, err_len, "signature longer than %d characters", ABI_MAX_SIGNATURE_LEN);
        return TC_ETOOBIG;
    }
    skip_space(&p);
    size_t name_start = p.pos;
    while (is_ident_char(text[p.pos], p.pos == name_start))
        p.pos++;
    sig->name = xmalloc(p.pos - name_start + 1);
    memcpy(sig->name, text + name_start, p.pos - name_start);
    sig->name[p.pos - name_start] = '\0';
    skip_space(&p);
    if (text[p.pos] != '(') {
        tc_errorf(err, err_len, "expected '(' after the function name at offset %zu", p.pos);
        rc = TC_EINVAL;
        goto out_free_sig;
    }
    if ((rc = parse_tuple(&p, 1, true, &sig->inputs)) != TC_OK)
        goto out_free_sig;
    skip_space(&p);
    if (text[p.pos] == '(' && (rc = parse_tuple(&p, 1, true, &sig->outputs)) != TC_OK)
        goto out_free_sig;
    skip_space(&p);
    if (text[p.pos] != '\0') {
        tc_errorf(err, err_len, "unexpected '%c' at offset %zu", text[p.pos], p.pos);
        rc = TC_EINVAL;
        goto out_free_sig;
    }
    bytes_init(&canon);
    if ((rc = append_str(&canon, sig->name)) != TC_OK ||
        (rc = write_canonical(sig->inputs, &canon)) != TC_OK || (rc = bytes_push(&canon, 0)) != 0) {
        bytes_free(&canon);
        goto out_free_sig;
    }
    sig->canonical = (char *)bytes_take(&canon, NULL);
    uint8_t hash[32];
    keccak256(sig->canonical, strlen(sig->canonical), hash);
    memcpy(sig->selector, hash, 4);
    return TC_OK;
out_free_sig:
    abi_signature_free(sig);
    return rc;
}

void abi_signature_free(struct abi_signature *sig)
{
    free(sig->name);
    free(sig->canonical);
    type_free(sig->inputs);
    type_free(sig->outputs);
    memset(sig, 0, sizeof(*sig));
}

/* ---- encoding ---------------------------------------------------------- */

struct span {
    const char *s;
    size_t len;
};

struct encoder {
    char path[PATH_LEN];
    char *err;
    size_t err_len;
};

static int enc_fail(struct encoder *e, int rc, const char *fmt, const char *detail, size_t len)
{
    char msg[256];
    snprintf(msg, sizeof(msg), fmt, (int)(len > 80 ? 80 : len), detail);
    tc_errorf(e->err, e->err_len, "%s: %s%s", e->path, msg, len > 80 ? "..." : "");
    return rc;
}

static struct span trim(struct span v)
{
    while (v.len > 0 && (v.s[0] == ' ' || v.s[0] == '\t' || v.s[0] == '\n' || v.s[0] == '\r')) {
        v.s++;
        v.len--;
    }
    while (v.len > 0 && (v.s[v.len - 1] == ' ' || v.s[v.len - 1] == '\t' ||
                         v.s[v.len - 1] == '\n' || v.s[v.len - 1] == '\r'))
        v.len--;
    return v;
}

static void word_from_u256(u256 v, uint8_t out[WORD])
{
    u256_to_be_bytes(v, out);
}

static int encode_integer(struct encoder *e, const struct abi_type *t, struct span v,
                          struct bytes *out)
{
    char buf[80];
    bool negative = false;
    u256 mag;
    struct span digits = v;
    if (digits.len > 0 && digits.s[0] == '-') {
        negative = true;
        digits.s++;
        digits.len--;
    }
    if (negative && t->kind == ABI_UINT)
        return enc_fail(e, TC_ERANGE, "negative value '%.*s' for an unsigned type", v.s, v.len);
    if (digits.len == 0 || digits.len >= sizeof(buf))
        return enc_fail(e, digits.len == 0 ? TC_EINVAL : TC_ERANGE,
                        "not an integer or out of range: '%.*s'", v.s, v.len);
    memcpy(buf, digits.s, digits.len);
    buf[digits.len] = '\0';
    int rc = digits.len > 2 && buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X')
                 ? u256_from_hex(buf, &mag)
                 : u256_from_dec(buf, &mag);
    if (rc == TC_ERANGE)
        return enc_fail(e, TC_ERANGE, "'%.*s' does not fit in 256 bits", v.s, v.len);
    if (rc != TC_OK)
        return enc_fail(e, TC_EINVAL, "not a decimal or 0x hex integer: '%.*s'", v.s, v.len);
    unsigned bits = u256_bit_length(mag);
    bool fits;
    if (t->kind == ABI_UINT) {
        fits = bits <= t->size;
    } else if (negative) {
        /* magnitude <= 2^(M-1): fewer than M bits, or exactly 2^(M-1) */
        fits = bits < t->size ||
               (bits == t->size && u256_eq(mag, u256_shl_bits(u256_one(), t->size - 1)));
    } else {
        fits = bits <= t->size - 1;
    }
    if (!fits) {
        char msg[64];
        snprintf(msg, sizeof(msg), "%s%u", t->kind == ABI_UINT ? "uint" : "int", (unsigned)t->size);
        tc_errorf(e->err, e->err_len, "%s: %.*s is out of range for %s", e->path,
                  (int)(v.len > 80 ? 80 : v.len), v.s, msg);
        return TC_ERANGE;
    }
    uint8_t word[WORD];
    word_from_u256(negative ? u256_neg(mag) : mag, word);
    return append(out, word, WORD);
}

static int encode_address(struct encoder *e, struct span v, struct bytes *out)
{
    char buf[48];
    uint8_t word[WORD] = { 0 };
    if (v.len >= sizeof(buf))
        return enc_fail(e, TC_EINVAL, "not an address: '%.*s'", v.s, v.len);
    memcpy(buf, v.s, v.len);
    buf[v.len] = '\0';
    int rc = cli_parse_address(buf, word + 12);
    if (rc == TC_ECRYPTO)
        return enc_fail(e, TC_ECRYPTO, "EIP-55 checksum mismatch in '%.*s'", v.s, v.len);
    if (rc != TC_OK)
        return enc_fail(e, TC_EINVAL, "not an address (40 hex digits): '%.*s'", v.s, v.len);
    return append(out, word, WORD);
}

static int encode_bool(struct encoder *e, struct span v, struct bytes *out)
{
    uint8_t word[WORD] = { 0 };
    if (v.len == 4 && memcmp(v.s, "true", 4) == 0)
        word[WORD - 1] = 1;
    else if (!(v.len == 5 && memcmp(v.s, "false", 5) == 0))
        return enc_fail(e, TC_EINVAL, "expected true or false, got '%.*s'", v.s, v.len);
    return append(out, word, WORD);
}

/* len followed by data padded to a multiple of 32 bytes; with_length false
 * for bytes<M>, which is one left-aligned word. */
static int append_padded(struct bytes *out, const uint8_t *data, size_t len, bool with_length)
{
    uint8_t word[WORD] = { 0 };
    int rc;
    if (with_length) {
        word_from_u256(u256_from_u64(len), word);
        if ((rc = append(out, word, WORD)) != TC_OK)
            return rc;
        memset(word, 0, WORD);
    }
    if ((rc = append(out, data, len)) != TC_OK)
        return rc;
    return append(out, word, (WORD - len % WORD) % WORD);
}

static int encode_hex_bytes(struct encoder *e, const struct abi_type *t, struct span v,
                            struct bytes *out)
{
    if (v.len < 2 || v.s[0] != '0' || (v.s[1] != 'x' && v.s[1] != 'X'))
        return enc_fail(e, TC_EINVAL, "expected 0x and hex digits, got '%.*s'", v.s, v.len);
    size_t cap = (v.len - 2) / 2 + 1, n = 0;
    uint8_t *buf = xmalloc(cap);
    int rc = hex_decode_prefixed(v.s, v.len, buf, cap, &n);
    if (rc != TC_OK) {
        rc = enc_fail(e, TC_EINVAL, "bad hex (odd length or not a hex digit): '%.*s'", v.s, v.len);
    } else if (t->kind == ABI_FIXED_BYTES && n != t->size) {
        char msg[96];
        snprintf(msg, sizeof(msg), "bytes%u needs exactly %u bytes, got %zu", (unsigned)t->size,
                 (unsigned)t->size, n);
        tc_errorf(e->err, e->err_len, "%s: %s", e->path, msg);
        rc = TC_EINVAL;
    } else {
        rc = append_padded(out, buf, n, t->kind == ABI_BYTES);
    }
    free(buf);
    return rc;
}

/* Undoes the escapes of a double-quoted element (quotes included in v). */
static int unquote(struct encoder *e, struct span v, struct bytes *str)
{
    for (size_t i = 1; i + 1 < v.len; i++) {
        char c = v.s[i];
        if (c == '\\') {
            if (i + 2 >= v.len)
                return enc_fail(e, TC_EINVAL, "dangling '\\' in %.*s", v.s, v.len);
            char n = v.s[++i];
            if (n == '"' || n == '\\') {
                c = n;
            } else if (n == 'n') {
                c = '\n';
            } else if (n == 't') {
                c = '\t';
            } else if (n == 'x' && i + 3 < v.len && hex_digit_value(v.s[i + 1]) >= 0 &&
                       hex_digit_value(v.s[i + 2]) >= 0) {
                c = (char)(hex_digit_value(v.s[i + 1]) * 16 + hex_digit_value(v.s[i + 2]));
                i += 2;
            } else {
                return enc_fail(e, TC_EINVAL,
                                "unknown escape in %.*s (use \\\" \\\\ \\n \\t \\xNN)", v.s, v.len);
            }
        } else if (c == '"') {
            return enc_fail(e, TC_EINVAL, "unescaped '\"' inside %.*s", v.s, v.len);
        }
        if (bytes_push(str, (uint8_t)c) != TC_OK)
            return TC_ENOMEM;
    }
    return TC_OK;
}

static int encode_string(struct encoder *e, struct span v, bool nested, struct bytes *out)
{
    if (!nested)
        return append_padded(out, (const uint8_t *)v.s, v.len, true);
    if (v.len >= 2 && v.s[0] == '"' && v.s[v.len - 1] == '"') {
        struct bytes str;
        bytes_init(&str);
        int rc = unquote(e, v, &str);
        if (rc == TC_OK)
            rc = append_padded(out, str.ptr, str.len, true);
        bytes_free(&str);
        return rc;
    }
    if (v.len == 0) {
        tc_errorf(e->err, e->err_len, "%s: empty element (write \"\" for an empty string)",
                  e->path);
        return TC_EINVAL;
    }
    for (size_t i = 0; i < v.len; i++) {
        if (strchr(",[]()\"", v.s[i]) != NULL)
            return enc_fail(e, TC_EINVAL, "quote a string holding , [ ] ( ) or \": %.*s", v.s,
                            v.len);
    }
    return append_padded(out, (const uint8_t *)v.s, v.len, true);
}

/*
 * Splits "[a,b,...]" or "(a,b,...)" at its top-level commas into elems
 * (xmalloc'ed, caller frees). Brackets and parentheses nest; commas and
 * brackets inside double quotes do not count.
 */
static int split_elements(struct encoder *e, struct span v, char open, char close,
                          struct span **elems, size_t *count)
{
    size_t cap = 16, n = 0, depth = 0, start = 1;
    bool in_quote = false;
    if (v.len < 2 || v.s[0] != open)
        return enc_fail(e, TC_EINVAL,
                        open == '[' ? "expected an array [a,b,...], got '%.*s'"
                                    : "expected a tuple (a,b,...), got '%.*s'",
                        v.s, v.len);
    struct span *out = xmalloc(cap * sizeof(*out));
    for (size_t i = 1; i < v.len; i++) {
        char c = v.s[i];
        if (in_quote) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_quote = false;
            continue;
        }
        if (c == '"') {
            in_quote = true;
        } else if (c == '[' || c == '(') {
            depth++;
        } else if ((c == ']' || c == ')') && depth > 0) {
            depth--;
        } else if (c == ',' || c == close) {
            if (depth > 0)
                continue;
            if (c == close && i != v.len - 1)
                break;
            if (n == ABI_MAX_ARRAY_LEN) {
                free(out);
                return enc_fail(e, TC_ETOOBIG, "more than 65536 elements in '%.*s'", v.s, v.len);
            }
            if (n == cap) {
                cap *= 2;
                out = xrealloc(out, cap * sizeof(*out));
            }
            out[n].s = v.s + start;
            out[n].len = i - start;
            out[n] = trim(out[n]);
            n++;
            start = i + 1;
            if (c == close) {
                /* "[]" and "[ ]" are empty, not one empty element */
                if (n == 1 && out[0].len == 0)
                    n = 0;
                *elems = out;
                *count = n;
                return TC_OK;
            }
        } else if (c == ']' || c == ')') {
            break;
        }
    }
    free(out);
    return enc_fail(e, TC_EINVAL,
                    in_quote ? "unterminated string in '%.*s'"
                             : "unbalanced or unterminated brackets in '%.*s'",
                    v.s, v.len);
}

static int encode_value(struct encoder *e, const struct abi_type *t, struct span v, bool nested,
                        struct bytes *out);

/* Encodes count elements of types (all of type `elem` when types is NULL). */
static int encode_sequence(struct encoder *e, struct abi_type *const *types,
                           const struct abi_type *elem, const struct span *vals, size_t count,
                           struct bytes *out)
{
    size_t head_total = 0, path_len = strlen(e->path);
    for (size_t i = 0; i < count; i++)
        head_total += (types != NULL ? types[i] : elem)->head_bytes;
    if (head_total > ABI_MAX_ENCODED_BYTES) {
        tc_errorf(e->err, e->err_len, "%s: encoding larger than %u bytes", e->path,
                  ABI_MAX_ENCODED_BYTES);
        return TC_ETOOBIG;
    }
    struct bytes tail;
    bytes_init(&tail);
    int rc = TC_OK;
    for (size_t i = 0; i < count && rc == TC_OK; i++) {
        const struct abi_type *t = types != NULL ? types[i] : elem;
        if (path_len == 0)
            snprintf(e->path, PATH_LEN, "argument %zu", i + 1);
        else
            snprintf(e->path + path_len, PATH_LEN - path_len, types != NULL ? ".%zu" : "[%zu]", i);
        if (!t->dynamic) {
            rc = encode_value(e, t, vals[i], path_len != 0, out);
            continue;
        }
        uint8_t word[WORD];
        word_from_u256(u256_from_u64(head_total + tail.len), word);
        if ((rc = append(out, word, WORD)) == TC_OK)
            rc = encode_value(e, t, vals[i], path_len != 0, &tail);
        if (rc == TC_OK && out->len + tail.len > ABI_MAX_ENCODED_BYTES) {
            tc_errorf(e->err, e->err_len, "%s: encoding larger than %u bytes", e->path,
                      ABI_MAX_ENCODED_BYTES);
            rc = TC_ETOOBIG;
        }
    }
    if (rc == TC_OK)
        rc = append(out, tail.ptr, tail.len);
    if (rc == TC_OK && out->len > ABI_MAX_ENCODED_BYTES) {
        tc_errorf(e->err, e->err_len, "%s: encoding larger than %u bytes", e->path,
                  ABI_MAX_ENCODED_BYTES);
        rc = TC_ETOOBIG;
    }
    bytes_free(&tail);
    if (rc == TC_OK)
        e->path[path_len] = '\0';
    return rc;
}

static int encode_container(struct encoder *e, const struct abi_type *t, struct span v,
                            struct bytes *out)
{
    struct span *elems = NULL;
    size_t count = 0;
    bool tuple = t->kind == ABI_TUPLE;
    int rc = split_elements(e, v, tuple ? '(' : '[', tuple ? ')' : ']', &elems, &count);
    if (rc != TC_OK)
        return rc;
    size_t want = tuple ? t->member_count : t->size;
    if (t->kind != ABI_ARRAY && count != want) {
        char msg[96];
        snprintf(msg, sizeof(msg), "expected %zu element(s), got %zu", want, count);
        tc_errorf(e->err, e->err_len, "%s: %s", e->path, msg);
        rc = TC_EINVAL;
        goto out_free_elems;
    }
    if (t->kind == ABI_ARRAY) {
        uint8_t word[WORD];
        word_from_u256(u256_from_u64(count), word);
        if ((rc = append(out, word, WORD)) != TC_OK)
            goto out_free_elems;
    }
    rc = encode_sequence(e, tuple ? t->members : NULL, t->elem, elems, count, out);
out_free_elems:
    free(elems);
    return rc;
}

static int encode_value(struct encoder *e, const struct abi_type *t, struct span v, bool nested,
                        struct bytes *out)
{
    if (t->kind != ABI_STRING || nested)
        v = trim(v);
    switch (t->kind) {
    case ABI_UINT:
    case ABI_INT:
        return encode_integer(e, t, v, out);
    case ABI_ADDRESS:
        return encode_address(e, v, out);
    case ABI_BOOL:
        return encode_bool(e, v, out);
    case ABI_FIXED_BYTES:
    case ABI_BYTES:
        return encode_hex_bytes(e, t, v, out);
    case ABI_STRING:
        return encode_string(e, v, nested, out);
    case ABI_ARRAY:
    case ABI_FIXED_ARRAY:
    case ABI_TUPLE:
        return encode_container(e, t, v, out);
    }
    tc_errorf(e->err, e->err_len, "%s: unsupported type", e->path);
    return TC_EINVAL;
}

int abi_encode_args(const struct abi_type *params, int argc, const char *const *argv,
                    struct bytes *out, char *err, size_t err_len)
{
    struct encoder e = { "", err, err_len };
    if (params->kind != ABI_TUPLE || argc < 0 || (uint32_t)argc != params->member_count) {
        tc_errorf(err, err_len, "expected %u argument(s), got %d", (unsigned)params->member_count,
                  argc);
        return TC_EINVAL;
    }
    struct span *vals = xcalloc((size_t)argc + 1, sizeof(*vals));
    for (int i = 0; i < argc; i++) {
        vals[i].s = argv[i];
        vals[i].len = strlen(argv[i]);
    }
    int rc = encode_sequence(&e, params->members, NULL, vals, (size_t)argc, out);
    free(vals);
    return rc;
}

int abi_encode_call(const struct abi_signature *sig, int argc, const char *const *argv,
                    struct bytes *out, char *err, size_t err_len)
{
    int rc = append(out, sig->selector, 4);
    return rc == TC_OK ? abi_encode_args(sig->inputs, argc, argv, out, err, err_len) : rc;
}

/* ---- decoding ---------------------------------------------------------- */

struct decoder {
    const uint8_t *data;
    size_t len;
    size_t items;
    size_t output_bytes;
    char path[PATH_LEN];
    char *err;
    size_t err_len;
};

static int dec_fail(struct decoder *d, int rc, const char *what)
{
    tc_errorf(d->err, d->err_len, "%s%s%s", d->path, d->path[0] != '\0' ? ": " : "", what);
    return rc;
}

/* The word at pos, or TC_ETRUNCATED. */
static int read_word(struct decoder *d, size_t pos, const uint8_t **word)
{
    if (pos > d->len || d->len - pos < WORD)
        return dec_fail(d, TC_ETRUNCATED, "data ends inside a 32-byte word");
    *word = d->data + pos;
    return TC_OK;
}

/* A word read as an offset or length that must stay below limit. */
static int read_size(struct decoder *d, size_t pos, size_t limit, size_t *out)
{
    const uint8_t *w;
    int rc = read_word(d, pos, &w);
    if (rc != TC_OK)
        return rc;
    u256 v = u256_from_be_bytes(w, WORD);
    if (!u256_fits_u64(v) || v.w[0] > limit)
        return dec_fail(d, TC_ETRUNCATED, "offset or length points past the end of the data");
    *out = (size_t)v.w[0];
    return TC_OK;
}

static int budget(struct decoder *d, size_t output_bytes)
{
    d->items++;
    d->output_bytes += output_bytes;
    if (d->items > ABI_MAX_DECODE_ITEMS || d->output_bytes > ABI_MAX_DECODE_OUTPUT_BYTES)
        return dec_fail(d, TC_ETOOBIG, "decoded output too large");
    return TC_OK;
}

static bool all_zero(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i] != 0)
            return false;
    }
    return true;
}

/* Appends s[0..len) quoted with the escapes the encoder reads back. */
static int append_quoted(struct bytes *b, const uint8_t *s, size_t len)
{
    int rc = bytes_push(b, '"');
    for (size_t i = 0; i < len && rc == TC_OK; i++) {
        char esc[5];
        uint8_t c = s[i];
        if (c == '"' || c == '\\')
            snprintf(esc, sizeof(esc), "\\%c", c);
        else if (c == '\n')
            snprintf(esc, sizeof(esc), "\\n");
        else if (c == '\t')
            snprintf(esc, sizeof(esc), "\\t");
        else if (c < 0x20 || c == 0x7f)
            snprintf(esc, sizeof(esc), "\\x%02x", c);
        else {
            rc = bytes_push(b, c);
            continue;
        }
        rc = append_str(b, esc);
    }
    return rc == TC_OK ? bytes_push(b, '"') : rc;
}

static bool needs_quotes(const uint8_t *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if ((s[i] < 0x20 && s[i] != '\n' && s[i] != '\t') || s[i] == 0x7f)
            return true;
    }
    return false;
}

/* Adds item to the JSON array parent; with no parent (JSON not wanted) the
 * item is dropped. */
static int add_json(cJSON *parent, cJSON *item)
{
    if (parent == NULL) {
        cJSON_Delete(item);
        return TC_OK;
    }
    if (item == NULL || !cJSON_AddItemToArray(parent, item)) {
        cJSON_Delete(item);
        return TC_ENOMEM;
    }
    return TC_OK;
}

static int decode_value(struct decoder *d, const struct abi_type *t, size_t pos, bool nested,
                        struct bytes *text, cJSON *json);

/* count values of types (or of elem) whose heads start at base. */
static int decode_sequence(struct decoder *d, struct abi_type *const *types,
                           const struct abi_type *elem, size_t count, size_t base, bool top,
                           struct bytes *text, cJSON *json)
{
    size_t head = base, path_len = strlen(d->path);
    int rc = TC_OK;
    for (size_t i = 0; i < count && rc == TC_OK; i++) {
        const struct abi_type *t = types != NULL ? types[i] : elem;
        if (top)
            snprintf(d->path, PATH_LEN, "return value %zu", i + 1);
        else
            snprintf(d->path + path_len, PATH_LEN - path_len, types != NULL ? ".%zu" : "[%zu]", i);
        if (i > 0)
            rc = bytes_push(text, top ? '\n' : ',');
        size_t at = head;
        if (rc == TC_OK && t->dynamic) {
            size_t off = 0;
            rc = read_size(d, head, d->len - base, &off);
            at = base + off;
        }
        if (rc == TC_OK)
            rc = decode_value(d, t, at, !top, text, json);
        head += t->head_bytes;
    }
    if (rc == TC_OK)
        d->path[path_len] = '\0';
    return rc;
}

static int decode_integer(struct decoder *d, const struct abi_type *t, const uint8_t *w,
                          struct bytes *text, cJSON *json)
{
    u256 v = u256_from_be_bytes(w, WORD);
    char dec[U256_DEC_LEN + 1];
    if (t->kind == ABI_UINT) {
        if (u256_bit_length(v) > t->size)
            return dec_fail(d, TC_ERANGE, "value does not fit its uint type");
        u256_to_dec(v, dec);
    } else {
        u256 ext = u256_signextend(u256_from_u64(t->size / 8 - 1), v);
        if (!u256_eq(ext, v))
            return dec_fail(d, TC_ERANGE, "value is not a sign-extended int of its width");
        if (u256_is_neg(v)) {
            dec[0] = '-';
            u256_to_dec(u256_neg(v), dec + 1);
        } else {
            u256_to_dec(v, dec);
        }
    }
    int rc = append_str(text, dec);
    return rc == TC_OK ? add_json(json, cJSON_CreateString(dec)) : rc;
}

static int decode_hex(struct decoder *d, const uint8_t *p, size_t n, struct bytes *text,
                      cJSON *json)
{
    char *hex = xmalloc(2 * n + 3);
    hex[0] = '0';
    hex[1] = 'x';
    hex_encode(p, n, hex + 2);
    int rc = budget(d, 2 * n + 2);
    if (rc == TC_OK)
        rc = append_str(text, hex);
    if (rc == TC_OK)
        rc = add_json(json, cJSON_CreateString(hex));
    free(hex);
    return rc;
}

static int decode_string(struct decoder *d, const uint8_t *p, size_t n, bool nested,
                         struct bytes *text, cJSON *json)
{
    int rc = budget(d, 4 * n + 2);
    if (rc != TC_OK)
        return rc;
    if (nested || needs_quotes(p, n))
        rc = append_quoted(text, p, n);
    else
        rc = append(text, p, n);
    if (rc != TC_OK || json == NULL)
        return rc;
    char *s = xmalloc(n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    rc = add_json(json, cJSON_CreateString(s));
    free(s);
    return rc;
}

static int decode_container(struct decoder *d, const struct abi_type *t, size_t pos,
                            struct bytes *text, cJSON *json)
{
    bool tuple = t->kind == ABI_TUPLE;
    size_t count = tuple ? t->member_count : t->size, base = pos;
    int rc;
    if (t->kind == ABI_ARRAY) {
        if ((rc = read_size(d, pos, ABI_MAX_ARRAY_LEN, &count)) != TC_OK)
            return rc;
        base = pos + WORD;
        /* every element has a head of at least one word in the data */
        if (count > (d->len - base) / t->elem->head_bytes)
            return dec_fail(d, TC_ETRUNCATED, "array length beyond the end of the data");
    }
    cJSON *arr = NULL;
    if (json != NULL && (arr = cJSON_CreateArray()) == NULL)
        return TC_ENOMEM;
    rc = bytes_push(text, tuple ? '(' : '[');
    if (rc == TC_OK)
        rc = decode_sequence(d, tuple ? t->members : NULL, t->elem, count, base, false, text, arr);
    if (rc == TC_OK)
        rc = bytes_push(text, tuple ? ')' : ']');
    if (rc == TC_OK)
        return add_json(json, arr);
    cJSON_Delete(arr);
    return rc;
}

static int decode_value(struct decoder *d, const struct abi_type *t, size_t pos, bool nested,
                        struct bytes *text, cJSON *json)
{
    const uint8_t *w = NULL;
    char addr[CLI_ADDRESS_STR_LEN];
    int rc = budget(d, 80);
    if (rc != TC_OK)
        return rc;
    if (t->kind != ABI_ARRAY && t->kind != ABI_FIXED_ARRAY && t->kind != ABI_TUPLE &&
        (rc = read_word(d, pos, &w)) != TC_OK)
        return rc;
    switch (t->kind) {
    case ABI_UINT:
    case ABI_INT:
        return decode_integer(d, t, w, text, json);
    case ABI_ADDRESS:
        if (!all_zero(w, 12))
            return dec_fail(d, TC_ERANGE, "address with non-zero upper bytes");
        cli_address_checksum(w + 12, addr);
        rc = append_str(text, addr);
        return rc == TC_OK ? add_json(json, cJSON_CreateString(addr)) : rc;
    case ABI_BOOL:
        if (!all_zero(w, WORD - 1) || w[WORD - 1] > 1)
            return dec_fail(d, TC_ERANGE, "bool other than 0 or 1");
        rc = append_str(text, w[WORD - 1] ? "true" : "false");
        return rc == TC_OK ? add_json(json, cJSON_CreateBool(w[WORD - 1])) : rc;
    case ABI_FIXED_BYTES:
        if (!all_zero(w + t->size, WORD - t->size))
            return dec_fail(d, TC_ERANGE, "bytes<M> with non-zero padding");
        return decode_hex(d, w, t->size, text, json);
    case ABI_BYTES:
    case ABI_STRING: {
        size_t n = 0;
        if ((rc = read_size(d, pos, d->len - pos - WORD, &n)) != TC_OK)
            return rc;
        if (t->kind == ABI_BYTES)
            return decode_hex(d, d->data + pos + WORD, n, text, json);
        return decode_string(d, d->data + pos + WORD, n, nested, text, json);
    }
    case ABI_ARRAY:
    case ABI_FIXED_ARRAY:
    case ABI_TUPLE:
        return decode_container(d, t, pos, text, json);
    }
    return dec_fail(d, TC_EINVAL, "unsupported type");
}

int abi_decode(const struct abi_type *params, const uint8_t *data, size_t len, char **text,
               cJSON **json, char *err, size_t err_len)
{
    struct decoder d = { data, len, 0, 0, "", err, err_len };
    struct bytes out;
    cJSON *arr = NULL;
    if (params->kind != ABI_TUPLE) {
        tc_errorf(err, err_len, "return types must be a tuple");
        return TC_EINVAL;
    }
    if (json != NULL && (arr = cJSON_CreateArray()) == NULL)
        return TC_ENOMEM;
    bytes_init(&out);
    int rc = decode_sequence(&d, params->members, NULL, params->member_count, 0, true, &out, arr);
    if (rc == TC_OK)
        rc = bytes_push(&out, 0);
    if (rc != TC_OK) {
        bytes_free(&out);
        cJSON_Delete(arr);
        return rc;
    }
    if (text != NULL)
        *text = (char *)bytes_take(&out, NULL);
    bytes_free(&out);
    if (json != NULL)
        *json = arr;
    return TC_OK;
}

/* ---- revert data ------------------------------------------------------- */

static const uint8_t error_selector[4] = { 0x08, 0xc3, 0x79, 0xa0 }; /* Error(string) */
static const uint8_t panic_selector[4] = { 0x4e, 0x48, 0x7b, 0x71 }; /* Panic(uint256) */

static const char *panic_name(u256 code)
{
    static const struct {
        uint8_t code;
        const char *name;
    } names[] = {
        { 0x00, "generic compiler panic" },
        { 0x01, "assertion failed" },
        { 0x11, "arithmetic overflow or underflow" },
        { 0x12, "division or modulo by zero" },
        { 0x21, "invalid enum value" },
        { 0x22, "invalid storage byte array encoding" },
        { 0x31, "pop on an empty array" },
        { 0x32, "array index out of bounds" },
        { 0x41, "out of memory" },
        { 0x51, "call of a zero-initialized function" },
    };
    if (!u256_fits_u64(code))
        return "unknown panic code";
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (code.w[0] == names[i].code)
            return names[i].name;
    }
    return "unknown panic code";
}

static char *hex_string(const char *prefix, const uint8_t *data, size_t len)
{
    size_t plen = strlen(prefix);
    char *s = xmalloc(plen + 2 * len + 3);
    memcpy(s, prefix, plen);
    s[plen] = '0';
    s[plen + 1] = 'x';
    hex_encode(data, len, s + plen + 2);
    return s;
}

static char *decode_single(const uint8_t *data, size_t len, enum abi_kind kind)
{
    struct abi_type member = { kind, kind == ABI_UINT ? 256 : 0, NULL, NULL,
                               0,    kind == ABI_STRING,         WORD };
    struct abi_type *members[1] = { &member };
    struct abi_type tuple = { ABI_TUPLE, 0, NULL, members, 1, member.dynamic, WORD };
    char *text = NULL;
    if (abi_decode(&tuple, data, len, &text, NULL, NULL, 0) != TC_OK)
        return NULL;
    return text;
}

char *abi_revert_reason(const uint8_t *data, size_t len)
{
    if (len == 0)
        return xstrdup("");
    if (len >= 4 && memcmp(data, error_selector, 4) == 0) {
        char *msg = decode_single(data + 4, len - 4, ABI_STRING);
        return msg != NULL ? msg : hex_string("", data, len);
    }
    if (len >= 4 && memcmp(data, panic_selector, 4) == 0 && len >= 4 + WORD) {
        u256 code = u256_from_be_bytes(data + 4, WORD);
        char hex[U256_HEX_LEN];
        u256_to_hex(code, hex);
        const char *name = panic_name(code);
        size_t n = strlen(hex) + strlen(name) + 16;
        char *s = xmalloc(n);
        snprintf(s, n, "panic %s: %s", hex, name);
        return s;
    }
    if (len < 4)
        return hex_string("", data, len);
    char prefix[40];
    snprintf(prefix, sizeof(prefix), "custom error 0x%02x%02x%02x%02x%s", data[0], data[1], data[2],
             data[3], len > 4 ? ": " : "");
    if (len == 4)
        return xstrdup(prefix);
    return hex_string(prefix, data + 4, len - 4);
}
