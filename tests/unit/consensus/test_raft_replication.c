/* test_raft_replication.c - log replication, commitment (Figures 7 and 8), persistence
 * gate, batching, in-flight window, compaction and snapshots, leadership transfer. */
#include "raft_fixture.h"

static void assert_logs_equal(struct fx *f, uint64_t a, uint64_t b)
{
    struct raft *ra = fx_raft(f, a), *rb = fx_raft(f, b);
    assert_int_equal(raft_last_index(ra), raft_last_index(rb));
    for (uint64_t i = 1; i <= raft_last_index(ra); i++)
        assert_int_equal(raft_term_at(ra, i), raft_term_at(rb, i));
}

static void test_figure7_divergent_logs_converge_to_leader(void **state)
{
    (void)state;
    static const uint64_t leader[] = { 1, 1, 1, 4, 4, 5, 5, 6, 6, 6 };
    static const uint64_t a[] = { 1, 1, 1, 4, 4, 5, 5, 6, 6 };
    static const uint64_t b[] = { 1, 1, 1, 4 };
    static const uint64_t c[] = { 1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6 };
    static const uint64_t d[] = { 1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7 };
    static const uint64_t e[] = { 1, 1, 1, 4, 4, 4, 4 };
    static const uint64_t ff[] = { 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3 };
    struct fx f;
    fx_init(&f, 7);
    fx_set_log(&f, 1, leader, 10, 7);
    fx_set_log(&f, 2, a, 9, 7);
    fx_set_log(&f, 3, b, 4, 7);
    fx_set_log(&f, 4, c, 11, 7);
    fx_set_log(&f, 5, d, 12, 7);
    fx_set_log(&f, 6, e, 7, 7);
    fx_set_log(&f, 7, ff, 11, 7);
    fx_elect(&f, 1);
    assert_int_equal(raft_term(fx_raft(&f, 1)), 8);
    /* c and d have longer or newer logs: they refused their votes. */
    assert_int_equal(raft_vote(fx_raft(&f, 4)), RAFT_NONE);
    assert_int_equal(raft_vote(fx_raft(&f, 5)), RAFT_NONE);
    fx_run(&f, 3);
    assert_int_equal(raft_last_index(fx_raft(&f, 1)), 11); /* + the term-8 no-op */
    assert_int_equal(raft_term_at(fx_raft(&f, 1), 11), 8);
    for (uint64_t id = 2; id <= 7; id++) {
        assert_logs_equal(&f, 1, id);
        assert_int_equal(raft_commit_index(fx_raft(&f, id)), 11);
    }
    fx_free(&f);
}

/* Figure 8: S1 (term 2 entry at index 2 on S1, S2), S5 (term-3 entry at index 2),
 * S1 back in term 4 copies index 2 to S3. Returns the index-2 commit state of S1
 * at the moment index 2 is on a majority but no term-4 entry is. */
