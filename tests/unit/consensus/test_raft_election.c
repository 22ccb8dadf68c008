/* test_raft_election.c - elections, pre-vote, check-quorum, stale leaders, votes vs persistence. */
#include "raft_fixture.h"

static void tick_nodes(struct fx *f, const uint64_t *ids, size_t n, int rounds)
{
    for (int i = 0; i < rounds; i++) {
        for (size_t k = 0; k < n; k++)
            fx_tick(f, ids[k]);
        fx_deliver_all(f);
    }
}

static void test_single_node_leads_only_after_its_vote_is_durable(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 1);
    f.nodes[1].auto_persist = false;
    struct raft *r = fx_raft(&f, 1);
    for (int i = 0; i < 30 && raft_role(r) == RAFT_FOLLOWER; i++)
        fx_tick(&f, 1);
    assert_int_equal(raft_role(r), RAFT_CANDIDATE);
    assert_int_equal(raft_term(r), 1);
    assert_int_equal(f.nodes[1].disk.hs.term, 0);
    fx_persist(&f, 1);
    assert_int_equal(f.nodes[1].disk.hs.term, 1);
    assert_int_equal(f.nodes[1].disk.hs.vote, 1);
    assert_true(raft_is_leader(r));
    /* The no-op commits only once the leader's own write is durable. */
    assert_int_equal(raft_last_index(r), 1);
    assert_int_equal(raft_commit_index(r), 0);
    fx_persist(&f, 1);
    assert_int_equal(raft_commit_index(r), 1);
    assert_int_equal(f.nodes[1].applied, 1);
    fx_free(&f);
}

static void test_three_nodes_elect_one_leader_and_commit_noop(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 3);
    fx_elect(&f, 1);
    assert_int_equal(fx_leader(&f), 1);
    for (uint64_t id = 1; id <= 3; id++) {
        assert_int_equal(raft_term(fx_raft(&f, id)), 1);
        assert_int_equal(raft_leader(fx_raft(&f, id)), 1);
        assert_int_equal(raft_last_index(fx_raft(&f, id)), 1);
        assert_int_equal(raft_entry_at(fx_raft(&f, id), 1)->type, RAFT_ENTRY_NOOP);
    }
    assert_int_equal(raft_commit_index(fx_raft(&f, 1)), 1);
    fx_run(&f, 3);
    for (uint64_t id = 2; id <= 3; id++)
        assert_int_equal(raft_commit_index(fx_raft(&f, id)), 1);
    fx_free(&f);
}

static void test_vote_not_sent_before_term_and_vote_are_persisted(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 3);
    fx_isolate(&f, 3, true);
    f.nodes[2].auto_persist = false;
    fx_start_campaign(&f, 1);
    fx_deliver_all(&f); /* pre-votes: granted without any state change */
    assert_int_equal(raft_role(fx_raft(&f, 1)), RAFT_CANDIDATE);
    fx_deliver_all(&f); /* the vote request reaches node 2 */
    assert_int_equal(raft_vote(fx_raft(&f, 2)), 1);
    assert_int_equal(fx_queued(&f, RAFT_MSG_VOTE_RESP, 2, 1), 0);
    assert_false(raft_is_leader(fx_raft(&f, 1)));
    fx_persist(&f, 2);
    assert_int_equal(f.nodes[2].disk.hs.vote, 1);
    assert_int_equal(f.nodes[2].disk.hs.term, 1);
    assert_int_equal(fx_queued(&f, RAFT_MSG_VOTE_RESP, 2, 1), 1);
    fx_deliver_all(&f);
    assert_true(raft_is_leader(fx_raft(&f, 1)));
    fx_free(&f);
}

static void test_candidate_sends_vote_requests_after_its_own_persist(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 3);
    f.nodes[1].auto_persist = false;
    fx_start_campaign(&f, 1);
    fx_deliver_all(&f);
    assert_int_equal(raft_role(fx_raft(&f, 1)), RAFT_CANDIDATE);
    assert_int_equal(fx_queued(&f, RAFT_MSG_VOTE, 1, 0), 0);
    fx_persist(&f, 1);
    assert_int_equal(fx_queued(&f, RAFT_MSG_VOTE, 1, 0), 2);
    fx_deliver_all(&f);
    assert_true(raft_is_leader(fx_raft(&f, 1)));
    fx_free(&f);
}

