/* test_rpc_params.c - the JSON-RPC parameter checks and result builders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/error.h"
#include "rpc/rpc.h"

static cJSON *str(const char *s)
{
    cJSON *v = cJSON_CreateString(s);
    assert_non_null(v);
    return v;
}

static void expect_u64(const char *s, uint64_t want)
{
    cJSON *v = str(s);
    char err[RPC_ERRMSG_LEN] = "";
    uint64_t got = 0;
    assert_int_equal(rpc_param_quantity_u64(v, &got, err), TC_OK);
    assert_true(got == want);
    cJSON_Delete(v);
}

static void expect_u64_error(cJSON *v, int code, const char *message)
{
    char err[RPC_ERRMSG_LEN] = "";
    uint64_t got = 12345;
    assert_int_equal(rpc_param_quantity_u64(v, &got, err), code);
    assert_string_equal(err, message);
    assert_true(got == 12345);
    cJSON_Delete(v);
}

static void test_quantity_accepts_compact_hex(void **state)
{
    expect_u64("0x0", 0);
    expect_u64("0x1", 1);
    expect_u64("0x1f", 31);
    expect_u64("0xFF", 255);
    expect_u64("0X10", 16);
    expect_u64("0xffffffffffffffff", UINT64_MAX);
}

static void test_quantity_rejects_non_compact_forms(void **state)
{
    expect_u64_error(str("0x"), TC_EINVAL, "hex string \"0x\"");
    expect_u64_error(str("0x00"), TC_EINVAL, "hex number with leading zero digits");
    expect_u64_error(str("0x01"), TC_EINVAL, "hex number with leading zero digits");
    expect_u64_error(str("1"), TC_EINVAL, "hex string without 0x prefix");
    expect_u64_error(str("ff"), TC_EINVAL, "hex string without 0x prefix");
    expect_u64_error(str("0xg"), TC_EINVAL, "invalid hex string");
    expect_u64_error(str("0x1 "), TC_EINVAL, "invalid hex string");
    expect_u64_error(str("-0x1"), TC_EINVAL, "hex string without 0x prefix");
    expect_u64_error(str(""), TC_EINVAL, "empty hex string");
    expect_u64_error(str("0x10000000000000000"), TC_ERANGE, "hex number > 64 bits");
    expect_u64_error(cJSON_CreateNumber(1), TC_EINVAL, "expected a hex string");
    expect_u64_error(cJSON_CreateNull(), TC_EINVAL, "expected a hex string");
}

static void test_quantity_u256_bounds_at_64_digits(void **state)
{
    char digits[2 + 65 + 1] = "0x";
    memset(digits + 2, 'f', 64);
    digits[66] = '\0';
    cJSON *v = str(digits);
    char err[RPC_ERRMSG_LEN];
    u256 got;
    assert_int_equal(rpc_param_quantity_u256(v, &got, err), TC_OK);
    assert_true(u256_eq(got, u256_max()));
    cJSON_Delete(v);
    digits[66] = 'f';
    digits[67] = '\0';
    v = str(digits);
    assert_int_equal(rpc_param_quantity_u256(v, &got, err), TC_ERANGE);
    assert_string_equal(err, "hex number > 256 bits");
    cJSON_Delete(v);
    /* 65 digits with a leading zero is a leading-zero error first. */
    digits[2] = '0';
    v = str(digits);
    assert_int_equal(rpc_param_quantity_u256(v, &got, err), TC_EINVAL);
    assert_string_equal(err, "hex number with leading zero digits");
    cJSON_Delete(v);
    v = str("0x1234");
    assert_int_equal(rpc_param_quantity_u256(v, &got, err), TC_OK);
    assert_true(u256_eq(got, u256_from_u64(0x1234)));
    cJSON_Delete(v);
}