static uint64_t figure8(struct fx *f, uint32_t bugs)
{
    struct raft_config cfg = fx_default_config();
    cfg.max_msg_entries = 1;
    cfg.test_bugs = bugs;
    fx_init_with(f, 5, 0, cfg);
    f->allow_unsafe = true;
    fx_elect(f, 1); /* index 1: no-op of S1's first term, everywhere */
    uint64_t t1 = raft_term(fx_raft(f, 1));
    /* (a) S1 replicates index 2 to S2 only. */
    for (uint64_t id = 3; id <= 5; id++)
        fx_cut(f, 1, id, true);
    assert_int_equal(fx_propose(f, 1, "S1-term-a"), 2);
    fx_deliver_all(f);
    assert_int_equal(raft_last_index(fx_raft(f, 2)), 2);
    assert_int_equal(raft_commit_index(fx_raft(f, 1)), 1);
    /* (b) S1 crashes; S5 wins with S3, S4 and writes index 2 in its term, alone. */
    fx_crash(f, 1);
    fx_cut(f, 5, 2, true);
    fx_expire_leases(f);
    fx_start_campaign(f, 5);
    while (!raft_is_leader(fx_raft(f, 5)) && fx_deliver_one(f))
        ;
    assert_true(raft_is_leader(fx_raft(f, 5)));
    fx_drop_from(f, 5);
    uint64_t t5 = raft_term(fx_raft(f, 5));
    assert_true(t5 > t1);
    assert_int_equal(raft_term_at(fx_raft(f, 5), 2), t5);
    fx_crash(f, 5);
    fx_drop_all(f);
    /* (c) S1 restarts, wins with S2, S3 and copies index 2 (term t1) to S3. */
    for (uint64_t x = 1; x <= 5; x++)
        for (uint64_t y = 1; y <= 5; y++)
            f->cut[x][y] = false;
    fx_restart(f, 1);
    fx_cut(f, 1, 4, true);
    fx_expire_leases(f);
    for (int i = 0; i < 5 && !raft_is_leader(fx_raft(f, 1)); i++) {
        fx_start_campaign(f, 1);
        while (!raft_is_leader(fx_raft(f, 1)) && fx_deliver_one(f))
            ;
    }
    assert_true(raft_is_leader(fx_raft(f, 1)));
    assert_true(raft_term(fx_raft(f, 1)) > t5);
    /* Deliver until S3 holds index 2 from S1, and stop before its no-op follows. */
    while (fx_deliver_one(f)) {
        if (raft_last_index(fx_raft(f, 3)) >= 2 && raft_term_at(fx_raft(f, 3), 2) == t1 &&
            fx_queued(f, RAFT_MSG_APPEND_RESP, 3, 1) == 0)
            break;
    }
    assert_int_equal(raft_term_at(fx_raft(f, 3), 2), t1);
    assert_int_equal(raft_last_index(fx_raft(f, 3)), 2);
    uint64_t commit_at_majority = raft_commit_index(fx_raft(f, 1));
    /* (d) S1 crashes before its no-op spreads; S5 returns and wins with S3, S4. */
    fx_crash(f, 1);
    fx_drop_all(f);
    fx_restart(f, 5);
    fx_cut(f, 5, 2, true);
    fx_expire_leases(f);
    for (int i = 0; i < 5 && !raft_is_leader(fx_raft(f, 5)); i++)
        fx_campaign(f, 5);
    assert_true(raft_is_leader(fx_raft(f, 5)));
    fx_run(f, 5);
    return commit_at_majority;
}

static void test_figure8_previous_term_entry_not_committed_by_count(void **state)
{
    (void)state;
    struct fx f;
    uint64_t commit = figure8(&f, 0);
    assert_int_equal(commit, 0); /* restarted S1 knows nothing committed yet */
    /* S5 overwrote index 2 and committed its own: no one had applied the old one. */
    assert_int_equal(raft_term_at(fx_raft(&f, 3), 2), raft_term_at(fx_raft(&f, 5), 2));
    assert_true(raft_commit_index(fx_raft(&f, 5)) >= 2);
    assert_int_equal(f.safety_violations, 0);
    fx_free(&f);
}

static void test_figure8_bug_switch_commits_previous_term_unsafely(void **state)
{
    (void)state;
    struct fx f;
    uint64_t commit = figure8(&f, RAFT_BUG_COMMIT_PREV_TERM_BY_COUNT);
    assert_int_equal(commit, 2);
    assert_true(f.safety_violations > 0);
    fx_free(&f);
}

static void test_leader_counts_itself_only_after_persist(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 3);
    fx_elect(&f, 1);
    fx_isolate(&f, 3, true);
    f.nodes[1].auto_persist = false;
    uint64_t idx = fx_propose(&f, 1, "x");
    assert_int_equal(fx_queued(&f, RAFT_MSG_APPEND, 1, 2), 1); /* sent before its own write */
    fx_deliver_all(&f);
    assert_int_equal(raft_match_index(fx_raft(&f, 1), 2), idx);
    assert_int_equal(raft_commit_index(fx_raft(&f, 1)), idx - 1);
    fx_persist(&f, 1);
    assert_int_equal(raft_commit_index(fx_raft(&f, 1)), idx);
    fx_free(&f);
}

