/* test_raft_membership.c - single-server membership changes and learners. */
#include "raft_fixture.h"

static int change(struct fx *f, uint64_t leader, enum raft_change c, uint64_t node)
{
    struct raft_update u;
    int rc = raft_change_membership(fx_raft(f, leader), c, node, &u);
    fx_handle(f, leader, &u);
    return rc;
}

static bool has_member(struct raft *r, uint64_t id, uint8_t role)
{
    const struct raft_membership *m = raft_membership(r);
    for (uint32_t i = 0; i < m->count; i++)
        if (m->members[i].id == id)
            return m->members[i].role == role;
    return false;
}

static void test_second_change_refused_while_one_is_pending(void **state)
{
    (void)state;
    struct fx f;
    fx_init_with(&f, 3, 2, fx_default_config());
    fx_elect(&f, 1);
    assert_int_equal(change(&f, 1, RAFT_ADD_LEARNER, 4), TC_OK);
    /* In force on the leader at once, though not committed. */
    assert_true(has_member(fx_raft(&f, 1), 4, RAFT_LEARNER));
    assert_int_equal(change(&f, 1, RAFT_ADD_LEARNER, 5), TC_EAGAIN);
    fx_deliver_all(&f);
    assert_int_equal(change(&f, 1, RAFT_ADD_LEARNER, 5), TC_OK);
    fx_deliver_all(&f);
    for (uint64_t id = 1; id <= 5; id++) {
        assert_true(has_member(fx_raft(&f, id), 4, RAFT_LEARNER));
        assert_true(has_member(fx_raft(&f, id), 5, RAFT_LEARNER));
    }
    assert_int_equal(raft_last_index(fx_raft(&f, 4)), raft_last_index(fx_raft(&f, 1)));
    fx_free(&f);
}

static void test_change_refused_before_leader_commits_in_its_term(void **state)
{
    (void)state;
    struct fx f;
    fx_init_with(&f, 3, 1, fx_default_config());
    fx_start_campaign(&f, 1);
    while (!raft_is_leader(fx_raft(&f, 1)) && fx_deliver_one(&f))
        ;
    assert_true(raft_is_leader(fx_raft(&f, 1)));
    assert_int_equal(raft_commit_index(fx_raft(&f, 1)), 0);
    assert_int_equal(change(&f, 1, RAFT_ADD_VOTER, 4), TC_EAGAIN);
    fx_deliver_all(&f);
    assert_int_equal(raft_commit_index(fx_raft(&f, 1)), 1);
    assert_int_equal(change(&f, 1, RAFT_ADD_VOTER, 4), TC_OK);
    fx_free(&f);
}

static void test_invalid_changes_are_refused(void **state)
{
    (void)state;
    struct fx f;
    fx_init_with(&f, 1, 1, fx_default_config());
    fx_elect(&f, 1);
    assert_int_equal(change(&f, 1, RAFT_ADD_VOTER, 1), TC_EINVAL);
    assert_int_equal(change(&f, 1, RAFT_PROMOTE, 1), TC_EINVAL);
    assert_int_equal(change(&f, 1, RAFT_PROMOTE, 2), TC_EINVAL);
    assert_int_equal(change(&f, 1, RAFT_REMOVE, 2), TC_EINVAL);
    assert_int_equal(change(&f, 1, RAFT_REMOVE, 1), TC_EINVAL); /* the last voter */
    assert_int_equal(change(&f, 1, RAFT_ADD_VOTER, 0), TC_EINVAL);
    assert_int_equal(change(&f, 2, RAFT_ADD_VOTER, 3), TC_ESTATE);
    fx_free(&f);
}

