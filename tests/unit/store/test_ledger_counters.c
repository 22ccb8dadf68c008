/*
 * test_ledger_counters.c - the records ledger_apply keeps beside each block
 * since schema version 2: the per-account count of non-zero storage slots
 * behind ledger_has_storage() and the state reader's has_storage hook
 * (EIP-7610), and the failed-transaction count; both across reopen, on plain
 * and sealed stores, and a version-1 database refused. Random blocks come
 * from TC_SEED (printed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/error.h"
#include "base/rng.h"
#include "store/ledger.h"
#include "store/store.h"

#include "test_ledger_fixture.h"

static uint64_t test_seed;

struct fixture {
    char dir[64];
    char db[96];
    struct store *s;
    struct ledger *l;
    struct genesis_config g;
    struct genesis_alloc alloc[LFX_ACCOUNTS];
    bool sealed;
    uint64_t raft_index;
};

static const uint8_t test_store_key[32] = { 0x43, 7, 7, 7 };

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    strcpy(f->dir, "/tmp/tc-ledgerc-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof(f->db), "%s/db", f->dir);
    lfx_genesis(&f->g, f->alloc);
    *state = f;
    return 0;
}

static int setup_sealed(void **state)
{
    setup(state);
    ((struct fixture *)*state)->sealed = true;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    ledger_close(f->l);
    store_close(f->s);
    nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void open_all(struct fixture *f)
{
    struct store_options o = { .path = f->db, .sealed = f->sealed };
    memcpy(o.master_key, test_store_key, 32);
    char err[512];
    assert_int_equal(store_open(&o, &f->s, err, sizeof(err)), TC_OK);
    int rc = ledger_open(f->s, &f->g, &f->l, err, sizeof(err));
    if (rc)
        print_error("ledger_open: %s\n", err);
    assert_int_equal(rc, TC_OK);
}

static void close_all(struct fixture *f)
{
    ledger_close(f->l);
    store_close(f->s);
    f->l = NULL;
    f->s = NULL;
}

static void storage_key(uint8_t key[52], size_t contract, uint8_t slot)
{
    lfx_contract_addr(contract, key);
    memset(key + 20, 0, 32);
    key[51] = slot;
}

/* A write-set entry of a test: set (value != 0) or delete a slot. */
struct slot_write {
    size_t contract;
    uint8_t slot;
    uint8_t value;
};

/*
 * Applies a block of n transactions (the fixture's random ones, but whose
 * receipts i with failed[i] have status 0) whose write-set has, on top of
 * the fixture's, the given slot writes of contract addresses beyond the
 * fixture's pool.
 */
static void apply(struct fixture *f, size_t n, const bool *failed, const struct slot_write *w,
                  size_t nw)
{
    struct ledger_head h;
    ledger_head(f->l, &h);
    struct lfx_block b;
    assert_int_equal(lfx_begin(&b, h.number + 1, n, test_seed), TC_OK);
    for (size_t i = 0; i < n && failed; i++)
        if (failed[i]) {
            b.receipts[i].status = false;
            receipt_compute_bloom(&b.receipts[i]);
        }
    for (size_t i = 0; i < nw; i++) {
        uint8_t key[52];
        storage_key(key, w[i].contract, w[i].slot);
        if (w[i].value)
            assert_int_equal(writeset_put(&b.ws, WRITESET_NS_STORAGE, key, 52, &w[i].value, 1),
                             TC_OK);
        else
            assert_int_equal(writeset_delete(&b.ws, WRITESET_NS_STORAGE, key, 52), TC_OK);
    }
    assert_int_equal(lfx_finish(&b, h.hash, h.state_root), TC_OK);
    assert_int_equal(ledger_apply(f->l, &b.entry, ++f->raft_index, 1), TC_OK);
    lfx_free(&b);
}

static bool has_storage(struct fixture *f, size_t contract)
{
    uint8_t addr[20];
    bool out = false, via_reader = true;
    lfx_contract_addr(contract, addr);
    assert_int_equal(ledger_has_storage(f->l, addr, &out), TC_OK);
    struct state_reader r = ledger_state_reader(f->l);
    assert_non_null(r.has_storage);
    assert_int_equal(r.has_storage(r.ctx, addr, &via_reader), TC_OK);
    assert_int_equal(out, via_reader);
    return out;
}

/* Contracts 0x10.. are outside the fixture's pool of LFX_CONTRACTS. */
enum { A = 0x10, B = 0x11, C = 0x12 };

