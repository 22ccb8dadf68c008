/* test_cli_util.c - EIP-55 addresses, amounts with units, key files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/bytes.h"
#include "base/error.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "crypto/ecdsa.h"

/* The test vectors of EIP-55 itself. */
static const char *const eip55_vectors[] = {
    "0x52908400098527886E0F7030069857D2E4169EE7", "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
    "0xde709f2102306220921060314715629080e2fb77", "0x27b1fdb04752bbc536007a920d24acb045561c26",
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
};

static void test_checksum_matches_eip55_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(eip55_vectors) / sizeof(eip55_vectors[0]); i++) {
        uint8_t address[20];
        char out[CLI_ADDRESS_STR_LEN];
        assert_int_equal(hex_decode_exact(eip55_vectors[i], address, 20), TC_OK);
        cli_address_checksum(address, out);
        assert_string_equal(out, eip55_vectors[i]);
        /* The checksummed form parses back to the same bytes. */
        uint8_t back[20];
        assert_int_equal(cli_parse_address(eip55_vectors[i], back), TC_OK);
        assert_memory_equal(back, address, 20);
    }
}

static void test_parse_address_accepts_single_case_without_checksum(void **state)
{
    (void)state;
    uint8_t a[20], b[20];
    assert_int_equal(cli_parse_address("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", a), TC_OK);
    assert_int_equal(cli_parse_address("5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED", b), TC_OK);
    assert_memory_equal(a, b, 20);
}

static void test_parse_address_rejects_bad_checksum(void **state)
{
    (void)state;
    uint8_t a[20];
    /* One letter of a valid checksummed address flipped to the other case. */
    assert_int_equal(cli_parse_address("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", a),
                     TC_ECRYPTO);
    assert_int_equal(cli_parse_address("0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", a),
                     TC_ECRYPTO);
}

static void test_parse_address_rejects_bad_length_and_digits(void **state)
{
    (void)state;
    uint8_t a[20];
    assert_int_equal(cli_parse_address("0x5aaeb6053f3e94c9b9a09f33669435e7ef1bea", a), TC_EINVAL);
    assert_int_equal(cli_parse_address("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed00", a),
                     TC_EINVAL);
    assert_int_equal(cli_parse_address("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg", a), TC_EINVAL);
    assert_int_equal(cli_parse_address("", a), TC_EINVAL);
}

static void expect_wei(const char *text, const char *decimal)
{
    u256 v;
    char dec[U256_DEC_LEN];
    assert_int_equal(cli_parse_value(text, &v), TC_OK);
    u256_to_dec(v, dec);
    assert_string_equal(dec, decimal);
}

static void test_value_units_scale_to_wei(void **state)
{
    (void)state;
    expect_wei("0", "0");
    expect_wei("1000", "1000");
    expect_wei("7wei", "7");
    expect_wei("3kwei", "3000");
    expect_wei("2mwei", "2000000");
    expect_wei("5gwei", "5000000000");
    expect_wei("1szabo", "1000000000000");
    expect_wei("1finney", "1000000000000000");
    expect_wei("1ether", "1000000000000000000");
    expect_wei("1.5ether", "1500000000000000000");
    expect_wei("0.000000000000000001ether", "1");
    expect_wei("2.25gwei", "2250000000");
    expect_wei("1ETHER", "1000000000000000000");
    expect_wei("0x10", "16");
}

static void test_value_rejects_malformed_amounts(void **state)
{
    (void)state;
    u256 v;
    assert_int_equal(cli_parse_value("", &v), TC_EINVAL);
    assert_int_equal(cli_parse_value("ether", &v), TC_EINVAL);
    assert_int_equal(cli_parse_value("1 ether", &v), TC_EINVAL);
    assert_int_equal(cli_parse_value("1btc", &v), TC_EINVAL);
    assert_int_equal(cli_parse_value("-1", &v), TC_EINVAL);
    assert_int_equal(cli_parse_value("1.", &v), TC_EINVAL);
    assert_int_equal(cli_parse_value("1.5", &v), TC_EINVAL); /* wei has no fraction */
    assert_int_equal(cli_parse_value("1.2345678901gwei", &v), TC_EINVAL);
}

static void test_value_overflow_is_rejected(void **state)
{
    (void)state;
    u256 v;
    /* 2^256 - 1 fits; one more does not. */
    expect_wei("115792089237316195423570985008687907853269984665640564039457584007913129639935",
               "115792089237316195423570985008687907853269984665640564039457584007913129639935");
    assert_int_equal(
        cli_parse_value(
            "115792089237316195423570985008687907853269984665640564039457584007913129639936", &v),
        TC_ERANGE);
    /* Fits as a number, overflows once scaled by the unit. */
    assert_int_equal(
        cli_parse_value(
            "115792089237316195423570985008687907853269984665640564039457584007913ether", &v),
        TC_ERANGE);
}

static void test_parse_u64_bounds(void **state)
{
    (void)state;
    uint64_t v = 0;
    assert_int_equal(cli_parse_u64("18446744073709551615", &v), TC_OK);
    assert_true(v == UINT64_MAX);
    assert_int_equal(cli_parse_u64("18446744073709551616", &v), TC_ERANGE);
    assert_int_equal(cli_parse_u64("0x2a", &v), TC_OK);
    assert_int_equal(v, 42);
    assert_int_equal(cli_parse_u64("4x", &v), TC_EINVAL);
}