static void test_learner_does_not_count_for_quorum_until_promoted(void **state)
{
    (void)state;
    struct fx f;
    fx_init_with(&f, 2, 1, fx_default_config());
    fx_elect(&f, 1);
    assert_int_equal(change(&f, 1, RAFT_ADD_LEARNER, 3), TC_OK);
    fx_deliver_all(&f);
    uint64_t conf = raft_last_index(fx_raft(&f, 1));
    assert_int_equal(raft_commit_index(fx_raft(&f, 1)), conf);
    fx_cut(&f, 1, 2, true);
    uint64_t idx = fx_propose(&f, 1, "needs-2-voters");
    fx_deliver_all(&f);
    assert_int_equal(raft_match_index(fx_raft(&f, 1), 3), idx); /* the learner has it */
    assert_int_equal(raft_commit_index(fx_raft(&f, 1)), conf);  /* but does not count */
    /* Promotion is in force from its append: voters {1,2,3}, and 1 + 3 commit. */
    assert_int_equal(change(&f, 1, RAFT_PROMOTE, 3), TC_OK);
    fx_deliver_all(&f);
    assert_true(has_member(fx_raft(&f, 3), 3, RAFT_VOTER));
    assert_int_equal(raft_commit_index(fx_raft(&f, 1)), idx + 1);
    fx_free(&f);
}

static void test_learner_never_campaigns_and_its_vote_does_not_count(void **state)
{
    (void)state;
    struct fx f;
    fx_init_with(&f, 3, 1, fx_default_config());
    fx_elect(&f, 1);
    assert_int_equal(change(&f, 1, RAFT_ADD_LEARNER, 4), TC_OK);
    fx_deliver_all(&f);
    fx_isolate(&f, 4, true);
    size_t before = f.prevotes_from[4];
    for (int i = 0; i < 100; i++)
        fx_tick(&f, 4);
    assert_int_equal(f.prevotes_from[4], before);
    assert_int_equal(raft_role(fx_raft(&f, 4)), RAFT_FOLLOWER);
    fx_drop_all(&f);
    fx_isolate(&f, 4, false);
    /* 2 can reach only 4 (and itself): the learner's grant is no majority. */
    fx_isolate(&f, 2, true);
    fx_cut(&f, 2, 4, false);
    fx_expire_leases(&f);
    fx_start_campaign(&f, 2);
    fx_deliver_all(&f);
    assert_int_equal(raft_role(fx_raft(&f, 2)), RAFT_PRECANDIDATE);
    assert_int_equal(raft_term(fx_raft(&f, 2)), raft_term(fx_raft(&f, 1)));
    fx_free(&f);
}

static void test_added_voter_catches_up_and_joins_quorum(void **state)
{
    (void)state;
    struct fx f;
    fx_init_with(&f, 3, 1, fx_default_config());
    fx_elect(&f, 1);
    for (int i = 0; i < 10; i++)
        fx_propose(&f, 1, "pre");
    fx_deliver_all(&f);
    assert_int_equal(change(&f, 1, RAFT_ADD_VOTER, 4), TC_OK);
    fx_deliver_all(&f);
    assert_int_equal(raft_last_index(fx_raft(&f, 4)), raft_last_index(fx_raft(&f, 1)));
    assert_true(has_member(fx_raft(&f, 4), 4, RAFT_VOTER));
    /* Four voters: quorum three. With 2 and 3 cut off, nothing commits. */
    fx_cut(&f, 1, 2, true);
    fx_cut(&f, 1, 3, true);
    uint64_t idx = fx_propose(&f, 1, "x");
    fx_deliver_all(&f);
    assert_true(raft_commit_index(fx_raft(&f, 1)) < idx);
    fx_cut(&f, 1, 3, false);
    fx_run(&f, 2);
    assert_int_equal(raft_commit_index(fx_raft(&f, 1)), idx);
    fx_free(&f);
}

