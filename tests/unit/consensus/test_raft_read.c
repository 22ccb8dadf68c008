/* test_raft_read.c - linearizable reads by ReadIndex. */
#include "raft_fixture.h"

static int read_index(struct fx *f, uint64_t id, uint64_t ctx)
{
    struct raft_update u;
    int rc = raft_read_index(fx_raft(f, id), ctx, &u);
    fx_handle(f, id, &u);
    return rc;
}

static void test_read_index_answered_after_heartbeat_quorum(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 3);
    fx_elect(&f, 1);
    uint64_t idx = fx_propose(&f, 1, "w");
    fx_deliver_all(&f);
    assert_int_equal(read_index(&f, 1, 77), TC_OK);
    assert_int_equal(f.nodes[1].nreads, 0);
    assert_int_equal(fx_queued(&f, RAFT_MSG_HEARTBEAT, 1, 0), 2);
    /* One follower's answer makes a quorum with the leader. */
    fx_isolate(&f, 3, true);
    while (fx_queued(&f, RAFT_MSG_HEARTBEAT, 1, 2))
        fx_deliver_one(&f);
    assert_int_equal(f.nodes[1].nreads, 0);
    fx_deliver_all(&f);
    assert_int_equal(f.nodes[1].nreads, 1);
    assert_true(f.nodes[1].reads[0].ok);
    assert_int_equal(f.nodes[1].reads[0].context, 77);
    assert_int_equal(f.nodes[1].reads[0].index, idx);
    fx_free(&f);
}

static void test_read_index_ignores_heartbeats_sent_before_the_request(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 3);
    fx_elect(&f, 1);
    fx_tick(&f, 1); /* an ordinary heartbeat round, still in flight */
    assert_int_equal(read_index(&f, 1, 5), TC_OK);
    assert_int_equal(fx_queued(&f, RAFT_MSG_HEARTBEAT, 1, 0), 4);
    /* The older heartbeats arrive and are answered; the read's own are lost. */
    fx_deliver_one(&f);
    fx_deliver_one(&f);
    fx_drop_from(&f, 1);
    fx_deliver_all(&f);
    assert_int_equal(f.nodes[1].nreads, 0);
    fx_tick(&f, 1); /* the next heartbeat round carries the read's context */
    fx_deliver_all(&f);
    assert_int_equal(f.nodes[1].nreads, 1);
    assert_true(f.nodes[1].reads[0].ok);
    fx_free(&f);
}

static void test_read_index_refused_before_commit_in_term(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 3);
    fx_start_campaign(&f, 1);
    while (!raft_is_leader(fx_raft(&f, 1)) && fx_deliver_one(&f))
        ;
    assert_int_equal(read_index(&f, 1, 1), TC_EAGAIN);
    assert_int_equal(read_index(&f, 2, 1), TC_ESTATE);
    fx_deliver_all(&f);
    assert_int_equal(read_index(&f, 1, 1), TC_OK);
    fx_free(&f);
}

static void test_deposed_leader_fails_reads_and_never_confirms(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 3);
    fx_elect(&f, 1);
    fx_isolate(&f, 1, true);
    assert_int_equal(read_index(&f, 1, 9), TC_OK);
    for (uint32_t i = 0; i < 2 * f.cfg.election_ticks; i++) {
        fx_tick(&f, 1);
        fx_deliver_all(&f);
    }
    assert_false(raft_is_leader(fx_raft(&f, 1)));
    assert_int_equal(f.nodes[1].nreads, 1);
    assert_false(f.nodes[1].reads[0].ok);
    assert_int_equal(f.nodes[1].reads[0].context, 9);
    fx_free(&f);
}

static void test_stale_leader_read_not_confirmed_by_new_term_followers(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 3);
    fx_elect(&f, 1);
    fx_isolate(&f, 1, true);
    const uint64_t others[] = { 2, 3 };
    for (int i = 0; i < 200 && fx_leader(&f) == 1; i++) {
        for (int k = 0; k < 2; k++)
            fx_tick(&f, others[k]);
        fx_deliver_all(&f);
    }
    assert_true(fx_leader(&f) != 1);
    uint64_t newer = fx_propose(&f, fx_leader(&f), "newer");
    fx_deliver_all(&f);
    assert_true(raft_is_leader(fx_raft(&f, 1)));
    assert_int_equal(read_index(&f, 1, 3), TC_OK);
    fx_isolate(&f, 1, false);
    fx_deliver_all(&f);
    /* Its heartbeats met a higher term: no stale answer, a failure instead. */
    assert_false(raft_is_leader(fx_raft(&f, 1)));
    assert_int_equal(f.nodes[1].nreads, 1);
    assert_false(f.nodes[1].reads[0].ok);
    (void)newer;
    fx_free(&f);
}

static void test_single_voter_read_is_immediate(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 1);
    fx_elect(&f, 1);
    uint64_t idx = fx_propose(&f, 1, "only");
    assert_int_equal(read_index(&f, 1, 4), TC_OK);
    assert_int_equal(f.nodes[1].nreads, 1);
    assert_true(f.nodes[1].reads[0].ok);
    assert_int_equal(f.nodes[1].reads[0].index, idx);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_index_answered_after_heartbeat_quorum),
        cmocka_unit_test(test_read_index_ignores_heartbeats_sent_before_the_request),
        cmocka_unit_test(test_read_index_refused_before_commit_in_term),
        cmocka_unit_test(test_deposed_leader_fails_reads_and_never_confirms),
        cmocka_unit_test(test_stale_leader_read_not_confirmed_by_new_term_followers),
        cmocka_unit_test(test_single_voter_read_is_immediate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
