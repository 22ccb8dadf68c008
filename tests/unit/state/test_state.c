/* test_state.c - the state cache: journal, per-transaction sets, write-set, layering, encoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/bytes.h"
#include "base/error.h"
#include "base/rng.h"
#include "chain/writeset.h"
#include "crypto/keccak.h"
#include "state/state.h"

static uint64_t test_seed;

static void addr_of(uint8_t addr[20], uint8_t n)
{
    memset(addr, 0, 20);
    addr[0] = 0xaa;
    addr[19] = n;
}

static u256 u(uint64_t x)
{
    return u256_from_u64(x);
}

/* A committed state: accounts 1 (balance 100, nonce 1, slot 1 = 7) and 2
   (balance 5, code 0x60 0x00), frozen in `base`. */
struct fixture {
    struct state *base;
    struct state *s;
};

static void fixture_init(struct fixture *f)
{
    struct state_reader empty, layered;
    uint8_t a1[20], a2[20];
    static const uint8_t code[] = { 0x60, 0x00 };
    addr_of(a1, 1);
    addr_of(a2, 2);
    state_reader_empty(&empty);
    assert_int_equal(state_new(&empty, &f->base), 0);
    state_tx_begin(f->base);
    state_set_balance(f->base, a1, u(100));
    state_set_nonce(f->base, a1, 1);
    state_set_storage(f->base, a1, u(1), u(7));
    state_set_balance(f->base, a2, u(5));
    state_set_code(f->base, a2, code, sizeof(code));
    state_tx_end(f->base, true);
    assert_int_equal(state_error(f->base), 0);
    state_as_reader(f->base, &layered);
    assert_int_equal(state_new(&layered, &f->s), 0);
    state_tx_begin(f->s);
}

static void fixture_free(struct fixture *f)
{
    state_free(f->s);
    state_free(f->base);
}

static void test_account_encoding_round_trips_and_is_strict(void **unused)
{
    (void)unused;
    struct state_account a = { .nonce = 300, .balance = u(1000000) }, b;
    memcpy(a.code_hash, STATE_EMPTY_CODE_HASH, 32);
    struct bytes out;
    bytes_init(&out);
    assert_int_equal(state_account_encode(&a, &out), 0);
    assert_int_equal(state_account_decode(bytes_as_view(&out), &b), 0);
    assert_int_equal(b.nonce, 300);
    assert_true(u256_eq(b.balance, a.balance));
    assert_memory_equal(b.code_hash, a.code_hash, 32);

    /* trailing byte */
    bytes_push(&out, 0x00);
    assert_int_equal(state_account_decode(bytes_as_view(&out), &b), TC_ETRAILING);
    /* nonce with a leading zero: [0x820001, 0x80, hash] */
    uint8_t bad[40] = { 0xe5, 0x82, 0x00, 0x01, 0x80, 0xa0 };
    assert_int_equal(state_account_decode(bytes_view_of(bad, 38), &b), TC_ENONCANONICAL);
    /* code hash of 31 bytes: [0x01, 0x80, 31 bytes] */
    uint8_t short_hash[35] = { 0xe2, 0x01, 0x80, 0x9f };
    assert_int_equal(state_account_decode(bytes_view_of(short_hash, 35), &b), TC_EINVAL);
    /* two items only: [0x01, 0x80] */
    uint8_t two[3] = { 0xc2, 0x01, 0x80 };
    assert_int_equal(state_account_decode(bytes_view_of(two, 3), &b), TC_EINVAL);
    /* four items */
    bytes_clear(&out);
    state_account_encode(&a, &out);
    out.ptr[0]++; /* the list grows by one byte: 0x80 */
    bytes_push(&out, 0x80);
    assert_int_equal(state_account_decode(bytes_as_view(&out), &b), TC_EINVAL);
    /* a string, not a list */
    uint8_t str[2] = { 0x81, 0x90 };
    assert_int_equal(state_account_decode(bytes_view_of(str, 2), &b), TC_EINVAL);
    bytes_free(&out);
}