static void test_has_storage_follows_set_and_deleted_slots(void **state)
{
    struct fixture *f = *state;
    open_all(f);
    assert_false(has_storage(f, A));
    const struct slot_write w1[] = { { A, 1, 5 }, { A, 2, 6 }, { B, 1, 1 }, { C, 9, 0 } };
    apply(f, 2, NULL, w1, 4);
    assert_true(has_storage(f, A));
    assert_true(has_storage(f, B));
    /* Deleting a slot that was never set counts nothing. */
    assert_false(has_storage(f, C));
    /* Overwriting a set slot does not count it twice; deleting one of two keeps one. */
    const struct slot_write w2[] = { { A, 1, 7 }, { A, 2, 0 }, { B, 1, 0 } };
    apply(f, 1, NULL, w2, 3);
    assert_true(has_storage(f, A));
    assert_false(has_storage(f, B));
    close_all(f);
    open_all(f);
    assert_true(has_storage(f, A));
    assert_false(has_storage(f, B));
    const struct slot_write w3[] = { { A, 1, 0 }, { C, 3, 1 } };
    apply(f, 1, NULL, w3, 2);
    assert_false(has_storage(f, A));
    assert_true(has_storage(f, C));
}

/* The fixture's own random storage writes, against a model of the slots. */
static void test_has_storage_matches_a_model_of_random_blocks(void **state)
{
    struct fixture *f = *state;
    open_all(f);
    struct lfx_model m;
    memset(&m, 0, sizeof(m));
    for (int i = 0; i < 30; i++) {
        struct ledger_head h;
        ledger_head(f->l, &h);
        struct lfx_block b;
        assert_int_equal(lfx_begin(&b, h.number + 1, 1 + (size_t)i % 7, test_seed), TC_OK);
        assert_int_equal(lfx_finish(&b, h.hash, h.state_root), TC_OK);
        assert_int_equal(ledger_apply(f->l, &b.entry, ++f->raft_index, 1), TC_OK);
        assert_int_equal(lfx_model_apply(&m, &b.ws), TC_OK);
        lfx_free(&b);
        if (i == 15) {
            close_all(f);
            open_all(f);
        }
        for (size_t c = 0; c < LFX_CONTRACTS; c++) {
            uint8_t addr[20];
            lfx_contract_addr(c, addr);
            bool want = false;
            for (size_t k = 0; k < m.count; k++)
                if (m.recs[k].ns == WRITESET_NS_STORAGE && m.recs[k].present &&
                    memcmp(m.recs[k].key, addr, 20) == 0)
                    want = true;
            if (has_storage(f, c) != want)
                print_error("block %d contract %zu: has_storage %d, model %d\n", i + 1, c, !want,
                            want);
            assert_int_equal(has_storage(f, c), want);
        }
    }
    assert_int_equal(lfx_model_mismatch(&m, f->l), 0);
    lfx_model_free(&m);
}

static void test_failed_transactions_are_counted_and_survive_reopen(void **state)
{
    struct fixture *f = *state;
    open_all(f);
    assert_int_equal(ledger_failed_tx_count(f->l), 0);
    const bool failed1[4] = { true, false, true, false };
    apply(f, 4, failed1, NULL, 0);
    apply(f, 3, NULL, NULL, 0);
    const bool failed3[2] = { false, true };
    apply(f, 2, failed3, NULL, 0);
    assert_int_equal(ledger_tx_count(f->l), 9);
    assert_int_equal(ledger_failed_tx_count(f->l), 3);
    close_all(f);
    open_all(f);
    assert_int_equal(ledger_tx_count(f->l), 9);
    assert_int_equal(ledger_failed_tx_count(f->l), 3);
    apply(f, 1, (const bool[]){ true }, NULL, 0);
    assert_int_equal(ledger_failed_tx_count(f->l), 4);
}

static void test_version_one_database_is_refused(void **state)
{
    struct fixture *f = *state;
    open_all(f);
    ledger_close(f->l);
    f->l = NULL;
    uint8_t version = 1;
    struct store_batch *b;
    assert_int_equal(store_batch_new(f->s, &b), TC_OK);
    assert_int_equal(store_batch_put(b, STORE_NS_META, "version", 7, &version, 1), TC_OK);
    assert_int_equal(store_write(f->s, b, true), TC_OK);
    store_batch_free(b);
    char err[512];
    assert_int_equal(ledger_open(f->s, &f->g, &f->l, err, sizeof(err)), TC_EUNSUPPORTED);
    assert_non_null(strstr(err, "schema version 1 is older"));
}

int main(void)
{
    const char *env = getenv("TC_SEED");
    test_seed = env ? strtoull(env, NULL, 0) : 20261124;
    printf("test_ledger_counters: seed %llu (set TC_SEED to replay)\n",
           (unsigned long long)test_seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_has_storage_follows_set_and_deleted_slots, setup,
                                        teardown),
        { "test_has_storage_follows_set_and_deleted_slots_sealed",
          test_has_storage_follows_set_and_deleted_slots, setup_sealed, teardown, NULL },
        cmocka_unit_test_setup_teardown(test_has_storage_matches_a_model_of_random_blocks, setup,
                                        teardown),
        { "test_has_storage_matches_a_model_of_random_blocks_sealed",
          test_has_storage_matches_a_model_of_random_blocks, setup_sealed, teardown, NULL },
        cmocka_unit_test_setup_teardown(test_failed_transactions_are_counted_and_survive_reopen,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_version_one_database_is_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
