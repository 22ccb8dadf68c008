/*
 * test_abi.c - the Solidity ABI codec of the CLI (src/cli/abi.h): the worked
 * examples of the Solidity ABI specification, known selectors, seeded random
 * round trips (encode -> decode gives back the canonical text) for every
 * type family, every input error, malformed return data, and Error/Panic
 * revert data. The random seed is printed; TC_SEED=<n> replays it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "base/bytes.h"
#include "base/error.h"
#include "base/rng.h"
#include "base/u256.h"
#include "cli/abi.h"
#include "cli/cli_util.h"

static uint64_t test_seed;

/*
 * Builds the hex of an encoding from pieces: "#xxxxxxxx" a selector, "<hex"
 * a word with hex left-padded (a number), ">hex" a word right-padded (bytes
 * data), anything else verbatim. Caller frees.
 */
static char *hexcat(const char *const *pieces, size_t n)
{
    char *out = calloc(1, 8 + n * 64 + 1);
    for (size_t i = 0; i < n; i++) {
        const char *p = pieces[i];
        size_t len = strlen(p + 1);
        if (p[0] == '<') {
            for (size_t k = len; k < 64; k++)
                strcat(out, "0");
            strcat(out, p + 1);
        } else if (p[0] == '>') {
            strcat(out, p + 1);
            for (size_t k = len; k < 64; k++)
                strcat(out, "0");
        } else {
            strcat(out, p[0] == '#' ? p + 1 : p);
        }
    }
    return out;
}

/* Encodes sig(args) and compares the hex with the expected pieces. */
static void check_call(const char *sig_text, int argc, const char *const *argv,
                       const char *const *pieces, size_t n)
{
    struct abi_signature sig;
    struct bytes out;
    char err[256] = "";
    assert_int_equal(abi_signature_parse(sig_text, &sig, err, sizeof(err)), TC_OK);
    bytes_init(&out);
    int rc = abi_encode_call(&sig, argc, argv, &out, err, sizeof(err));
    if (rc != TC_OK)
        fail_msg("%s: %s", sig_text, err);
    char *want = hexcat(pieces, n);
    char *got = malloc(out.len * 2 + 1);
    hex_encode(out.ptr, out.len, got);
    assert_string_equal(got, want);
    free(got);
    free(want);
    bytes_free(&out);
    abi_signature_free(&sig);
}

static void test_spec_example_baz_uint32_bool(void **state)
{
    (void)state;
    const char *args[] = { "69", "true" };
    const char *want[] = { "#cdcd77c0", "<45", "<1" };
    check_call("baz(uint32,bool)", 2, args, want, 3);
}

static void test_spec_example_bar_bytes3_fixed_array(void **state)
{
    (void)state;
    const char *args[] = { "[0x616263, 0x646566]" }; /* ["abc", "def"] */
    const char *want[] = { "#fce353f6", ">616263", ">646566" };
    check_call("bar(bytes3[2])", 1, args, want, 3);
}

static void test_spec_example_sam_dynamic_arguments(void **state)
{
    (void)state;
    const char *args[] = { "0x64617665", "true", "[1,2,3]" }; /* "dave" */
    const char *want[] = { "#a5643bf2", "<60", "<1", "<a0", "<4",
                           ">64617665", "<3",  "<1", "<2",  "<3" };
    check_call("sam(bytes,bool,uint256[])", 3, args, want, 10);
}

static void test_spec_example_f_mixed_static_and_dynamic(void **state)
{
    (void)state;
    const char *args[] = { "0x123", "[0x456,0x789]", "0x31323334353637383930",
                           "0x48656c6c6f2c20776f726c6421" }; /* "1234567890", "Hello, world!" */
    const char *want[] = { "#8be65246", "<123", "<80", ">31323334353637383930",      "<e0", "<2",
                           "<456",      "<789", "<d",  ">48656c6c6f2c20776f726c6421" };
    check_call("f(uint256,uint32[],bytes10,bytes)", 4, args, want, 10);
}

static void test_spec_example_g_nested_dynamic_arrays(void **state)
{
    (void)state;
    const char *args[] = { "[[1, 2], [3]]", "[one, two, three]" };
    const char *want[] = { "#2289b18c", "<40", "<140",    "<2", "<40",     "<a0", "<2",
                           "<1",        "<2",  "<1",      "<3", "<3",      "<60", "<a0",
                           "<e0",       "<3",  ">6f6e65", "<3", ">74776f", "<5",  ">7468726565" };
    check_call("g(uint256[][],string[])", 2, args, want, 21);
}

static void expect_selector(const char *text, const char *hex)
{
    struct abi_signature sig;
    char err[256], got[9];
    assert_int_equal(abi_signature_parse(text, &sig, err, sizeof(err)), TC_OK);
    hex_encode(sig.selector, 4, got);
    assert_string_equal(got, hex);
    abi_signature_free(&sig);
}