static void test_layer_reads_committed_accounts_storage_and_code(void **unused)
{
    (void)unused;
    struct fixture f;
    fixture_init(&f);
    uint8_t a1[20], a2[20], a3[20];
    addr_of(a1, 1);
    addr_of(a2, 2);
    addr_of(a3, 3);
    assert_true(state_exists(f.s, a1));
    assert_false(state_exists(f.s, a3));
    assert_true(state_is_dead(f.s, a3));
    assert_true(u256_eq(state_balance(f.s, a1), u(100)));
    assert_int_equal(state_nonce(f.s, a1), 1);
    assert_true(u256_eq(state_storage(f.s, a1, u(1)), u(7)));
    assert_true(u256_is_zero(state_storage(f.s, a1, u(2))));
    assert_true(state_has_storage(f.s, a1));
    assert_false(state_has_storage(f.s, a2));
    const uint8_t *code;
    size_t len;
    state_code(f.s, a2, &code, &len);
    assert_int_equal(len, 2);
    assert_int_equal(code[0], 0x60);
    state_tx_end(f.s, true);
    assert_int_equal(state_error(f.s), 0);
    fixture_free(&f);
}

static void test_nested_snapshots_revert_every_kind_of_change(void **unused)
{
    (void)unused;
    struct fixture f;
    fixture_init(&f);
    struct state *s = f.s;
    uint8_t a1[20], a3[20];
    static const uint8_t code[] = { 0x00 };
    static const uint8_t topic[1][32] = { { 1 } };
    addr_of(a1, 1);
    addr_of(a3, 3);

    uint64_t outer = state_snapshot(s);
    state_set_balance(s, a1, u(90));
    state_set_storage(s, a1, u(1), u(8));
    uint64_t inner = state_snapshot(s);
    state_create_account(s, a3);
    state_set_nonce(s, a3, 1);
    state_set_code(s, a3, code, 1);
    state_set_storage(s, a3, u(5), u(6));
    state_set_transient(s, a1, u(9), u(10));
    assert_false(state_warm_account(s, a3));
    assert_false(state_warm_slot(s, a1, u(4)));
    state_add_log(s, a1, topic, 1, code, 1);
    state_set_storage(s, a1, u(1), u(9));
    state_selfdestruct(s, a3, a1);
    assert_true(state_is_created(s, a3));

    state_revert_to(s, inner);
    assert_false(state_exists(s, a3));
    assert_false(state_is_created(s, a3));
    assert_true(u256_is_zero(state_storage(s, a3, u(5))));
    assert_true(u256_is_zero(state_transient(s, a1, u(9))));
    assert_false(state_warm_account(s, a3));
    assert_false(state_warm_slot(s, a1, u(4)));
    const struct log *logs;
    size_t n;
    state_logs(s, &logs, &n);
    assert_int_equal(n, 0);
    /* the outer frame's changes are intact */
    assert_true(u256_eq(state_balance(s, a1), u(90)));
    assert_true(u256_eq(state_storage(s, a1, u(1)), u(8)));

    state_revert_to(s, outer);
    assert_true(u256_eq(state_balance(s, a1), u(100)));
    assert_true(u256_eq(state_storage(s, a1, u(1)), u(7)));
    state_tx_end(s, true);

    struct writeset ws;
    writeset_init(&ws);
    assert_int_equal(state_writeset(s, &ws), 0);
    assert_int_equal(writeset_count(&ws), 0);
    writeset_free(&ws);
    fixture_free(&f);
}

static void test_original_storage_is_the_value_at_transaction_start(void **unused)
{
    (void)unused;
    struct fixture f;
    fixture_init(&f);
    uint8_t a1[20];
    addr_of(a1, 1);
    state_set_storage(f.s, a1, u(1), u(20));
    state_set_storage(f.s, a1, u(1), u(21));
    assert_true(u256_eq(state_original_storage(f.s, a1, u(1)), u(7)));
    assert_true(u256_eq(state_storage(f.s, a1, u(1)), u(21)));
    state_tx_end(f.s, true);
    state_tx_begin(f.s);
    assert_true(u256_eq(state_original_storage(f.s, a1, u(1)), u(21)));
    state_set_storage(f.s, a1, u(1), u(0));
    assert_true(u256_eq(state_original_storage(f.s, a1, u(1)), u(21)));
    /* a create clears storage; the original stays the start value */
    state_create_account(f.s, a1);
    assert_true(u256_eq(state_original_storage(f.s, a1, u(1)), u(21)));
    state_tx_end(f.s, true);
    fixture_free(&f);
}