static void test_format_ether_drops_trailing_zeros(void **state)
{
    (void)state;
    char out[CLI_ETHER_STR_LEN];
    u256 v;
    assert_int_equal(cli_parse_value("1.5ether", &v), TC_OK);
    cli_format_ether(v, out);
    assert_string_equal(out, "1.5");
    cli_format_ether(u256_from_u64(1), out);
    assert_string_equal(out, "0.000000000000000001");
    cli_format_ether(u256_zero(), out);
    assert_string_equal(out, "0");
}

static char tmpdir[64];

static int make_tmpdir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/tc_cli_util_XXXXXX");
    return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int remove_tmpdir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_key_file_is_0600_and_round_trips(void **state)
{
    (void)state;
    uint8_t key[32], back[32];
    char path[128], err[256];
    struct stat st;
    for (size_t i = 0; i < 32; i++)
        key[i] = (uint8_t)(i + 1);
    snprintf(path, sizeof(path), "%s/k1.key", tmpdir);
    assert_int_equal(cli_write_key_file(path, key, err, sizeof(err)), TC_OK);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(cli_read_key_file(path, back, err, sizeof(err)), TC_OK);
    assert_memory_equal(key, back, 32);
    /* Never overwrites an existing file. */
    assert_int_equal(cli_write_key_file(path, key, err, sizeof(err)), TC_EEXIST);
}

static void test_key_file_reader_rejects_garbage(void **state)
{
    (void)state;
    uint8_t back[32];
    char path[128], err[256];
    snprintf(path, sizeof(path), "%s/bad.key", tmpdir);
    assert_int_equal(cli_write_private_file(path, "0x1234\n", 7, err, sizeof(err)), TC_OK);
    assert_int_equal(cli_read_key_file(path, back, err, sizeof(err)), TC_EINVAL);
    /* Zero is not a valid secp256k1 key. */
    snprintf(path, sizeof(path), "%s/zero.key", tmpdir);
    const char *zero = "0000000000000000000000000000000000000000000000000000000000000000\n";
    assert_int_equal(cli_write_private_file(path, zero, strlen(zero), err, sizeof(err)), TC_OK);
    assert_int_equal(cli_read_key_file(path, back, err, sizeof(err)), TC_EINVAL);
    snprintf(path, sizeof(path), "%s/missing.key", tmpdir);
    assert_int_equal(cli_read_key_file(path, back, err, sizeof(err)), TC_EIO);
}

static void test_new_account_file_is_named_by_its_address(void **state)
{
    (void)state;
    uint8_t address[20], key[32], derived[20];
    char name[CLI_ADDRESS_STR_LEN], path[128], err[256];
    assert_int_equal(cli_new_account(tmpdir, address, err, sizeof(err)), TC_OK);
    cli_address_checksum(address, name);
    snprintf(path, sizeof(path), "%s/%s.key", tmpdir, name);
    assert_int_equal(cli_read_key_file(path, key, err, sizeof(err)), TC_OK);
    assert_int_equal(ecdsa_address_from_seckey(key, derived), TC_OK);
    assert_memory_equal(derived, address, 20);
}

static size_t count_key_files(const char *dir)
{
    size_t n = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
        size_t len = strlen(e->d_name);
        if (len == 46 && strcmp(e->d_name + 42, ".key") == 0)
            n++;
    }
    closedir(d);
    return n;
}

static void test_account_new_command_writes_one_key_file(void **state)
{
    (void)state;
    size_t before = count_key_files(tmpdir);
    char *argv[] = { "teechain", "account", "new", "--out", tmpdir, NULL };
    assert_int_equal(cli_main(5, argv), 0);
    assert_int_equal(count_key_files(tmpdir), before + 1);
    char *no_action[] = { "teechain", "account", "--out", tmpdir, NULL };
    assert_int_equal(cli_main(4, no_action), 2);
    char *bad_action[] = { "teechain", "account", "delete", NULL };
    assert_int_equal(cli_main(3, bad_action), 2);
    assert_int_equal(count_key_files(tmpdir), before + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checksum_matches_eip55_vectors),
        cmocka_unit_test(test_parse_address_accepts_single_case_without_checksum),
        cmocka_unit_test(test_parse_address_rejects_bad_checksum),
        cmocka_unit_test(test_parse_address_rejects_bad_length_and_digits),
        cmocka_unit_test(test_value_units_scale_to_wei),
        cmocka_unit_test(test_value_rejects_malformed_amounts),
        cmocka_unit_test(test_value_overflow_is_rejected),
        cmocka_unit_test(test_parse_u64_bounds),
        cmocka_unit_test(test_format_ether_drops_trailing_zeros),
        cmocka_unit_test(test_key_file_is_0600_and_round_trips),
        cmocka_unit_test(test_key_file_reader_rejects_garbage),
        cmocka_unit_test(test_new_account_file_is_named_by_its_address),
        cmocka_unit_test(test_account_new_command_writes_one_key_file),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