static void test_selectors_of_known_functions(void **state)
{
    (void)state;
    expect_selector("transfer(address,uint256)", "a9059cbb");
    expect_selector("balanceOf(address)", "70a08231");
    /* uint means uint256 and spaces do not count */
    expect_selector("transfer( address , uint )", "a9059cbb");
    expect_selector("balanceOf(address)(uint256)", "70a08231");
    expect_selector("baz(uint32,bool)(bool)", "cdcd77c0");
}

static void test_signature_canonical_form_and_return_types(void **state)
{
    (void)state;
    struct abi_signature sig;
    char err[256];
    assert_int_equal(abi_signature_parse("h(uint, (int,bytes32)[2][], string)(bool,uint8[])", &sig,
                                         err, sizeof(err)),
                     TC_OK);
    assert_string_equal(sig.name, "h");
    assert_string_equal(sig.canonical, "h(uint256,(int256,bytes32)[2][],string)");
    assert_int_equal(sig.inputs->member_count, 3);
    assert_true(sig.inputs->dynamic);
    assert_int_equal(sig.inputs->members[1]->kind, ABI_ARRAY);
    assert_int_equal(sig.inputs->members[1]->elem->kind, ABI_FIXED_ARRAY);
    assert_int_equal(sig.inputs->members[1]->elem->head_bytes, 128);
    assert_non_null(sig.outputs);
    assert_int_equal(sig.outputs->member_count, 2);
    abi_signature_free(&sig);

    assert_int_equal(abi_signature_parse("get()", &sig, err, sizeof(err)), TC_OK);
    assert_null(sig.outputs);
    assert_int_equal(sig.inputs->member_count, 0);
    abi_signature_free(&sig);
}

static void expect_sig_error(const char *text, int code, const char *fragment)
{
    struct abi_signature sig;
    char err[256] = "";
    int rc = abi_signature_parse(text, &sig, err, sizeof(err));
    if (rc != code)
        fail_msg("'%s': expected %d, got %d (%s)", text, code, rc, err);
    if (strstr(err, fragment) == NULL)
        fail_msg("'%s': message '%s' lacks '%s'", text, err, fragment);
}

static void test_signature_errors_are_reported(void **state)
{
    (void)state;
    expect_sig_error("f(uint7)", TC_EINVAL, "unknown type 'uint7'");
    expect_sig_error("f(uint264)", TC_EINVAL, "unknown type");
    expect_sig_error("f(int0)", TC_EINVAL, "unknown type");
    expect_sig_error("f(uint08)", TC_EINVAL, "unknown type");
    expect_sig_error("f(bytes33)", TC_EINVAL, "unknown type 'bytes33'");
    expect_sig_error("f(bytes0)", TC_EINVAL, "unknown type");
    expect_sig_error("f(fixed128x18)", TC_EINVAL, "unknown type");
    expect_sig_error("f(uint256", TC_EINVAL, "unterminated");
    expect_sig_error("f((uint256,bool)", TC_EINVAL, "expected");
    expect_sig_error("f(uint256[)", TC_EINVAL, "expected ']'");
    expect_sig_error("f(uint256[0])", TC_EINVAL, "fixed array length");
    expect_sig_error("f(())", TC_EINVAL, "empty tuple");
    expect_sig_error("f(,)", TC_EINVAL, "expected a type");
    expect_sig_error("f(uint256)x", TC_EINVAL, "unexpected 'x'");
    expect_sig_error("f", TC_EINVAL, "expected '('");
    expect_sig_error("f(uint256 amount)", TC_EINVAL, "expected ',' or ')'");
    expect_sig_error("f(uint256[][][][][][][][][][][][][][][][][])", TC_ETOODEEP, "deeper");
    expect_sig_error("f((((((((((((((((uint8))))))))))))))))", TC_ETOODEEP, "deeper");
    expect_sig_error("f(uint256[65536][65536])", TC_ETOOBIG, "more than");
    expect_sig_error("f(uint256[65537])", TC_EINVAL, "fixed array length");
    char big[ABI_MAX_SIGNATURE_LEN + 16];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    expect_sig_error(big, TC_ETOOBIG, "longer than");
    char wide[8 + 70 * 5] = "f(";
    for (int i = 0; i < 65; i++)
        strcat(wide, i == 0 ? "bool" : ",bool");
    strcat(wide, ")");
    expect_sig_error(wide, TC_ETOOBIG, "more than 64 members");
}

/* Encodes args for sig and returns the code; err gets the message. */
static int encode(const char *sig_text, int argc, const char *const *argv, char *err,
                  size_t err_len)
{
    struct abi_signature sig;
    struct bytes out;
    assert_int_equal(abi_signature_parse(sig_text, &sig, err, err_len), TC_OK);
    bytes_init(&out);
    err[0] = '\0';
    int rc = abi_encode_args(sig.inputs, argc, argv, &out, err, err_len);
    bytes_free(&out);
    abi_signature_free(&sig);
    return rc;
}

static void expect_arg(const char *sig_text, const char *arg, int code, const char *fragment)
{
    char err[512];
    const char *argv[] = { arg };
    int rc = encode(sig_text, 1, argv, err, sizeof(err));
    if (rc != code)
        fail_msg("%s with '%s': expected %d, got %d (%s)", sig_text, arg, code, rc, err);
    if (fragment != NULL && strstr(err, fragment) == NULL)
        fail_msg("%s with '%s': message '%s' lacks '%s'", sig_text, arg, err, fragment);
}