static void test_data_requires_prefix_and_even_length(void **state)
{
    char err[RPC_ERRMSG_LEN];
    struct bytes b;
    cJSON *v = str("0x0102ff");
    assert_int_equal(rpc_param_data(v, 16, &b, err), TC_OK);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.ptr, "\x01\x02\xff", 3);
    bytes_free(&b);
    cJSON_Delete(v);
    v = str("0x");
    assert_int_equal(rpc_param_data(v, 16, &b, err), TC_OK);
    assert_int_equal(b.len, 0);
    bytes_free(&b);
    cJSON_Delete(v);
    static const struct {
        const char *in;
        int code;
        const char *message;
    } bad[] = {
        { "0x123", TC_EINVAL, "hex string of odd length" },
        { "0102", TC_EINVAL, "hex string without 0x prefix" },
        { "0xzz", TC_EINVAL, "invalid hex string" },
        { "", TC_EINVAL, "empty hex string" },
        { "0x000000000000000000000000000000000000", TC_ETOOBIG, "hex data longer than 16 bytes" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = str(bad[i].in);
        assert_int_equal(rpc_param_data(v, 16, &b, err), bad[i].code);
        assert_string_equal(err, bad[i].message);
        cJSON_Delete(v);
    }
}

static void test_fixed_data_requires_exact_length(void **state)
{
    char err[RPC_ERRMSG_LEN];
    uint8_t addr[20];
    cJSON *v = str("0x00000000000000000000000000000000000000aA");
    assert_int_equal(rpc_param_fixed(v, addr, 20, err), TC_OK);
    assert_int_equal(addr[19], 0xaa);
    cJSON_Delete(v);
    v = str("0x00000000000000000000000000000000000000");
    assert_int_equal(rpc_param_fixed(v, addr, 20, err), TC_EINVAL);
    assert_string_equal(err, "hex string has length 38, want 40");
    cJSON_Delete(v);
    v = str("00000000000000000000000000000000000000aa");
    assert_int_equal(rpc_param_fixed(v, addr, 20, err), TC_EINVAL);
    assert_string_equal(err, "hex string without 0x prefix");
    cJSON_Delete(v);
}

static void test_bool_requires_json_boolean(void **state)
{
    char err[RPC_ERRMSG_LEN];
    bool b = false;
    cJSON *v = cJSON_CreateTrue();
    assert_int_equal(rpc_param_bool(v, &b, err), TC_OK);
    assert_true(b);
    cJSON_Delete(v);
    v = str("true");
    assert_int_equal(rpc_param_bool(v, &b, err), TC_EINVAL);
    assert_string_equal(err, "expected a boolean");
    cJSON_Delete(v);
}

static int block_of(const char *json, bool allow_object, struct rpc_block_ref *out, char *err)
{
    cJSON *v = cJSON_Parse(json);
    assert_non_null(v);
    int rc = rpc_param_block(v, allow_object, out, err);
    cJSON_Delete(v);
    return rc;
}

static void test_block_tags_numbers_and_eip1898_objects(void **state)
{
    char err[RPC_ERRMSG_LEN];
    struct rpc_block_ref ref;
    static const struct {
        const char *json;
        enum rpc_block_kind kind;
    } tags[] = {
        { "\"latest\"", RPC_BLOCK_LATEST },       { "\"earliest\"", RPC_BLOCK_EARLIEST },
        { "\"pending\"", RPC_BLOCK_PENDING },     { "\"safe\"", RPC_BLOCK_SAFE },
        { "\"finalized\"", RPC_BLOCK_FINALIZED },
    };
    for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
        assert_int_equal(block_of(tags[i].json, false, &ref, err), TC_OK);
        assert_int_equal(ref.kind, tags[i].kind);
    }
    assert_int_equal(rpc_param_block(NULL, false, &ref, err), TC_OK);
    assert_int_equal(ref.kind, RPC_BLOCK_LATEST);
    assert_int_equal(block_of("\"0x1b4\"", false, &ref, err), TC_OK);
    assert_int_equal(ref.kind, RPC_BLOCK_NUMBER);
    assert_int_equal(ref.number, 0x1b4);
    assert_int_equal(block_of("{\"blockNumber\":\"0x10\"}", true, &ref, err), TC_OK);
    assert_int_equal(ref.kind, RPC_BLOCK_NUMBER);
    assert_int_equal(ref.number, 16);
    assert_int_equal(block_of("{\"blockHash\":\"0x000000000000000000000000000000000000000000000"
                              "0000000000000000001\",\"requireCanonical\":true}",
                              true, &ref, err),
                     TC_OK);
    assert_int_equal(ref.kind, RPC_BLOCK_HASH);
    assert_int_equal(ref.hash[31], 1);
    assert_true(ref.require_canonical);
}