static void test_transient_storage_and_warm_sets_reset_per_transaction(void **unused)
{
    (void)unused;
    struct fixture f;
    fixture_init(&f);
    uint8_t a1[20];
    addr_of(a1, 1);
    state_set_transient(f.s, a1, u(1), u(2));
    assert_true(u256_eq(state_transient(f.s, a1, u(1)), u(2)));
    assert_false(state_warm_account(f.s, a1));
    assert_true(state_warm_account(f.s, a1));
    assert_false(state_warm_slot(f.s, a1, u(3)));
    assert_true(state_warm_slot(f.s, a1, u(3)));
    state_tx_end(f.s, true);
    state_tx_begin(f.s);
    assert_true(u256_is_zero(state_transient(f.s, a1, u(1))));
    assert_false(state_warm_account(f.s, a1));
    assert_false(state_warm_slot(f.s, a1, u(3)));
    state_tx_end(f.s, true);
    fixture_free(&f);
}

static void test_selfdestruct_deletes_only_accounts_created_in_the_transaction(void **unused)
{
    (void)unused;
    struct fixture f;
    fixture_init(&f);
    uint8_t a1[20], a2[20], a4[20];
    addr_of(a1, 1);
    addr_of(a2, 2);
    addr_of(a4, 4);
    /* a2 existed before: only its balance moves */
    state_selfdestruct(f.s, a2, a1);
    state_create_account(f.s, a4);
    state_set_balance(f.s, a4, u(3));
    state_set_nonce(f.s, a4, 1);
    state_set_storage(f.s, a4, u(1), u(1));
    state_selfdestruct(f.s, a4, a4);
    state_tx_end(f.s, true);
    assert_true(state_exists(f.s, a2));
    assert_true(u256_is_zero(state_balance(f.s, a2)));
    assert_true(u256_eq(state_balance(f.s, a1), u(105)));
    assert_false(state_exists(f.s, a4));
    assert_true(u256_is_zero(state_storage(f.s, a4, u(1))));
    struct writeset ws;
    writeset_init(&ws);
    assert_int_equal(state_writeset(f.s, &ws), 0);
    /* a1 and a2 changed; a4 never reached the committed state */
    assert_int_equal(writeset_count(&ws), 2);
    writeset_free(&ws);
    fixture_free(&f);
}

static void test_touched_empty_accounts_are_deleted_unless_eip161_is_off(void **unused)
{
    (void)unused;
    struct fixture f;
    fixture_init(&f);
    uint8_t a5[20], ripemd[20] = { [19] = 3 };
    addr_of(a5, 5);
    uint64_t mark = state_snapshot(f.s);
    state_touch(f.s, a5);
    state_touch(f.s, ripemd);
    state_set_balance(f.s, ripemd, u(0));
    state_revert_to(f.s, mark);
    /* ripemd exists in no state: a touch creates it, EIP-161 deletes it */
    state_touch(f.s, a5);
    state_tx_end(f.s, true);
    assert_false(state_exists(f.s, a5));
    assert_false(state_exists(f.s, ripemd));

    /* without EIP-161 the touched empty account stays */
    state_tx_begin(f.s);
    state_touch(f.s, a5);
    state_tx_end(f.s, false);
    assert_true(state_exists(f.s, a5));
    fixture_free(&f);
}