static void test_bug_switch_leader_counts_itself_before_persist(void **state)
{
    (void)state;
    struct raft_config cfg = fx_default_config();
    cfg.test_bugs = RAFT_BUG_LEADER_COUNTS_SELF_BEFORE_PERSIST;
    struct fx f;
    fx_init_with(&f, 3, 0, cfg);
    fx_elect(&f, 1);
    fx_isolate(&f, 3, true);
    f.nodes[1].auto_persist = false;
    uint64_t idx = fx_propose(&f, 1, "x");
    fx_deliver_all(&f);
    assert_int_equal(raft_commit_index(fx_raft(&f, 1)), idx);
    assert_int_equal(raft_persisted_index(fx_raft(&f, 1)), idx - 1);
    fx_free(&f);
}

static void test_append_ack_sent_only_after_follower_persist(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 3);
    fx_elect(&f, 1);
    f.nodes[2].auto_persist = false;
    uint64_t idx = fx_propose(&f, 1, "y");
    while (fx_queued(&f, RAFT_MSG_APPEND, 1, 2))
        fx_deliver_one(&f);
    assert_int_equal(raft_last_index(fx_raft(&f, 2)), idx);
    assert_int_equal(fx_queued(&f, RAFT_MSG_APPEND_RESP, 2, 1), 0);
    fx_persist(&f, 2);
    assert_int_equal(fx_queued(&f, RAFT_MSG_APPEND_RESP, 2, 1), 1);
    struct raft_message m;
    for (size_t i = 0; i < f.qlen; i++) {
        fx_peek(&f, i, &m);
        if (m.type == RAFT_MSG_APPEND_RESP && m.from == 2) {
            assert_false(m.reject);
            assert_int_equal(m.index, idx);
        }
    }
    fx_free(&f);
}

static void test_crashed_follower_loses_unpersisted_entries_only(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 3);
    fx_elect(&f, 1);
    uint64_t a = fx_propose(&f, 1, "a");
    fx_deliver_all(&f);
    f.nodes[2].auto_persist = false;
    fx_propose(&f, 1, "b");
    fx_deliver_all(&f);
    assert_int_equal(raft_last_index(fx_raft(&f, 2)), a + 1);
    fx_crash(&f, 2);
    fx_restart(&f, 2);
    f.nodes[2].auto_persist = true;
    assert_int_equal(raft_last_index(fx_raft(&f, 2)), a);
    fx_run(&f, 3);
    assert_logs_equal(&f, 1, 2);
    fx_free(&f);
}

static void test_batch_of_proposals_is_one_persist_and_one_append(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 3);
    fx_elect(&f, 1);
    struct bytes_view blocks[100];
    char text[100][16];
    for (int i = 0; i < 100; i++) {
        snprintf(text[i], sizeof(text[i]), "b%d", i);
        blocks[i] = bytes_view_of(text[i], strlen(text[i]));
    }
    uint64_t calls[4];
    for (uint64_t id = 1; id <= 3; id++)
        calls[id] = f.nodes[id].persist_calls;
    size_t appends = f.sent_count[RAFT_MSG_APPEND];
    struct raft_update u;
    uint64_t first = 0;
    assert_int_equal(raft_propose(fx_raft(&f, 1), blocks, 100, &first, &u), TC_OK);
    assert_int_equal(u.entry_count, 100);
    assert_int_equal(u.entries[0].index, first);
    fx_handle(&f, 1, &u);
    assert_int_equal(f.sent_count[RAFT_MSG_APPEND] - appends, 2);
    assert_int_equal(f.nodes[1].persist_calls - calls[1], 1);
    while (fx_queued(&f, RAFT_MSG_APPEND, 1, 0))
        fx_deliver_one(&f);
    for (uint64_t id = 2; id <= 3; id++) {
        assert_int_equal(f.nodes[id].persist_calls - calls[id], 1);
        assert_int_equal(raft_last_index(fx_raft(&f, id)), first + 99);
    }
    fx_deliver_all(&f);
    assert_int_equal(raft_commit_index(fx_raft(&f, 1)), first + 99);
    const struct raft_entry *e = raft_entry_at(fx_raft(&f, 3), first + 42);
    assert_int_equal(e->len, 3);
    assert_memory_equal(e->data, "b42", 3);
    fx_free(&f);
}