static void test_integer_ranges_follow_width_and_sign(void **state)
{
    (void)state;
    expect_arg("f(uint8)", "255", TC_OK, NULL);
    expect_arg("f(uint8)", "0xff", TC_OK, NULL);
    expect_arg("f(uint8)", "256", TC_ERANGE, "argument 1: 256 is out of range for uint8");
    expect_arg("f(uint8)", "0x100", TC_ERANGE, "out of range for uint8");
    expect_arg("f(uint8)", "-1", TC_ERANGE, "negative");
    expect_arg("f(int8)", "127", TC_OK, NULL);
    expect_arg("f(int8)", "-128", TC_OK, NULL);
    expect_arg("f(int8)", "-0x80", TC_OK, NULL);
    expect_arg("f(int8)", "128", TC_ERANGE, "out of range for int8");
    expect_arg("f(int8)", "-129", TC_ERANGE, "out of range for int8");
    expect_arg("f(int8)", "0xff", TC_ERANGE, "out of range for int8");
    expect_arg("f(int8)", "-0", TC_OK, NULL);
    expect_arg("f(uint48)", "281474976710655", TC_OK, NULL);
    expect_arg("f(uint48)", "281474976710656", TC_ERANGE, "uint48");
    expect_arg("f(uint256)",
               "115792089237316195423570985008687907853269984665640564039457584007913129639935",
               TC_OK, NULL);
    expect_arg("f(uint256)",
               "115792089237316195423570985008687907853269984665640564039457584007913129639936",
               TC_ERANGE, "256 bits");
    expect_arg("f(int256)",
               "-57896044618658097711785492504343953926634992332820282019728792003956564819968",
               TC_OK, NULL);
    expect_arg("f(int256)",
               "57896044618658097711785492504343953926634992332820282019728792003956564819968",
               TC_ERANGE, "int256");
    expect_arg("f(uint256)", "12a", TC_EINVAL, "not a decimal or 0x hex integer");
    expect_arg("f(uint256)", "", TC_EINVAL, "argument 1");
    expect_arg("f(uint256)", "0x", TC_EINVAL, "not a decimal");
    expect_arg("f(int256)", "--1", TC_EINVAL, NULL);
    expect_arg("f(uint256)", " 42 ", TC_OK, NULL);
}

static void test_negative_int_is_twos_complement(void **state)
{
    (void)state;
    const char *args[] = { "-1", "-0x80" };
    const char *want[] = { "#00000000",
                           "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
                           "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff80" };
    struct abi_signature sig;
    struct bytes out;
    char err[256];
    assert_int_equal(abi_signature_parse("f(int16,int8)", &sig, err, sizeof(err)), TC_OK);
    bytes_init(&out);
    assert_int_equal(abi_encode_args(sig.inputs, 2, args, &out, err, sizeof(err)), TC_OK);
    char *hex = malloc(out.len * 2 + 1);
    hex_encode(out.ptr, out.len, hex);
    char *expected = hexcat(want + 1, 2);
    assert_string_equal(hex, expected);
    free(expected);
    free(hex);
    bytes_free(&out);
    abi_signature_free(&sig);
}

static void test_bad_hex_and_wrong_sizes_are_rejected(void **state)
{
    (void)state;
    expect_arg("f(bytes)", "0x123", TC_EINVAL, "bad hex");
    expect_arg("f(bytes)", "0x12zz", TC_EINVAL, "bad hex");
    expect_arg("f(bytes)", "1234", TC_EINVAL, "expected 0x");
    expect_arg("f(bytes)", "0x", TC_OK, NULL);
    expect_arg("f(bytes4)", "0x12345678", TC_OK, NULL);
    expect_arg("f(bytes4)", "0x123456", TC_EINVAL, "bytes4 needs exactly 4 bytes, got 3");
    expect_arg("f(bytes4)", "0x1234567890", TC_EINVAL, "got 5");
    expect_arg("f(bool)", "yes", TC_EINVAL, "expected true or false");
    expect_arg("f(bool)", "1", TC_EINVAL, "expected true or false");
}

