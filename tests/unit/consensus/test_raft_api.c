/* test_raft_api.c - argument and input checking of the Raft core's public functions. */
#include "raft_fixture.h"

static struct raft_boot boot_of(struct raft_membership *m)
{
    struct raft_boot b;
    memset(&b, 0, sizeof(b));
    b.snapshot.membership = *m;
    return b;
}

static void test_create_rejects_bad_config(void **state)
{
    (void)state;
    struct raft_membership m = fx_voters(3);
    struct raft_boot b = boot_of(&m);
    struct raft_config c = fx_default_config();
    struct raft *r = NULL;
    c.id = 0;
    assert_int_equal(raft_create(&c, &b, &r), TC_EINVAL);
    c = fx_default_config();
    c.id = 1;
    c.heartbeat_ticks = 0;
    assert_int_equal(raft_create(&c, &b, &r), TC_EINVAL);
    c.heartbeat_ticks = 6;
    c.election_ticks = 10;
    assert_int_equal(raft_create(&c, &b, &r), TC_EINVAL);
    c = fx_default_config();
    c.id = 1;
    c.max_msg_entries = RAFT_MSG_MAX_ENTRIES + 1;
    assert_int_equal(raft_create(&c, &b, &r), TC_EINVAL);
    assert_null(r);
}

static void test_create_rejects_inconsistent_boot_state(void **state)
{
    (void)state;
    struct raft_membership m = fx_voters(3);
    struct raft_config c = fx_default_config();
    c.id = 1;
    struct raft *r = NULL;
    struct raft_boot b = boot_of(&m);
    b.hard_state.vote = 2; /* a vote in term 0 */
    assert_int_equal(raft_create(&c, &b, &r), TC_EINVAL);

    struct raft_entry e[2] = { { 1, 1, RAFT_ENTRY_NOOP, NULL, 0 },
                               { 1, 3, RAFT_ENTRY_BLOCK, NULL, 0 } };
    b = boot_of(&m);
    b.hard_state.term = 1;
    b.entries = e;
    b.entry_count = 2;
    assert_int_equal(raft_create(&c, &b, &r), TC_EINVAL); /* index gap */
    e[1].index = 2;
    e[1].term = 2;
    assert_int_equal(raft_create(&c, &b, &r), TC_EINVAL); /* entry term above hard state */
    e[1].term = 1;
    b.applied_index = 3;
    assert_int_equal(raft_create(&c, &b, &r), TC_EINVAL); /* applied beyond the log */
    b.applied_index = 2;
    m.members[1].id = m.members[0].id;
    b.snapshot.membership = m;
    assert_int_equal(raft_create(&c, &b, &r), TC_EINVAL); /* duplicate member */
    b.snapshot.membership = fx_voters(3);
    assert_int_equal(raft_create(&c, &b, &r), TC_OK);
    assert_int_equal(raft_last_index(r), 2);
    assert_int_equal(raft_commit_index(r), 2);
    assert_int_equal(raft_applied_index(r), 2);
    assert_int_equal(raft_persisted_index(r), 2);
    raft_destroy(r);
}