static void test_fast_backoff_takes_rounds_per_term_not_per_entry(void **state)
{
    (void)state;
    uint64_t leader[200], follower[200];
    for (int i = 0; i < 200; i++) {
        leader[i] = i < 100 ? 1 : 3;
        follower[i] = i < 100 ? 1 : 2;
    }
    struct fx f;
    fx_init(&f, 3);
    fx_set_log(&f, 1, leader, 200, 3);
    fx_set_log(&f, 2, leader, 200, 3);
    fx_set_log(&f, 3, follower, 200, 3);
    fx_elect(&f, 1);
    fx_run(&f, 2);
    assert_logs_equal(&f, 1, 3);
    /* One rejection for the unknown no-op index, one to skip term 2. */
    assert_true(f.append_rejects <= 2);
    assert_int_equal(raft_commit_index(fx_raft(&f, 3)), 201);
    fx_free(&f);
}

static size_t queued_entries(struct fx *f, uint64_t to, size_t *bytes)
{
    size_t n = 0;
    *bytes = 0;
    struct raft_message m;
    for (size_t i = 0; i < f->qlen; i++) {
        fx_peek(f, i, &m);
        if (m.type != RAFT_MSG_APPEND || m.to != to)
            continue;
        n += m.entry_count;
        for (uint32_t k = 0; k < m.entry_count; k++)
            *bytes += m.entries[k].len;
    }
    return n;
}

static void test_inflight_window_bounds_entries(void **state)
{
    (void)state;
    struct raft_config cfg = fx_default_config();
    cfg.max_msg_entries = 2;
    cfg.max_inflight_entries = 8;
    struct fx f;
    fx_init_with(&f, 3, 0, cfg);
    fx_elect(&f, 1);
    struct bytes_view blocks[50];
    for (int i = 0; i < 50; i++)
        blocks[i] = bytes_view_of("e", 1);
    struct raft_update u;
    uint64_t first;
    assert_int_equal(raft_propose(fx_raft(&f, 1), blocks, 50, &first, &u), TC_OK);
    fx_handle(&f, 1, &u);
    size_t bytes;
    assert_int_equal(queued_entries(&f, 2, &bytes), 8);
    assert_int_equal(fx_queued(&f, RAFT_MSG_APPEND, 1, 2), 4);
    /* Whatever the interleaving, in flight never exceeds the window. */
    while (f.qlen) {
        fx_deliver_one(&f);
        size_t in_flight = raft_last_index(fx_raft(&f, 1)) > 0 ? queued_entries(&f, 2, &bytes) : 0;
        assert_true(in_flight <= 8);
    }
    assert_int_equal(raft_commit_index(fx_raft(&f, 1)), first + 49);
    assert_int_equal(raft_last_index(fx_raft(&f, 2)), first + 49);
    fx_free(&f);
}

static void test_inflight_window_bounds_bytes(void **state)
{
    (void)state;
    struct raft_config cfg = fx_default_config();
    cfg.max_inflight_bytes = 100;
    cfg.max_msg_bytes = 60;
    struct fx f;
    fx_init_with(&f, 3, 0, cfg);
    fx_elect(&f, 1);
    static const char thirty[] = "012345678901234567890123456789";
    struct bytes_view blocks[20];
    for (int i = 0; i < 20; i++)
        blocks[i] = bytes_view_of(thirty, 30);
    struct raft_update u;
    uint64_t first;
    assert_int_equal(raft_propose(fx_raft(&f, 1), blocks, 20, &first, &u), TC_OK);
    fx_handle(&f, 1, &u);
    size_t bytes;
    assert_int_equal(queued_entries(&f, 2, &bytes), 3);
    assert_int_equal(bytes, 90);
    assert_int_equal(fx_queued(&f, RAFT_MSG_APPEND, 1, 2), 2); /* 60 + 30 bytes */
    while (f.qlen) {
        fx_deliver_one(&f);
        queued_entries(&f, 2, &bytes);
        assert_true(bytes <= 100);
    }
    assert_int_equal(raft_commit_index(fx_raft(&f, 1)), first + 19);
    fx_free(&f);
}