static void test_removed_leader_steps_down_after_commit(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 3);
    fx_elect(&f, 1);
    size_t prevotes = f.prevotes_from[1];
    f.nodes[1].auto_persist = false;
    assert_int_equal(change(&f, 1, RAFT_REMOVE, 1), TC_OK);
    uint64_t conf = raft_last_index(fx_raft(&f, 1));
    /* Still leading, not counting itself: 2 and 3 commit the change. */
    assert_true(raft_is_leader(fx_raft(&f, 1)));
    fx_deliver_all(&f);
    assert_int_equal(raft_commit_index(fx_raft(&f, 1)), conf);
    assert_int_equal(raft_role(fx_raft(&f, 1)), RAFT_FOLLOWER);
    f.nodes[1].auto_persist = true;
    fx_persist(&f, 1);
    fx_deliver_all(&f);
    assert_false(has_member(fx_raft(&f, 2), 1, RAFT_VOTER));
    fx_run(&f, 100);
    uint64_t leader = fx_leader(&f);
    assert_true(leader == 2 || leader == 3);
    assert_int_equal(f.prevotes_from[1], prevotes);
    uint64_t idx = fx_propose(&f, leader, "after");
    fx_deliver_all(&f);
    assert_int_equal(raft_commit_index(fx_raft(&f, leader)), idx);
    fx_free(&f);
}

static void test_removed_follower_no_longer_counts(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 3);
    fx_elect(&f, 1);
    assert_int_equal(change(&f, 1, RAFT_REMOVE, 3), TC_OK);
    fx_deliver_all(&f);
    /* Two voters now: both needed. */
    fx_cut(&f, 1, 2, true);
    uint64_t idx = fx_propose(&f, 1, "x");
    fx_deliver_all(&f);
    assert_true(raft_commit_index(fx_raft(&f, 1)) < idx);
    fx_cut(&f, 1, 2, false);
    fx_run(&f, 2);
    assert_int_equal(raft_commit_index(fx_raft(&f, 1)), idx);
    fx_free(&f);
}

static void test_uncommitted_config_reverts_when_truncated(void **state)
{
    (void)state;
    struct fx f;
    fx_init_with(&f, 3, 1, fx_default_config());
    fx_elect(&f, 1);
    /* The change reaches only 2, and 1 crashes before writing it. */
    f.nodes[1].auto_persist = false;
    fx_cut(&f, 1, 3, true);
    assert_int_equal(change(&f, 1, RAFT_ADD_LEARNER, 4), TC_OK);
    uint64_t conf = raft_last_index(fx_raft(&f, 1));
    while (fx_queued(&f, RAFT_MSG_APPEND, 1, 2))
        fx_deliver_one(&f);
    fx_drop_all(&f);
    assert_true(has_member(fx_raft(&f, 2), 4, RAFT_LEARNER));
    fx_crash(&f, 1);
    fx_restart(&f, 1);
    f.nodes[1].auto_persist = true;
    fx_cut(&f, 1, 3, false);
    assert_int_equal(raft_last_index(fx_raft(&f, 1)), conf - 1);
    /* 3 leads with 1's vote and overwrites the change on 2. */
    fx_isolate(&f, 2, true);
    fx_expire_leases(&f);
    fx_elect(&f, 3);
    fx_isolate(&f, 2, false);
    fx_run(&f, 3);
    assert_int_equal(raft_term_at(fx_raft(&f, 2), conf), raft_term(fx_raft(&f, 3)));
    assert_false(has_member(fx_raft(&f, 2), 4, RAFT_LEARNER));
    assert_int_equal(raft_membership(fx_raft(&f, 2))->count, 3);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_second_change_refused_while_one_is_pending),
        cmocka_unit_test(test_change_refused_before_leader_commits_in_its_term),
        cmocka_unit_test(test_invalid_changes_are_refused),
        cmocka_unit_test(test_learner_does_not_count_for_quorum_until_promoted),
        cmocka_unit_test(test_learner_never_campaigns_and_its_vote_does_not_count),
        cmocka_unit_test(test_added_voter_catches_up_and_joins_quorum),
        cmocka_unit_test(test_removed_leader_steps_down_after_commit),
        cmocka_unit_test(test_removed_follower_no_longer_counts),
        cmocka_unit_test(test_uncommitted_config_reverts_when_truncated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