static void test_ripemd_touch_is_kept_across_revert(void **unused)
{
    (void)unused;
    struct fixture f;
    struct state_reader empty;
    uint8_t ripemd[20] = { [19] = 3 };
    fixture_init(&f);
    state_free(f.s);
    state_reader_empty(&empty);
    /* ripemd exists and is empty in committed state (as on mainnet) */
    struct state *base;
    assert_int_equal(state_new(&empty, &base), 0);
    state_tx_begin(base);
    state_touch(base, ripemd);
    state_tx_end(base, false);
    struct state_reader layered;
    state_as_reader(base, &layered);
    struct state *s;
    assert_int_equal(state_new(&layered, &s), 0);
    state_tx_begin(s);
    uint64_t mark = state_snapshot(s);
    state_touch(s, ripemd);
    state_revert_to(s, mark);
    state_tx_end(s, true);
    assert_false(state_exists(s, ripemd));
    state_free(s);
    state_free(base);
    state_free(f.base);
}

static void test_writeset_holds_only_real_changes_and_deletions(void **unused)
{
    (void)unused;
    struct fixture f;
    fixture_init(&f);
    uint8_t a1[20], a2[20], a6[20];
    addr_of(a1, 1);
    addr_of(a2, 2);
    addr_of(a6, 6);
    state_set_balance(f.s, a1, u(1));
    state_set_balance(f.s, a1, u(100));     /* back to committed */
    state_set_storage(f.s, a1, u(1), u(0)); /* a deletion */
    state_set_storage(f.s, a1, u(2), u(0)); /* zero to zero */
    state_set_storage(f.s, a1, u(3), u(0x1234));
    state_set_balance(f.s, a2, u(0));
    state_set_balance(f.s, a6, u(9));
    static const uint8_t code[] = { 0x5f, 0x00 };
    state_set_code(f.s, a6, code, 2);
    state_tx_end(f.s, true);
    state_tx_begin(f.s);
    state_sub_balance(f.s, a2, u(0));
    state_tx_end(f.s, true);

    struct writeset ws;
    writeset_init(&ws);
    assert_int_equal(state_writeset(f.s, &ws), 0);
    /* account a2 (balance 0, has code: not empty), account a6, storage
       (a1,1) deleted, storage (a1,3), code of a6 */
    assert_int_equal(writeset_count(&ws), 5);
    struct writeset_item it;
    writeset_get(&ws, 0, &it);
    assert_int_equal(it.ns, WRITESET_NS_ACCOUNT);
    assert_memory_equal(it.key.ptr, a2, 20);
    writeset_get(&ws, 1, &it);
    assert_memory_equal(it.key.ptr, a6, 20);
    struct state_account acct;
    assert_int_equal(state_account_decode(it.value, &acct), 0);
    assert_true(u256_eq(acct.balance, u(9)));
    writeset_get(&ws, 2, &it);
    assert_int_equal(it.ns, WRITESET_NS_STORAGE);
    assert_true(it.deleted);
    writeset_get(&ws, 3, &it);
    assert_int_equal(it.value.len, 2);
    assert_int_equal(it.value.ptr[0], 0x12);
    writeset_get(&ws, 4, &it);
    assert_int_equal(it.ns, WRITESET_NS_CODE);
    uint8_t hash[32];
    keccak256(code, 2, hash);
    assert_memory_equal(it.key.ptr, hash, 32);
    writeset_free(&ws);
    fixture_free(&f);
}