static void test_follower_needing_compacted_entry_gets_snapshot(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 3);
    fx_elect(&f, 1);
    fx_crash(&f, 3);
    uint64_t last = 0;
    for (int i = 0; i < 20; i++)
        last = fx_propose(&f, 1, "s");
    fx_deliver_all(&f);
    assert_int_equal(raft_commit_index(fx_raft(&f, 1)), last);
    assert_int_equal(raft_compact(fx_raft(&f, 1), last + 1), TC_ERANGE);
    assert_int_equal(raft_compact(fx_raft(&f, 1), 15), TC_OK);
    assert_int_equal(raft_first_index(fx_raft(&f, 1)), 16);
    assert_null(raft_entry_at(fx_raft(&f, 1), 15));
    assert_int_equal(raft_term_at(fx_raft(&f, 1), 15), raft_term(fx_raft(&f, 1)));
    /* The log store would drop the same prefix. */
    fx_restart(&f, 3);
    size_t snaps = f.sent_count[RAFT_MSG_SNAPSHOT];
    fx_run(&f, 4);
    assert_int_equal(f.sent_count[RAFT_MSG_SNAPSHOT] - snaps, 1);
    assert_int_equal(f.nodes[3].disk.snap.index, 15);
    assert_int_equal(raft_first_index(fx_raft(&f, 3)), 16);
    assert_int_equal(raft_last_index(fx_raft(&f, 3)), last);
    assert_int_equal(raft_commit_index(fx_raft(&f, 3)), last);
    assert_int_equal(f.nodes[3].applied, last);
    assert_int_equal(raft_match_index(fx_raft(&f, 1), 3), last);
    /* And it survives a restart from its snapshot-based disk. */
    fx_crash(&f, 3);
    fx_restart(&f, 3);
    assert_int_equal(raft_last_index(fx_raft(&f, 3)), last);
    assert_int_equal(raft_term_at(fx_raft(&f, 3), 15), raft_term(fx_raft(&f, 1)));
    fx_free(&f);
}

static void test_transfer_catches_lagging_target_up_first(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 3);
    fx_elect(&f, 1);
    uint64_t term = raft_term(fx_raft(&f, 1));
    fx_cut(&f, 1, 3, true);
    uint64_t last = 0;
    for (int i = 0; i < 5; i++)
        last = fx_propose(&f, 1, "t");
    fx_deliver_all(&f);
    assert_int_equal(raft_commit_index(fx_raft(&f, 1)), last);
    assert_true(raft_last_index(fx_raft(&f, 3)) < last);
    fx_cut(&f, 1, 3, false);
    struct raft_update u;
    assert_int_equal(raft_transfer_leadership(fx_raft(&f, 1), 3, &u), TC_OK);
    fx_handle(&f, 1, &u);
    assert_int_equal(fx_queued(&f, RAFT_MSG_TIMEOUT_NOW, 0, 0), 0);
    assert_true(fx_queued(&f, RAFT_MSG_APPEND, 1, 3) > 0);
    struct bytes_view v = bytes_view_of("no", 2);
    assert_int_equal(raft_propose(fx_raft(&f, 1), &v, 1, NULL, &u), TC_EAGAIN);
    fx_deliver_all(&f);
    assert_int_equal(f.sent_count[RAFT_MSG_TIMEOUT_NOW], 1);
    assert_true(raft_is_leader(fx_raft(&f, 3)));
    assert_int_equal(raft_term(fx_raft(&f, 3)), term + 1);
    assert_int_equal(raft_role(fx_raft(&f, 1)), RAFT_FOLLOWER);
    assert_int_equal(raft_leader(fx_raft(&f, 1)), 3);
    assert_int_equal(raft_term_at(fx_raft(&f, 3), last), term);
    fx_free(&f);
}