static void test_block_rejects_bad_forms(void **state)
{
    char err[RPC_ERRMSG_LEN];
    struct rpc_block_ref ref;
    assert_int_equal(block_of("\"Latest\"", false, &ref, err), TC_EINVAL);
    assert_string_equal(err, "hex string without 0x prefix");
    assert_int_equal(block_of("\"0x01\"", false, &ref, err), TC_EINVAL);
    assert_string_equal(err, "hex number with leading zero digits");
    assert_int_equal(block_of("\"0x8000000000000000\"", false, &ref, err), TC_ERANGE);
    assert_string_equal(err, "block number larger than int64");
    assert_int_equal(block_of("12", false, &ref, err), TC_EINVAL);
    assert_string_equal(err, "expected a hex string");
    assert_int_equal(block_of("{\"blockNumber\":\"0x1\"}", false, &ref, err), TC_EINVAL);
    assert_string_equal(err, "expected a block number or tag");
    assert_int_equal(block_of("{}", true, &ref, err), TC_EINVAL);
    assert_string_equal(err, "expected blockNumber or blockHash");
    assert_int_equal(block_of("{\"blockNumber\":\"0x1\",\"blockHash\":\"0x00\"}", true, &ref, err),
                     TC_EINVAL);
    assert_string_equal(err,
                        "cannot specify both BlockHash and BlockNumber, choose one or the other");
    assert_int_equal(block_of("{\"blockHash\":\"0x00\"}", true, &ref, err), TC_EINVAL);
    assert_string_equal(err, "hex string has length 2, want 64");
}

static void test_params_count_and_position(void **state)
{
    char err[RPC_ERRMSG_LEN];
    assert_int_equal(rpc_params_check(NULL, 0, 2, err), TC_OK);
    assert_int_equal(rpc_params_check(NULL, 1, 2, err), TC_EINVAL);
    assert_string_equal(err, "missing value for required argument 0");
    cJSON *p = cJSON_Parse("[1,2,3]");
    assert_int_equal(rpc_params_check(p, 1, 3, err), TC_OK);
    assert_int_equal(rpc_params_check(p, 1, 2, err), TC_EINVAL);
    assert_string_equal(err, "too many arguments, want at most 2");
    assert_int_equal(rpc_param_at(p, 2)->valueint, 3);
    assert_null(rpc_param_at(p, 3));
    cJSON_Delete(p);
    p = cJSON_Parse("{\"a\":1}");
    assert_int_equal(rpc_params_check(p, 0, 2, err), TC_EINVAL);
    assert_string_equal(err, "expected an array of parameters");
    assert_null(rpc_param_at(p, 0));
    cJSON_Delete(p);
}

static void expect_json_string(cJSON *v, const char *want)
{
    assert_true(cJSON_IsString(v));
    assert_string_equal(v->valuestring, want);
    cJSON_Delete(v);
}

static void test_result_builders_are_compact(void **state)
{
    expect_json_string(rpc_quantity_u64(0), "0x0");
    expect_json_string(rpc_quantity_u64(0x1f), "0x1f");
    expect_json_string(rpc_quantity_u64(UINT64_MAX), "0xffffffffffffffff");
    expect_json_string(rpc_quantity_u256(u256_zero()), "0x0");
    u256 big = { { 0, 0, 0, 1 } };
    expect_json_string(rpc_quantity_u256(big),
                       "0x1000000000000000000000000000000000000000000000000");
    expect_json_string(rpc_data(NULL, 0), "0x");
    expect_json_string(rpc_data((const uint8_t *)"\x00\xab", 2), "0x00ab");
    cJSON *n = rpc_null();
    assert_true(cJSON_IsNull(n));
    cJSON_Delete(n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantity_accepts_compact_hex),
        cmocka_unit_test(test_quantity_rejects_non_compact_forms),
        cmocka_unit_test(test_quantity_u256_bounds_at_64_digits),
        cmocka_unit_test(test_data_requires_prefix_and_even_length),
        cmocka_unit_test(test_fixed_data_requires_exact_length),
        cmocka_unit_test(test_bool_requires_json_boolean),
        cmocka_unit_test(test_block_tags_numbers_and_eip1898_objects),
        cmocka_unit_test(test_block_rejects_bad_forms),
        cmocka_unit_test(test_params_count_and_position),
        cmocka_unit_test(test_result_builders_are_compact),
    };
    return cmocka_run_group_tests_name("rpc_params", tests, NULL, NULL);
}