static void test_addresses_check_eip55(void **state)
{
    (void)state;
    expect_arg("f(address)", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", TC_OK, NULL);
    expect_arg("f(address)", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", TC_OK, NULL);
    expect_arg("f(address)", "5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED", TC_OK, NULL);
    expect_arg("f(address)", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", TC_ECRYPTO,
               "argument 1: EIP-55 checksum mismatch");
    expect_arg("f(address)", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1bea", TC_EINVAL,
               "not an address");
    expect_arg(
        "f(address[])",
        "[0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed,0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD]",
        TC_ECRYPTO, "argument 1[1]: EIP-55");
}

static void test_argument_count_must_match(void **state)
{
    (void)state;
    char err[256];
    const char *argv[] = { "1", "2", "3" };
    assert_int_equal(encode("f(uint256,uint256)", 1, argv, err, sizeof(err)), TC_EINVAL);
    assert_non_null(strstr(err, "expected 2 argument(s), got 1"));
    assert_int_equal(encode("f(uint256,uint256)", 3, argv, err, sizeof(err)), TC_EINVAL);
    assert_int_equal(encode("f()", 1, argv, err, sizeof(err)), TC_EINVAL);
    assert_int_equal(encode("f()", 0, argv, err, sizeof(err)), TC_OK);
    expect_arg("f(uint8[2])", "[1,2,3]", TC_EINVAL, "argument 1: expected 2 element(s), got 3");
    expect_arg("f((uint8,bool))", "(1)", TC_EINVAL, "expected 2 element(s), got 1");
    expect_arg("f(uint8[])", "[]", TC_OK, NULL);
    expect_arg("f(uint8[])", "[ ]", TC_OK, NULL);
    expect_arg("f(uint8[])", "[1,]", TC_EINVAL, "argument 1[1]");
}

static void test_unterminated_and_unbalanced_brackets_are_rejected(void **state)
{
    (void)state;
    expect_arg("f(uint8[])", "[1,2", TC_EINVAL, "unterminated brackets");
    expect_arg("f(uint8[])", "1,2]", TC_EINVAL, "expected an array");
    expect_arg("f(uint8[][])", "[[1,2],[3]", TC_EINVAL, "unterminated");
    expect_arg("f(uint8[][])", "[[1,2)]", TC_EINVAL, "argument 1[0]");
    expect_arg("f(uint8[])", "[1,2]]", TC_EINVAL, "unbalanced");
    expect_arg("f((uint8,bool))", "(1,true", TC_EINVAL, "unterminated");
    expect_arg("f((uint8,bool))", "[1,true]", TC_EINVAL, "expected a tuple");
    expect_arg("f(string[])", "[\"abc]", TC_EINVAL, "unterminated string");
    expect_arg("f(string[])", "[\"a\\qb\"]", TC_EINVAL, "unknown escape");
    expect_arg("f(string[])", "[a(b]", TC_EINVAL, NULL);
    expect_arg("f(string[])", "[,]", TC_EINVAL, "empty element");
}

static void test_errors_name_the_argument_and_element(void **state)
{
    (void)state;
    char err[512];
    const char *argv[] = { "true", "[(1,[0x01]),(2,[0x02,0xzz])]" };
    assert_int_equal(encode("f(bool,(uint8,bytes[])[])", 2, argv, err, sizeof(err)), TC_EINVAL);
    assert_non_null(strstr(err, "argument 2[1].1[1]: bad hex"));
    const char *deep[] = { "[[[300]]]" };
    assert_int_equal(encode("f(uint8[][1][])", 1, deep, err, sizeof(err)), TC_ERANGE);
    assert_non_null(strstr(err, "argument 1[0][0][0]: 300 is out of range for uint8"));
}

/* Encodes then decodes; returns the decoded text (caller frees). */
static char *round_trip(const char *sig_text, int argc, const char *const *argv, cJSON **json)
{
    struct abi_signature sig;
    struct bytes out;
    char err[512], *text = NULL;
    assert_int_equal(abi_signature_parse(sig_text, &sig, err, sizeof(err)), TC_OK);
    bytes_init(&out);
    int rc = abi_encode_args(sig.inputs, argc, argv, &out, err, sizeof(err));
    if (rc != TC_OK)
        fail_msg("encode %s: %s", sig_text, err);
    rc = abi_decode(sig.inputs, out.ptr, out.len, &text, json, err, sizeof(err));
    if (rc != TC_OK)
        fail_msg("decode %s: %s", sig_text, err);
    bytes_free(&out);
    abi_signature_free(&sig);
    return text;
}

static void test_strings_quote_inside_containers_and_not_at_top_level(void **state)
{
    (void)state;
    const char *argv[] = { "a, [b] \"c\"",
                           "[plain, \"with, comma\", \"q\\\"\\\\\", \"\", \"\\x01\\n\"]",
                           "(7,\"x)\")" };
    cJSON *json = NULL;
    char *text = round_trip("f(string,string[],(uint8,string))", 3, argv, &json);
    assert_string_equal(text, "a, [b] \"c\"\n[\"plain\",\"with, comma\",\"q\\\"\\\\\",\"\","
                              "\"\\x01\\n\"]\n(7,\"x)\")");
    free(text);
    char *js = cJSON_PrintUnformatted(json);
    assert_string_equal(js, "[\"a, [b] \\\"c\\\"\",[\"plain\",\"with, comma\",\"q\\\"\\\\\",\"\","
                            "\"\\u0001\\n\"],[\"7\",\"x)\"]]");
    free(js);
    cJSON_Delete(json);

    /* a top-level string with a control character prints quoted */
    const char *ctl[] = { "bell\x07" };
    text = round_trip("f(string)", 1, ctl, NULL);
    assert_string_equal(text, "\"bell\\x07\"");
    free(text);
}

static void test_decode_prints_each_type_family(void **state)
{
    (void)state;
    const char *argv[] = { "0xff",
                           "-5",
                           "0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED",
                           "false",
                           "0xdeadbeef",
                           "0x",
                           "[[1],[2,3]]",
                           "(true,[0x0102])" };
    cJSON *json = NULL;
    char *text = round_trip("f(uint16,int64,address,bool,bytes4,bytes,uint8[][],(bool,bytes2[1]))",
                            8, argv, &json);
    assert_string_equal(text, "255\n-5\n0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\nfalse\n"
                              "0xdeadbeef\n0x\n[[1],[2,3]]\n(true,[0x0102])");
    free(text);
    char *js = cJSON_PrintUnformatted(json);
    assert_string_equal(js, "[\"255\",\"-5\",\"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\",false,"
                            "\"0xdeadbeef\",\"0x\",[[\"1\"],[\"2\",\"3\"]],[true,[\"0x0102\"]]]");
    free(js);
    cJSON_Delete(json);
}

/* ---- random round trips --------------------------------------------------- */

struct gen {
    struct rng rng;
    char sig[2048];
};

static void append_text(struct bytes *b, const char *s)
{
    assert_int_equal(bytes_append(b, s, strlen(s)), TC_OK);
}

/* Appends a random type's canonical text to sig; depth limits nesting. */
static void random_type(struct gen *g, int depth, struct bytes *sig)
{
    static const char *const leaves[] = { "uint",  "int",    "address", "bool",
                                          "bytes", "string", "bytesN" };
    char buf[32];
    uint64_t pick = rng_below(&g->rng, depth > 0 ? 10 : 7);
    if (pick < 7) {
        const char *leaf = leaves[pick];
        if (pick <= 1)
            snprintf(buf, sizeof(buf), "%s%u", leaf, (unsigned)(8 * rng_range(&g->rng, 1, 32)));
        else if (pick == 6)
            snprintf(buf, sizeof(buf), "bytes%u", (unsigned)rng_range(&g->rng, 1, 32));
        else
            snprintf(buf, sizeof(buf), "%s", leaf);
        append_text(sig, buf);
    } else if (pick == 7 || pick == 8) {
        random_type(g, depth - 1, sig);
        if (pick == 7)
            snprintf(buf, sizeof(buf), "[]");
        else
            snprintf(buf, sizeof(buf), "[%u]", (unsigned)rng_range(&g->rng, 1, 3));
        append_text(sig, buf);
    } else {
        uint64_t n = rng_range(&g->rng, 1, 3);
        append_text(sig, "(");
        for (uint64_t i = 0; i < n; i++) {
            if (i > 0)
                append_text(sig, ",");
            random_type(g, depth - 1, sig);
        }
        append_text(sig, ")");
    }
}

/* Appends the quoted, escaped form the decoder prints for nested strings. */
static void append_quoted_expected(struct bytes *b, const uint8_t *s, size_t n)
{
    char esc[8];
    append_text(b, "\"");
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\')
            snprintf(esc, sizeof(esc), "\\%c", s[i]);
        else if (s[i] == '\n')
            snprintf(esc, sizeof(esc), "\\n");
        else if (s[i] == '\t')
            snprintf(esc, sizeof(esc), "\\t");
        else if (s[i] < 0x20 || s[i] == 0x7f)
            snprintf(esc, sizeof(esc), "\\x%02x", s[i]);
        else
            snprintf(esc, sizeof(esc), "%c", s[i]);
        append_text(b, esc);
    }
    append_text(b, "\"");
}

/* Appends a random value of type t in canonical (decoder output) form. */
static void random_value(struct gen *g, const struct abi_type *t, bool nested, struct bytes *v)
{
    static const char charset[] = "abcXYZ019 ,[]()\"\\\n\t\x01\x7f";
    uint8_t raw[32], data[48];
    char text[U256_DEC_LEN + 2], addr[CLI_ADDRESS_STR_LEN];
    switch (t->kind) {
    case ABI_UINT:
    case ABI_INT: {
        rng_fill(&g->rng, raw, sizeof(raw));
        size_t keep = t->size / 8;
        if (rng_chance(&g->rng, 300000))
            keep = rng_below(&g->rng, keep + 1); /* small values too */
        memset(raw, 0, 32 - keep);
        u256 x = u256_from_be_bytes(raw, 32);
        if (t->kind == ABI_INT)
            x = u256_signextend(u256_from_u64(t->size / 8 - 1), x);
        if (t->kind == ABI_INT && u256_is_neg(x)) {
            text[0] = '-';
            u256_to_dec(u256_neg(x), text + 1);
        } else {
            u256_to_dec(x, text);
        }
        append_text(v, text);
        break;
    }
    case ABI_ADDRESS:
        rng_fill(&g->rng, raw, 20);
        cli_address_checksum(raw, addr);
        append_text(v, addr);
        break;
    case ABI_BOOL:
        append_text(v, rng_below(&g->rng, 2) ? "true" : "false");
        break;
    case ABI_FIXED_BYTES:
    case ABI_BYTES: {
        size_t n = t->kind == ABI_BYTES ? rng_below(&g->rng, sizeof(data) + 1) : t->size;
        char hex[2 * sizeof(data) + 3] = "0x";
        rng_fill(&g->rng, data, n);
        hex_encode(data, n, hex + 2);
        append_text(v, hex);
        break;
    }
    case ABI_STRING: {
        /* top-level strings avoid the control characters that force quotes;
         * index `plain` stands for the two-byte UTF-8 letter e-acute */
        const size_t plain = sizeof(charset) - 1, choices = nested ? plain + 1 : plain - 1;
        struct bytes str;
        bytes_init(&str);
        for (uint64_t i = rng_below(&g->rng, 40); i > 0; i--) {
            size_t k = rng_below(&g->rng, choices);
            if (k == plain || (!nested && k == plain - 2))
                append_text(&str, "\xc3\xa9");
            else
                assert_int_equal(bytes_push(&str, (uint8_t)charset[k]), TC_OK);
        }
        if (nested)
            append_quoted_expected(v, str.ptr, str.len);
        else
            assert_int_equal(bytes_append(v, str.ptr, str.len), TC_OK);
        bytes_free(&str);
        break;
    }
    case ABI_ARRAY:
    case ABI_FIXED_ARRAY: {
        size_t n = t->kind == ABI_ARRAY ? rng_below(&g->rng, 4) : t->size;
        append_text(v, "[");
        for (size_t i = 0; i < n; i++) {
            if (i > 0)
                append_text(v, ",");
            random_value(g, t->elem, true, v);
        }
        append_text(v, "]");
        break;
    }
    case ABI_TUPLE:
        append_text(v, "(");
        for (uint32_t i = 0; i < t->member_count; i++) {
            if (i > 0)
                append_text(v, ",");
            random_value(g, t->members[i], true, v);
        }
        append_text(v, ")");
        break;
    }
}

static void test_random_values_round_trip_for_every_type_family(void **state)
{
    (void)state;
    struct gen g;
    rng_seed(&g.rng, test_seed);
    for (int iter = 0; iter < 400; iter++) {
        struct bytes sig_text, expected, *args;
        struct abi_signature sig;
        char err[512], *text = NULL;
        bytes_init(&sig_text);
        append_text(&sig_text, "f(");
        uint64_t argc = rng_range(&g.rng, 1, 4);
        for (uint64_t i = 0; i < argc; i++) {
            if (i > 0)
                append_text(&sig_text, ",");
            random_type(&g, 3, &sig_text);
        }
        append_text(&sig_text, ")");
        assert_int_equal(bytes_push(&sig_text, 0), TC_OK);
        int rc = abi_signature_parse((const char *)sig_text.ptr, &sig, err, sizeof(err));
        if (rc != TC_OK)
            fail_msg("seed %llu iter %d: %s: %s", (unsigned long long)test_seed, iter,
                     (const char *)sig_text.ptr, err);
        args = calloc(argc, sizeof(*args));
        const char **argv = calloc(argc, sizeof(*argv));
        bytes_init(&expected);
        for (uint64_t i = 0; i < argc; i++) {
            bytes_init(&args[i]);
            random_value(&g, sig.inputs->members[i], false, &args[i]);
            if (i > 0)
                append_text(&expected, "\n");
            assert_int_equal(bytes_append(&expected, args[i].ptr, args[i].len), TC_OK);
            assert_int_equal(bytes_push(&args[i], 0), TC_OK);
            argv[i] = (const char *)args[i].ptr;
        }
        assert_int_equal(bytes_push(&expected, 0), TC_OK);
        struct bytes enc;
        bytes_init(&enc);
        rc = abi_encode_args(sig.inputs, (int)argc, argv, &enc, err, sizeof(err));
        if (rc != TC_OK)
            fail_msg("seed %llu iter %d: encode %s: %s", (unsigned long long)test_seed, iter,
                     sig.canonical, err);
        cJSON *json = NULL;
        rc = abi_decode(sig.inputs, enc.ptr, enc.len, &text, &json, err, sizeof(err));
        if (rc != TC_OK)
            fail_msg("seed %llu iter %d: decode %s: %s", (unsigned long long)test_seed, iter,
                     sig.canonical, err);
        if (strcmp(text, (const char *)expected.ptr) != 0)
            fail_msg("seed %llu iter %d: %s\nwant: %s\ngot:  %s", (unsigned long long)test_seed,
                     iter, sig.canonical, (const char *)expected.ptr, text);
        assert_int_equal(cJSON_GetArraySize(json), (int)argc);
        cJSON_Delete(json);
        free(text);
        bytes_free(&enc);
        for (uint64_t i = 0; i < argc; i++)
            bytes_free(&args[i]);
        free(args);
        free(argv);
        bytes_free(&expected);
        bytes_free(&sig_text);
        abi_signature_free(&sig);
    }
}

/* ---- malformed return data ------------------------------------------------ */

static int decode_hex_data(const char *sig_text, const char *const *pieces, size_t n, char *err,
                           size_t err_len)
{
    struct abi_signature sig;
    struct bytes data;
    char *text = NULL, *hex = hexcat(pieces, n);
    cJSON *json = NULL;
    assert_int_equal(abi_signature_parse(sig_text, &sig, err, err_len), TC_OK);
    bytes_init(&data);
    assert_int_equal(hex_decode_alloc(hex, true, &data), TC_OK);
    err[0] = '\0';
    int rc = abi_decode(sig.outputs, data.ptr, data.len, &text, &json, err, err_len);
    if (rc != TC_OK) {
        assert_null(text);
        assert_null(json);
    }
    free(text);
    cJSON_Delete(json);
    bytes_free(&data);
    abi_signature_free(&sig);
    free(hex);
    return rc;
}

static void expect_decode(const char *sig_text, const char *const *pieces, size_t n, int code,
                          const char *fragment)
{
    char err[256];
    int rc = decode_hex_data(sig_text, pieces, n, err, sizeof(err));
    if (rc != code)
        fail_msg("%s: expected %d, got %d (%s)", sig_text, code, rc, err);
    if (fragment != NULL && strstr(err, fragment) == NULL)
        fail_msg("%s: message '%s' lacks '%s'", sig_text, err, fragment);
}

static void test_decode_rejects_malformed_return_data(void **state)
{
    (void)state;
    const char *one[] = { "<1" };
    const char *two[] = { "<2" };
    const char *short_word[] = { "00" };
    expect_decode("f()(uint256)", one, 1, TC_OK, NULL);
    expect_decode("f()(uint256)", short_word, 1, TC_ETRUNCATED, "return value 1");
    expect_decode("f()(uint256,uint256)", one, 1, TC_ETRUNCATED, "return value 2");
    expect_decode("f()(bool)", two, 1, TC_ERANGE, "bool");
    const char *wide[] = { "<100" };
    expect_decode("f()(uint8)", wide, 1, TC_ERANGE, "uint");
    const char *not_ext[] = { "<80" };
    expect_decode("f()(int8)", not_ext, 1, TC_ERANGE, "sign-extended");
    const char *neg[] = { "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff80" };
    expect_decode("f()(int8)", neg, 1, TC_OK, NULL);
    const char *dirty_addr[] = { "<10000000000000000000000000000000000000000" };
    expect_decode("f()(address)", dirty_addr, 1, TC_ERANGE, "address");
    const char *dirty_bytes[] = { ">01020304" };
    expect_decode("f()(bytes2)", dirty_bytes, 1, TC_ERANGE, "padding");
    const char *far_offset[] = { "<40", "<0" };
    expect_decode("f()(bytes)", far_offset, 2, TC_ETRUNCATED, NULL);
    const char *huge_offset[] = { "<ffffffffffffffffffffffff" };
    expect_decode("f()(string)", huge_offset, 1, TC_ETRUNCATED, "past the end");
    const char *long_string[] = { "<20", "<21", ">41" };
    expect_decode("f()(string)", long_string, 3, TC_ETRUNCATED, "past the end");
    const char *long_array[] = { "<20", "<3", "<1", "<2" };
    expect_decode("f()(uint256[])", long_array, 4, TC_ETRUNCATED, "beyond the end");
    const char *huge_array[] = { "<20", "<ffffffffffffffff", "<1" };
    expect_decode("f()(uint256[])", huge_array, 3, TC_ETRUNCATED, NULL);
    const char *nested[] = { "<20", "<1", "<20", "<2", "<1", "<300" };
    expect_decode("f()(uint8[][])", nested, 6, TC_ERANGE, "return value 1[0][1]");
}

/* An outer array whose 65536 offsets all point at one inner array of 65536
 * words: 2^32 values from 4 MiB of data must hit the output bound. */
static void test_decode_bounds_output_of_repeated_offsets(void **state)
{
    (void)state;
    const size_t n = 65536;
    size_t len = 32 + 32 + n * 32 + 32 + n * 32;
    uint8_t *data = calloc(1, len);
    u256_to_be_bytes(u256_from_u64(32), data);
    u256_to_be_bytes(u256_from_u64(n), data + 32);
    size_t inner_rel = n * 32; /* from the start of the offsets */
    for (size_t i = 0; i < n; i++)
        u256_to_be_bytes(u256_from_u64(inner_rel), data + 64 + i * 32);
    u256_to_be_bytes(u256_from_u64(n), data + 64 + inner_rel);
    struct abi_signature sig;
    char err[256], *text = NULL;
    assert_int_equal(abi_signature_parse("f()(uint256[][])", &sig, err, sizeof(err)), TC_OK);
    assert_int_equal(abi_decode(sig.outputs, data, len, &text, NULL, err, sizeof(err)), TC_ETOOBIG);
    assert_null(text);
    abi_signature_free(&sig);
    free(data);
}

static void test_encoding_size_is_bounded(void **state)
{
    (void)state;
    /* 65536 elements of 32 bytes each twice over is 4 MiB + heads */
    size_t n = 65536;
    char *arg = malloc(n * 4 + 8);
    size_t pos = 0;
    arg[pos++] = '[';
    for (size_t i = 0; i < n; i++) {
        memcpy(arg + pos, "[1],", 4);
        pos += 4;
    }
    arg[pos - 1] = ']';
    arg[pos] = '\0';
    expect_arg("f(uint256[][])", arg, TC_ETOOBIG, "larger than");
    free(arg);
    char *many = malloc(2 * (n + 1) + 4);
    pos = 0;
    many[pos++] = '[';
    for (size_t i = 0; i <= n; i++) {
        many[pos++] = '1';
        many[pos++] = ',';
    }
    many[pos - 1] = ']';
    many[pos] = '\0';
    expect_arg("f(uint8[])", many, TC_ETOOBIG, "more than 65536 elements");
    free(many);
}

/* ---- revert data ---------------------------------------------------------- */

static char *reason_of(const char *const *pieces, size_t n)
{
    struct bytes data;
    char *hex = hexcat(pieces, n);
    bytes_init(&data);
    assert_int_equal(hex_decode_alloc(hex, true, &data), TC_OK);
    char *r = abi_revert_reason(data.ptr, data.len);
    bytes_free(&data);
    free(hex);
    return r;
}

static void test_revert_reasons_decode_error_and_panic(void **state)
{
    (void)state;
    /* the spec's example: revert InsufficientBalance... as Error(string) */
    const char *error[] = { "#08c379a0", "<20", "<1a",
                            ">4e6f7420656e6f7567682045746865722070726f76696465642e" };
    char *r = reason_of(error, 4);
    assert_string_equal(r, "Not enough Ether provided.");
    free(r);
    const char *panic[] = { "#4e487b71", "<11" };
    r = reason_of(panic, 2);
    assert_string_equal(r, "panic 0x11: arithmetic overflow or underflow");
    free(r);
    const char *panic_div[] = { "#4e487b71", "<12" };
    r = reason_of(panic_div, 2);
    assert_string_equal(r, "panic 0x12: division or modulo by zero");
    free(r);
    const char *panic_odd[] = { "#4e487b71", "<99" };
    r = reason_of(panic_odd, 2);
    assert_string_equal(r, "panic 0x99: unknown panic code");
    free(r);
    const char *custom[] = { "#cf479181", "<1" };
    r = reason_of(custom, 2);
    assert_string_equal(r, "custom error 0xcf479181: 0x"
                           "0000000000000000000000000000000000000000000000000000000000000001");
    free(r);
    const char *bare[] = { "#deadbeef" };
    r = reason_of(bare, 1);
    assert_string_equal(r, "custom error 0xdeadbeef");
    free(r);
    const char *broken[] = { "#08c379a0", "<20", "<ff" };
    r = reason_of(broken, 3);
    assert_string_equal(r, "0x08c379a0"
                           "0000000000000000000000000000000000000000000000000000000000000020"
                           "00000000000000000000000000000000000000000000000000000000000000ff");
    free(r);
    r = abi_revert_reason(NULL, 0);
    assert_string_equal(r, "");
    free(r);
    const uint8_t two[] = { 0xab, 0xcd };
    r = abi_revert_reason(two, 2);
    assert_string_equal(r, "0xabcd");
    free(r);
}

int main(void)
{
    const char *env = getenv("TC_SEED");
    test_seed = env != NULL ? strtoull(env, NULL, 0) : rng_fresh_seed();
    printf("test_abi: seed %llu (set TC_SEED to replay)\n", (unsigned long long)test_seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_example_baz_uint32_bool),
        cmocka_unit_test(test_spec_example_bar_bytes3_fixed_array),
        cmocka_unit_test(test_spec_example_sam_dynamic_arguments),
        cmocka_unit_test(test_spec_example_f_mixed_static_and_dynamic),
        cmocka_unit_test(test_spec_example_g_nested_dynamic_arrays),
        cmocka_unit_test(test_selectors_of_known_functions),
        cmocka_unit_test(test_signature_canonical_form_and_return_types),
        cmocka_unit_test(test_signature_errors_are_reported),
        cmocka_unit_test(test_integer_ranges_follow_width_and_sign),
        cmocka_unit_test(test_negative_int_is_twos_complement),
        cmocka_unit_test(test_bad_hex_and_wrong_sizes_are_rejected),
        cmocka_unit_test(test_addresses_check_eip55),
        cmocka_unit_test(test_argument_count_must_match),
        cmocka_unit_test(test_unterminated_and_unbalanced_brackets_are_rejected),
        cmocka_unit_test(test_errors_name_the_argument_and_element),
        cmocka_unit_test(test_strings_quote_inside_containers_and_not_at_top_level),
        cmocka_unit_test(test_decode_prints_each_type_family),
        cmocka_unit_test(test_random_values_round_trip_for_every_type_family),
        cmocka_unit_test(test_decode_rejects_malformed_return_data),
        cmocka_unit_test(test_decode_bounds_output_of_repeated_offsets),
        cmocka_unit_test(test_encoding_size_is_bounded),
        cmocka_unit_test(test_revert_reasons_decode_error_and_panic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