static void test_receive_rejects_malformed_messages(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 3);
    fx_elect(&f, 1);
    struct raft *r = fx_raft(&f, 2);
    uint64_t last = raft_last_index(r);
    struct raft_update u;
    struct raft_message m;
    memset(&m, 0, sizeof(m));
    m.type = RAFT_MSG_HEARTBEAT;
    m.from = 1;
    m.to = 3; /* not this node */
    m.term = raft_term(r);
    assert_int_equal(raft_receive(r, &m, &u), TC_EINVAL);
    m.to = 2;
    m.from = 2; /* from itself */
    assert_int_equal(raft_receive(r, &m, &u), TC_EINVAL);
    m.from = 1;
    m.type = 0;
    assert_int_equal(raft_receive(r, &m, &u), TC_EINVAL);
    struct raft_entry e[2] = { { 1, last + 1, RAFT_ENTRY_BLOCK, (const uint8_t *)"a", 1 },
                               { 1, last + 3, RAFT_ENTRY_BLOCK, (const uint8_t *)"b", 1 } };
    m.type = RAFT_MSG_APPEND;
    m.index = last;
    m.log_term = raft_last_term(r);
    m.entries = e;
    m.entry_count = 2;
    assert_int_equal(raft_receive(r, &m, &u), TC_EINVAL); /* numbering gap */
    e[1].index = last + 2;
    e[1].term = m.term + 1;
    assert_int_equal(raft_receive(r, &m, &u), TC_EINVAL); /* entry from the future */
    e[1].term = 1;
    e[1].type = RAFT_ENTRY_CONFIG; /* data is no membership */
    assert_int_equal(raft_receive(r, &m, &u), TC_EINVAL);
    assert_int_equal(raft_last_index(r), last);
    e[1].type = RAFT_ENTRY_BLOCK;
    assert_int_equal(raft_receive(r, &m, &u), TC_OK);
    assert_int_equal(raft_last_index(r), last + 2);
    fx_free(&f);
}

static void test_persisted_rejects_unknown_sequence(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 1);
    struct raft_update u;
    assert_int_equal(raft_persisted(fx_raft(&f, 1), 1, &u), TC_EINVAL);
    assert_int_equal(raft_persisted(fx_raft(&f, 1), 0, &u), TC_OK);
    fx_free(&f);
}

static void test_propose_checks(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 3);
    struct raft_update u;
    struct bytes_view v = bytes_view_of("x", 1);
    assert_int_equal(raft_propose(fx_raft(&f, 1), &v, 1, NULL, &u), TC_ESTATE);
    fx_elect(&f, 1);
    assert_int_equal(raft_propose(fx_raft(&f, 1), &v, 0, NULL, &u), TC_EINVAL);
    struct bytes_view big = { (const uint8_t *)"x", (size_t)RAFT_ENTRY_MAX_BYTES + 1 };
    assert_int_equal(raft_propose(fx_raft(&f, 1), &big, 1, NULL, &u), TC_ETOOBIG);
    assert_int_equal(u.persist_seq, 0);
    assert_int_equal(u.message_count, 0);
    fx_free(&f);
}

static void test_duplicate_and_stale_messages_change_nothing(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 3);
    fx_elect(&f, 1);
    uint64_t idx = fx_propose(&f, 1, "once");
    /* Deliver every message twice. */
    while (f.qlen) {
        fx_deliver_at(&f, 0, true);
        fx_deliver_one(&f);
    }
    for (uint64_t id = 1; id <= 3; id++) {
        assert_int_equal(raft_last_index(fx_raft(&f, id)), idx);
        assert_int_equal(raft_term(fx_raft(&f, id)), 1);
    }
    assert_int_equal(raft_commit_index(fx_raft(&f, 1)), idx);
    /* A message from term 0 is answered with the current term, nothing else. */
    struct raft_message m;
    memset(&m, 0, sizeof(m));
    m.type = RAFT_MSG_APPEND;
    m.from = 3;
    m.to = 2;
    m.term = 0;
    struct raft_update u;
    assert_int_equal(raft_receive(fx_raft(&f, 2), &m, &u), TC_OK);
    assert_int_equal(u.message_count, 1);
    assert_int_equal(u.messages[0].type, RAFT_MSG_APPEND_RESP);
    assert_int_equal(u.messages[0].term, 1);
    assert_int_equal(raft_last_index(fx_raft(&f, 2)), idx);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_rejects_bad_config),
        cmocka_unit_test(test_create_rejects_inconsistent_boot_state),
        cmocka_unit_test(test_receive_rejects_malformed_messages),
        cmocka_unit_test(test_persisted_rejects_unknown_sequence),
        cmocka_unit_test(test_propose_checks),
        cmocka_unit_test(test_duplicate_and_stale_messages_change_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