/* Applies the same final changes in a random order: the write-sets are equal. */
static void test_writeset_is_independent_of_write_order(void **unused)
{
    (void)unused;
    struct rng rng;
    rng_seed(&rng, test_seed);
    enum { N = 40 };
    uint8_t order[N];
    struct writeset ws[2];
    for (int run = 0; run < 2; run++) {
        struct fixture f;
        fixture_init(&f);
        for (int i = 0; i < N; i++)
            order[i] = (uint8_t)i;
        for (int i = N - 1; i > 0 && run == 1; i--) {
            int j = (int)(rng_next(&rng) % (uint64_t)(i + 1));
            uint8_t t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        for (int i = 0; i < N; i++) {
            uint8_t a[20];
            addr_of(a, (uint8_t)(10 + order[i] % 8));
            state_set_storage(f.s, a, u(order[i]), u(order[i] + 1u));
            state_add_balance(f.s, a, u(1));
        }
        state_tx_end(f.s, true);
        writeset_init(&ws[run]);
        assert_int_equal(state_writeset(f.s, &ws[run]), 0);
        fixture_free(&f);
    }
    assert_int_equal(writeset_count(&ws[0]), 8 + N);
    assert_true(writeset_equal(&ws[0], &ws[1]));
    writeset_free(&ws[0]);
    writeset_free(&ws[1]);
}

/* Block N+1 on top of block N: N+1 sees N's changes and diffs against them. */
static void test_speculative_layer_diffs_against_the_uncommitted_parent(void **unused)
{
    (void)unused;
    struct fixture f;
    fixture_init(&f);
    uint8_t a1[20], a7[20];
    addr_of(a1, 1);
    addr_of(a7, 7);
    /* block N */
    state_set_storage(f.s, a1, u(1), u(70));
    state_set_balance(f.s, a7, u(1));
    state_tx_end(f.s, true);
    struct state_reader rn;
    state_as_reader(f.s, &rn);
    struct state *next;
    assert_int_equal(state_new(&rn, &next), 0);
    state_tx_begin(next);
    assert_true(u256_eq(state_storage(next, a1, u(1)), u(70)));
    assert_true(u256_eq(state_original_storage(next, a1, u(1)), u(70)));
    assert_true(u256_eq(state_balance(next, a7), u(1)));
    state_set_storage(next, a1, u(1), u(70)); /* no change relative to N */
    state_set_balance(next, a7, u(2));
    state_tx_end(next, true);
    struct writeset ws;
    writeset_init(&ws);
    assert_int_equal(state_writeset(next, &ws), 0);
    assert_int_equal(writeset_count(&ws), 1);
    struct writeset_item it;
    writeset_get(&ws, 0, &it);
    assert_memory_equal(it.key.ptr, a7, 20);
    writeset_free(&ws);
    state_free(next);
    fixture_free(&f);
}

static int failing_account(void *ctx, const uint8_t addr[20], struct state_account *out,
                           bool *exists)
{
    (void)ctx;
    (void)addr;
    (void)out;
    (void)exists;
    return TC_EIO;
}

static void test_reader_failure_is_sticky_and_fails_the_writeset(void **unused)
{
    (void)unused;
    struct state_reader r;
    state_reader_empty(&r);
    r.account = failing_account;
    struct state *s;
    uint8_t a1[20];
    addr_of(a1, 1);
    assert_int_equal(state_new(&r, &s), 0);
    state_tx_begin(s);
    assert_true(u256_is_zero(state_balance(s, a1)));
    state_set_balance(s, a1, u(5));
    state_tx_end(s, true);
    assert_int_equal(state_error(s), TC_EIO);
    struct writeset ws;
    writeset_init(&ws);
    assert_int_equal(state_writeset(s, &ws), TC_EIO);
    writeset_free(&ws);
    state_free(s);
}

/* What the random journal test expects: 4 accounts x 4 slots. */
struct model {
    bool exists[4];
    uint64_t balance[4], nonce[4];
    uint64_t storage[4][4], transient[4][4];
    bool warm[4], warm_slot[4][4];
    size_t logs;
};

static void model_check(struct state *s, const struct model *m)
{
    for (uint8_t i = 0; i < 4; i++) {
        uint8_t a[20];
        addr_of(a, (uint8_t)(i + 1));
        assert_int_equal(state_exists(s, a), m->exists[i]);
        assert_true(u256_eq(state_balance(s, a), u(m->balance[i])));
        assert_int_equal(state_nonce(s, a), m->nonce[i]);
        for (uint64_t k = 0; k < 4; k++) {
            assert_true(u256_eq(state_storage(s, a, u(k)), u(m->storage[i][k])));
            assert_true(u256_eq(state_transient(s, a, u(k)), u(m->transient[i][k])));
        }
    }
    const struct log *logs;
    size_t n;
    state_logs(s, &logs, &n);
    assert_int_equal(n, m->logs);
}

/* Random changes under nested snapshots; every revert restores the model copy. */
static void test_random_changes_revert_to_every_snapshot(void **unused)
{
    (void)unused;
    enum { DEPTH = 16, STEPS = 4000 };
    struct rng rng;
    rng_seed(&rng, test_seed);
    struct fixture f;
    fixture_init(&f);
    struct model m, saved[DEPTH];
    uint64_t marks[DEPTH];
    size_t depth = 0;
    memset(&m, 0, sizeof(m));
    m.exists[0] = m.exists[1] = true;
    m.balance[0] = 100;
    m.nonce[0] = 1;
    m.storage[0][1] = 7;
    m.balance[1] = 5;
    for (int step = 0; step < STEPS; step++) {
        uint8_t i = (uint8_t)rng_below(&rng, 4), a[20];
        uint64_t k = rng_below(&rng, 4), v = rng_below(&rng, 3);
        addr_of(a, (uint8_t)(i + 1));
        switch (rng_below(&rng, 10)) {
        case 0:
            state_set_balance(f.s, a, u(v));
            m.balance[i] = v;
            m.exists[i] = true;
            break;
        case 1:
            state_set_nonce(f.s, a, v);
            m.nonce[i] = v;
            m.exists[i] = true;
            break;
        case 2:
            state_set_storage(f.s, a, u(k), u(v));
            m.storage[i][k] = v;
            m.exists[i] = true;
            break;
        case 3:
            state_set_transient(f.s, a, u(k), u(v));
            m.transient[i][k] = v;
            break;
        case 4:
            assert_int_equal(state_warm_account(f.s, a), m.warm[i]);
            m.warm[i] = true;
            break;
        case 5:
            assert_int_equal(state_warm_slot(f.s, a, u(k)), m.warm_slot[i][k]);
            m.warm_slot[i][k] = true;
            break;
        case 6:
            state_add_log(f.s, a, NULL, 0, NULL, 0);
            m.logs++;
            break;
        case 7:
            state_create_account(f.s, a);
            memset(m.storage[i], 0, sizeof(m.storage[i]));
            m.exists[i] = true;
            break;
        case 8:
            if (depth < DEPTH) {
                marks[depth] = state_snapshot(f.s);
                saved[depth++] = m;
            }
            break;
        default:
            if (depth > 0) {
                depth = (size_t)rng_below(&rng, depth);
                state_revert_to(f.s, marks[depth]);
                m = saved[depth];
            }
            break;
        }
        model_check(f.s, &m);
    }
    assert_int_equal(state_error(f.s), 0);
    fixture_free(&f);
}

int main(void)
{
    const char *env = getenv("TC_SEED");
    test_seed = env ? strtoull(env, NULL, 0) : 0x5eed5747eULL;
    printf("test_state seed: TC_SEED=0x%llx\n", (unsigned long long)test_seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_account_encoding_round_trips_and_is_strict),
        cmocka_unit_test(test_layer_reads_committed_accounts_storage_and_code),
        cmocka_unit_test(test_nested_snapshots_revert_every_kind_of_change),
        cmocka_unit_test(test_original_storage_is_the_value_at_transaction_start),
        cmocka_unit_test(test_transient_storage_and_warm_sets_reset_per_transaction),
        cmocka_unit_test(test_selfdestruct_deletes_only_accounts_created_in_the_transaction),
        cmocka_unit_test(test_touched_empty_accounts_are_deleted_unless_eip161_is_off),
        cmocka_unit_test(test_ripemd_touch_is_kept_across_revert),
        cmocka_unit_test(test_writeset_holds_only_real_changes_and_deletions),
        cmocka_unit_test(test_writeset_is_independent_of_write_order),
        cmocka_unit_test(test_speculative_layer_diffs_against_the_uncommitted_parent),
        cmocka_unit_test(test_reader_failure_is_sticky_and_fails_the_writeset),
        cmocka_unit_test(test_random_changes_revert_to_every_snapshot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