static void test_transfer_to_up_to_date_target_is_immediate(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 3);
    fx_elect(&f, 1);
    struct raft_update u;
    assert_int_equal(raft_transfer_leadership(fx_raft(&f, 1), 1, &u), TC_EINVAL);
    assert_int_equal(raft_transfer_leadership(fx_raft(&f, 2), 3, &u), TC_ESTATE);
    assert_int_equal(raft_transfer_leadership(fx_raft(&f, 1), 2, &u), TC_OK);
    fx_handle(&f, 1, &u);
    assert_int_equal(fx_queued(&f, RAFT_MSG_TIMEOUT_NOW, 1, 2), 1);
    fx_deliver_all(&f);
    assert_int_equal(fx_leader(&f), 2);
    fx_free(&f);
}

static void test_transfer_abandoned_after_election_timeout(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 3);
    fx_elect(&f, 1);
    fx_isolate(&f, 3, true);
    fx_propose(&f, 1, "z");
    fx_deliver_all(&f);
    struct raft_update u;
    assert_int_equal(raft_transfer_leadership(fx_raft(&f, 1), 3, &u), TC_OK);
    fx_handle(&f, 1, &u);
    struct bytes_view v = bytes_view_of("w", 1);
    assert_int_equal(raft_propose(fx_raft(&f, 1), &v, 1, NULL, &u), TC_EAGAIN);
    for (uint32_t i = 0; i < f.cfg.election_ticks; i++) {
        fx_tick(&f, 1);
        fx_deliver_all(&f);
    }
    assert_true(raft_is_leader(fx_raft(&f, 1)));
    assert_int_equal(raft_propose(fx_raft(&f, 1), &v, 1, NULL, &u), TC_OK);
    fx_handle(&f, 1, &u);
    fx_free(&f);
}

static void test_lost_appends_are_resent_after_heartbeat(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 3);
    fx_elect(&f, 1);
    uint64_t idx = fx_propose(&f, 1, "lost-once");
    fx_drop_all(&f);
    assert_int_equal(raft_commit_index(fx_raft(&f, 1)), idx - 1);
    fx_run(&f, 3);
    assert_int_equal(raft_commit_index(fx_raft(&f, 1)), idx);
    assert_logs_equal(&f, 1, 2);
    assert_logs_equal(&f, 1, 3);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_figure7_divergent_logs_converge_to_leader),
        cmocka_unit_test(test_figure8_previous_term_entry_not_committed_by_count),
        cmocka_unit_test(test_figure8_bug_switch_commits_previous_term_unsafely),
        cmocka_unit_test(test_leader_counts_itself_only_after_persist),
        cmocka_unit_test(test_bug_switch_leader_counts_itself_before_persist),
        cmocka_unit_test(test_append_ack_sent_only_after_follower_persist),
        cmocka_unit_test(test_crashed_follower_loses_unpersisted_entries_only),
        cmocka_unit_test(test_batch_of_proposals_is_one_persist_and_one_append),
        cmocka_unit_test(test_fast_backoff_takes_rounds_per_term_not_per_entry),
        cmocka_unit_test(test_inflight_window_bounds_entries),
        cmocka_unit_test(test_inflight_window_bounds_bytes),
        cmocka_unit_test(test_follower_needing_compacted_entry_gets_snapshot),
        cmocka_unit_test(test_transfer_catches_lagging_target_up_first),
        cmocka_unit_test(test_transfer_to_up_to_date_target_is_immediate),
        cmocka_unit_test(test_transfer_abandoned_after_election_timeout),
        cmocka_unit_test(test_lost_appends_are_resent_after_heartbeat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