static void test_split_vote_then_single_leader_in_later_term(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 4);
    /* 1 only reaches 3, 2 only reaches 4: each gets two of four votes. */
    fx_cut(&f, 1, 2, true);
    fx_cut(&f, 1, 4, true);
    fx_cut(&f, 2, 3, true);
    fx_cut(&f, 3, 4, true);
    fx_start_campaign(&f, 1);
    fx_start_campaign(&f, 2);
    fx_deliver_all(&f);
    fx_deliver_all(&f);
    /* Pre-votes need three of four: neither could even start an election. */
    assert_int_equal(raft_term(fx_raft(&f, 1)), 0);
    /* Let both pass pre-vote, then split the real vote. */
    for (uint64_t a = 1; a <= 4; a++)
        for (uint64_t b = 1; b <= 4; b++)
            f.cut[a][b] = false;
    fx_start_campaign(&f, 1);
    fx_start_campaign(&f, 2);
    /* Deliver pre-votes and their grants, then split the vote requests. */
    while (fx_queued(&f, RAFT_MSG_VOTE, 0, 0) < 6 && fx_deliver_one(&f))
        ;
    assert_int_equal(raft_role(fx_raft(&f, 1)), RAFT_CANDIDATE);
    assert_int_equal(raft_role(fx_raft(&f, 2)), RAFT_CANDIDATE);
    assert_int_equal(raft_term(fx_raft(&f, 1)), 1);
    assert_int_equal(raft_term(fx_raft(&f, 2)), 1);
    fx_cut(&f, 1, 2, true);
    fx_cut(&f, 1, 4, true);
    fx_cut(&f, 2, 3, true);
    fx_cut(&f, 3, 4, true);
    fx_deliver_all(&f);
    assert_int_equal(fx_leader(&f), 0);
    assert_int_equal(raft_vote(fx_raft(&f, 3)), 1);
    assert_int_equal(raft_vote(fx_raft(&f, 4)), 2);
    for (uint64_t a = 1; a <= 4; a++)
        for (uint64_t b = 1; b <= 4; b++)
            f.cut[a][b] = false;
    fx_run(&f, 100);
    uint64_t leader = fx_leader(&f);
    assert_true(leader != 0);
    assert_true(raft_term(fx_raft(&f, leader)) >= 2);
    for (uint64_t id = 1; id <= 4; id++)
        if (id != leader)
            assert_false(raft_is_leader(fx_raft(&f, id)));
    fx_free(&f);
}

static void test_prevote_partitioned_node_rejoins_without_bumping_term(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 3);
    fx_elect(&f, 1);
    uint64_t term = raft_term(fx_raft(&f, 1));
    fx_isolate(&f, 3, true);
    fx_run(&f, 100);
    assert_true(f.prevotes_from[3] > 0);
    assert_int_equal(raft_term(fx_raft(&f, 3)), term);
    fx_isolate(&f, 3, false);
    fx_run(&f, 30);
    assert_int_equal(fx_leader(&f), 1);
    for (uint64_t id = 1; id <= 3; id++)
        assert_int_equal(raft_term(fx_raft(&f, id)), term);
    assert_int_equal(raft_role(fx_raft(&f, 3)), RAFT_FOLLOWER);
    assert_int_equal(raft_leader(fx_raft(&f, 3)), 1);
    fx_free(&f);
}

static void test_stable_leader_ignores_prevote_and_vote_within_lease(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 3);
    fx_elect(&f, 1);
    struct raft_message m = { 0 };
    m.type = RAFT_MSG_VOTE;
    m.from = 3;
    m.to = 2;
    m.term = 5;
    m.index = 100;
    m.log_term = 1;
    struct raft_update u;
    assert_int_equal(raft_receive(fx_raft(&f, 2), &m, &u), TC_OK);
    assert_int_equal(u.message_count, 0);
    assert_int_equal(raft_term(fx_raft(&f, 2)), 1);
    assert_int_equal(raft_vote(fx_raft(&f, 2)), 1);
    fx_free(&f);
}

static void test_check_quorum_isolated_leader_steps_down(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 3);
    fx_elect(&f, 1);
    uint64_t term = raft_term(fx_raft(&f, 1));
    fx_isolate(&f, 1, true);
    for (uint32_t i = 0; i < 2 * f.cfg.election_ticks; i++) {
        fx_tick(&f, 1);
        fx_deliver_all(&f);
    }
    assert_int_equal(raft_role(fx_raft(&f, 1)), RAFT_FOLLOWER);
    assert_int_equal(raft_term(fx_raft(&f, 1)), term);
    assert_int_equal(raft_leader(fx_raft(&f, 1)), RAFT_NONE);
    fx_free(&f);
}

static void test_leader_with_quorum_stays_leader(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 3);
    fx_elect(&f, 1);
    fx_isolate(&f, 3, true);
    fx_run(&f, 5 * (int)f.cfg.election_ticks);
    assert_true(raft_is_leader(fx_raft(&f, 1)));
    fx_free(&f);
}

static void test_stale_leader_rejoining_steps_down_and_loses_its_entry(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 3);
    fx_elect(&f, 1);
    uint64_t old_term = raft_term(fx_raft(&f, 1));
    fx_isolate(&f, 1, true);
    uint64_t lost = fx_propose(&f, 1, "lost");
    fx_deliver_all(&f);
    const uint64_t others[] = { 2, 3 };
    for (int i = 0; i < 200 && fx_leader(&f) == 1; i++)
        tick_nodes(&f, others, 2, 1);
    uint64_t leader = fx_leader(&f);
    assert_true(leader == 2 || leader == 3);
    assert_true(raft_term(fx_raft(&f, leader)) > old_term);
    assert_true(raft_is_leader(fx_raft(&f, 1))); /* not ticked: still believes it */
    uint64_t kept = fx_propose(&f, leader, "kept");
    fx_deliver_all(&f);
    assert_int_equal(kept, lost + 1); /* the new leader's no-op took index `lost` */
    fx_isolate(&f, 1, false);
    /* The stale leader's heartbeat meets a higher term, and the new leader's
     * heartbeat brings it down too. */
    fx_tick(&f, 1);
    fx_tick(&f, leader);
    fx_deliver_all(&f);
    fx_run(&f, 3);
    assert_false(raft_is_leader(fx_raft(&f, 1)));
    assert_int_equal(raft_term(fx_raft(&f, 1)), raft_term(fx_raft(&f, leader)));
    assert_int_equal(raft_leader(fx_raft(&f, 1)), leader);
    const struct raft_entry *e = raft_entry_at(fx_raft(&f, 1), lost);
    assert_non_null(e);
    assert_int_equal(e->type, RAFT_ENTRY_NOOP);
    assert_true(e->term > old_term);
    e = raft_entry_at(fx_raft(&f, 1), kept);
    assert_non_null(e);
    assert_int_equal(e->len, 4);
    assert_memory_equal(e->data, "kept", 4);
    assert_int_equal(raft_commit_index(fx_raft(&f, 1)), raft_commit_index(fx_raft(&f, leader)));
    fx_free(&f);
}

static void test_restart_keeps_term_and_vote(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 3);
    fx_elect(&f, 1);
    fx_propose(&f, 1, "a");
    fx_deliver_all(&f);
    uint64_t term = raft_term(fx_raft(&f, 2));
    fx_crash(&f, 2);
    fx_restart(&f, 2);
    assert_int_equal(raft_term(fx_raft(&f, 2)), term);
    assert_int_equal(raft_vote(fx_raft(&f, 2)), 1);
    assert_int_equal(raft_last_index(fx_raft(&f, 2)), 2);
    fx_run(&f, 3);
    assert_int_equal(raft_commit_index(fx_raft(&f, 2)), 2);
    assert_int_equal(f.nodes[2].applied, 2);
    fx_free(&f);
}

static void test_crash_before_persist_loses_vote_and_term(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 3);
    f.nodes[1].auto_persist = false;
    fx_start_campaign(&f, 1);
    fx_deliver_all(&f);
    assert_int_equal(raft_term(fx_raft(&f, 1)), 1);
    fx_crash(&f, 1);
    fx_drop_all(&f);
    fx_restart(&f, 1);
    assert_int_equal(raft_term(fx_raft(&f, 1)), 0);
    assert_int_equal(raft_vote(fx_raft(&f, 1)), RAFT_NONE);
    f.nodes[1].auto_persist = true;
    fx_elect(&f, 1);
    assert_int_equal(raft_term(fx_raft(&f, 1)), 1);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_node_leads_only_after_its_vote_is_durable),
        cmocka_unit_test(test_three_nodes_elect_one_leader_and_commit_noop),
        cmocka_unit_test(test_vote_not_sent_before_term_and_vote_are_persisted),
        cmocka_unit_test(test_candidate_sends_vote_requests_after_its_own_persist),
        cmocka_unit_test(test_split_vote_then_single_leader_in_later_term),
        cmocka_unit_test(test_prevote_partitioned_node_rejoins_without_bumping_term),
        cmocka_unit_test(test_stable_leader_ignores_prevote_and_vote_within_lease),
        cmocka_unit_test(test_check_quorum_isolated_leader_steps_down),
        cmocka_unit_test(test_leader_with_quorum_stays_leader),
        cmocka_unit_test(test_stale_leader_rejoining_steps_down_and_loses_its_entry),
        cmocka_unit_test(test_restart_keeps_term_and_vote),
        cmocka_unit_test(test_crash_before_persist_loses_vote_and_term),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
