/*
 * test_sim.c - unit tests of raft-sim's own machinery: the event queue, the
 * option parsers, the replay line, determinism of a run, and that the
 * checker both passes the real core and catches a planted bug.
 * The runs' base seed is printed and can be overridden with TC_SEED.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/error.h"
#include "sim_internal.h"

static uint64_t base_seed = 1;

static void test_queue_orders_by_time_then_push_order(void **state)
{
    (void)state;
    struct sim_queue q;
    sim_queue_init(&q, 1000);
    static const uint64_t times[] = { 50, 10, 30, 10, 50, 0, 30, 10 };
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        struct sim_event ev = { 0 };
        ev.time_us = times[i];
        ev.arg = i;
        assert_int_equal(sim_queue_push(&q, &ev), TC_OK);
    }
    static const uint64_t want[] = { 5, 1, 3, 7, 2, 6, 0, 4 };
    struct sim_event ev;
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        assert_true(sim_queue_pop(&q, &ev));
        assert_int_equal(ev.arg, want[i]);
    }
    assert_false(sim_queue_pop(&q, &ev));
    sim_queue_free(&q);
}

static void test_queue_refuses_push_beyond_bound(void **state)
{
    (void)state;
    struct sim_queue q;
    sim_queue_init(&q, 3);
    struct sim_event ev = { 0 };
    for (int i = 0; i < 3; i++)
        assert_int_equal(sim_queue_push(&q, &ev), TC_OK);
    assert_int_equal(sim_queue_push(&q, &ev), TC_EFULL);
    sim_queue_free(&q);
}

static void test_fault_spec_parses_and_formats_canonically(void **state)
{
    (void)state;
    uint32_t m = 0;
    char buf[128];
    assert_int_equal(sim_parse_faults("all", &m), TC_OK);
    assert_int_equal(m, SIM_FAULT_ALL);
    assert_int_equal(sim_parse_faults("none", &m), TC_OK);
    assert_int_equal(m, 0);
    assert_int_equal(sim_parse_faults("crash,loss", &m), TC_OK);
    assert_int_equal(m, SIM_FAULT_CRASH | SIM_FAULT_LOSS);
    sim_format_faults(m, buf, sizeof(buf));
    assert_string_equal(buf, "loss,crash");
    assert_int_equal(sim_parse_faults(buf, &m), TC_OK);
    assert_int_equal(m, SIM_FAULT_CRASH | SIM_FAULT_LOSS);
    sim_format_faults(SIM_FAULT_ALL, buf, sizeof(buf));
    assert_string_equal(buf, "all");
    assert_int_equal(sim_parse_faults("crash,,loss", &m), TC_EINVAL);
    assert_int_equal(sim_parse_faults("crash,lost", &m), TC_EINVAL);
    assert_int_equal(sim_parse_faults("", &m), TC_EINVAL);
}

static void test_bug_names_map_to_core_switches(void **state)
{
    (void)state;
    uint32_t bug = 0;
    assert_int_equal(sim_parse_bug("leader-counts-self-before-persist", &bug), TC_OK);
    assert_int_equal(bug, RAFT_BUG_LEADER_COUNTS_SELF_BEFORE_PERSIST);
    assert_int_equal(sim_parse_bug("commit-prev-term-by-count", &bug), TC_OK);
    assert_int_equal(bug, RAFT_BUG_COMMIT_PREV_TERM_BY_COUNT);
    assert_string_equal(sim_bug_name(bug), "commit-prev-term-by-count");
    assert_int_equal(sim_parse_bug("no-such-bug", &bug), TC_EINVAL);
}

static void test_replay_line_names_every_option(void **state)
{
    (void)state;
    struct sim_options o;
    sim_options_default(&o);
    o.program = "./raft-sim";
    o.nodes = 5;
    o.seed = 77;
    o.events = 1234;
    o.faults = SIM_FAULT_PARTITION | SIM_FAULT_SLOWDISK;
    o.test_bugs = RAFT_BUG_LEADER_COUNTS_SELF_BEFORE_PERSIST;
    o.max_msg_entries = 1;
    o.skip_commit_rule = true;
    char buf[512];
    sim_format_replay(&o, buf, sizeof(buf));
    assert_string_equal(buf, "./raft-sim --nodes 5 --seed 77 --events 1234 --faults "
                             "partition,slowdisk --plant-bug leader-counts-self-before-persist "
                             "--max-msg-entries 1 --skip-check commit-current-term");
}

static void test_bad_options_are_refused(void **state)
{
    (void)state;
    struct sim_options o;
    struct sim_result res;
    sim_options_default(&o);
    o.nodes = 0;
    assert_int_equal(sim_run(&o, &res, NULL), TC_EINVAL);
    o.nodes = SIM_MAX_VOTERS + 1;
    assert_int_equal(sim_run(&o, &res, NULL), TC_EINVAL);
    o.nodes = 3;
    o.test_bugs = 1u << 30;
    assert_int_equal(sim_run(&o, &res, NULL), TC_EINVAL);
}

static void test_same_seed_replays_the_same_run(void **state)
{
    (void)state;
    struct sim_options o;
    sim_options_default(&o);
    o.nodes = 5;
    o.seed = base_seed;
    o.events = 3000;
    struct sim_result a, b;
    assert_int_equal(sim_run(&o, &a, stdout), TC_OK);
    assert_int_equal(sim_run(&o, &b, stdout), TC_OK);
    assert_false(a.violated);
    assert_memory_equal(&a.stats, &b.stats, sizeof(a.stats));
    o.seed = base_seed + 1;
    assert_int_equal(sim_run(&o, &b, stdout), TC_OK);
    assert_false(b.violated);
    assert_true(a.stats.virtual_us != b.stats.virtual_us || a.stats.messages != b.stats.messages);
}

static void test_correct_core_passes_with_every_fault(void **state)
{
    (void)state;
    static const uint32_t counts[] = { 1, 3, 4, 5, 7 };
    for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
        struct sim_options o;
        sim_options_default(&o);
        o.nodes = counts[i];
        o.seed = base_seed + i;
        o.events = 3000;
        struct sim_result res;
        assert_int_equal(sim_run(&o, &res, stdout), TC_OK);
        assert_false(res.violated);
        assert_true(res.stats.committed > 0);
        assert_true(res.stats.heals >= 1);
    }
}

static void test_planted_persist_bug_is_caught_on_one_node(void **state)
{
    (void)state;
    /* A lone leader that counts its own unwritten log commits its first
     * entry before any disk holds it. */
    struct sim_options o;
    sim_options_default(&o);
    o.nodes = 1;
    o.seed = base_seed;
    o.faults = 0;
    o.test_bugs = RAFT_BUG_LEADER_COUNTS_SELF_BEFORE_PERSIST;
    struct sim_result res;
    assert_int_equal(sim_run(&o, &res, NULL), TC_OK);
    assert_true(res.violated);
    assert_string_equal(res.invariant, "majority-durable");
}

/* ---- the checker fires on crafted histories ---- */

struct fixture {
    struct sim s;
    struct sim_result res;
};

static struct fixture *fixture_new(uint32_t slots)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->s.res = &f->res;
    f->s.nslots = slots;
    for (uint32_t i = 0; i < slots; i++)
        f->s.nodes[i].id = i + 1;
    return f;
}

static void fixture_free(struct fixture *f)
{
    for (uint32_t i = 0; i < f->s.nslots; i++)
        raft_destroy(f->s.nodes[i].r);
    sim_check_free(&f->s);
    free(f);
}

/* A core alone in its own one-voter cluster; made leader of term 1 when
 * lead is true (its persists acknowledged at once). */
static struct raft *lone_core(uint64_t id, bool lead)
{
    struct raft_config cfg = { 0 };
    cfg.id = id;
    cfg.election_ticks = 4;
    cfg.heartbeat_ticks = 1;
    cfg.seed = id;
    struct raft_boot boot;
    memset(&boot, 0, sizeof(boot));
    boot.snapshot.membership.count = 1;
    boot.snapshot.membership.members[0].id = id;
    boot.snapshot.membership.members[0].role = RAFT_VOTER;
    struct raft *r = NULL;
    assert_int_equal(raft_create(&cfg, &boot, &r), TC_OK);
    struct raft_update u;
    for (int i = 0; i < 100 && lead && !raft_is_leader(r); i++) {
        assert_int_equal(raft_tick(r, &u), TC_OK);
        while (u.persist_seq)
            assert_int_equal(raft_persisted(r, u.persist_seq, &u), TC_OK);
    }
    assert_true(raft_is_leader(r) == lead);
    return r;
}

static void test_checker_flags_two_leaders_in_one_term(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(2);
    for (uint32_t i = 0; i < 2; i++) {
        struct sim_node *n = &f->s.nodes[i];
        n->r = lone_core(i + 1, true);
        n->up = true;
        /* Their commits are not what this test is about. */
        n->commit = n->checked_commit = raft_commit_index(n->r);
    }
    assert_int_equal(raft_term(f->s.nodes[0].r), raft_term(f->s.nodes[1].r));
    sim_check_node(&f->s, &f->s.nodes[0]);
    assert_false(f->res.violated);
    sim_check_node(&f->s, &f->s.nodes[1]);
    assert_true(f->res.violated);
    assert_string_equal(f->res.invariant, "election-safety");
    fixture_free(f);
}

static void test_checker_flags_conflicting_entries_at_one_index_and_term(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(2);
    for (uint32_t i = 0; i < 2; i++)
        f->s.nodes[i].r = lone_core(i + 1, false);
    struct raft_entry a = { 3, 1, RAFT_ENTRY_BLOCK, (const uint8_t *)"aa", 2 };
    struct raft_entry b = { 3, 1, RAFT_ENTRY_BLOCK, (const uint8_t *)"bb", 2 };
    struct raft_update u;
    memset(&u, 0, sizeof(u));
    u.persist_seq = 1;
    u.entries = &a;
    u.entry_count = 1;
    sim_check_persist(&f->s, &f->s.nodes[0], &u);
    sim_check_persist(&f->s, &f->s.nodes[1], &u);
    assert_false(f->res.violated);
    u.entries = &b;
    sim_check_persist(&f->s, &f->s.nodes[1], &u);
    assert_true(f->res.violated);
    assert_string_equal(f->res.invariant, "log-matching");
    fixture_free(f);
}

static void test_checker_flags_applying_other_than_the_committed_entry(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(1);
    f->s.nodes[0].r = lone_core(1, false);
    f->s.commits = calloc(4, sizeof(*f->s.commits));
    assert_non_null(f->s.commits);
    f->s.commits_cap = 4;
    f->s.commit_max = 1;
    f->s.commits[1].term = 2;
    f->s.commits[1].type = RAFT_ENTRY_BLOCK;
    f->s.commits[1].hash = sim_hash_entry(RAFT_ENTRY_BLOCK, (const uint8_t *)"x", 1);
    struct raft_entry e = { 2, 1, RAFT_ENTRY_BLOCK, (const uint8_t *)"y", 1 };
    sim_check_apply(&f->s, &f->s.nodes[0], &e);
    assert_true(f->res.violated);
    assert_string_equal(f->res.invariant, "state-machine-safety");
    fixture_free(f);
}

static void test_checker_flags_leader_missing_a_committed_entry(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(1);
    f->s.nodes[0].r = lone_core(1, true);
    f->s.nodes[0].up = true;
    /* Index 1 committed in term 0 with a term the leader does not hold there. */
    f->s.commits = calloc(4, sizeof(*f->s.commits));
    assert_non_null(f->s.commits);
    f->s.commits_cap = 4;
    f->s.commit_max = 1;
    f->s.commits[1].term = 7;
    f->s.commits[1].in_term = 0;
    sim_check_new_leader(&f->s, &f->s.nodes[0]);
    assert_true(f->res.violated);
    assert_string_equal(f->res.invariant, "leader-completeness");
    fixture_free(f);
}

int main(void)
{
    const char *env = getenv("TC_SEED");
    if (env && *env)
        base_seed = strtoull(env, NULL, 0);
    printf("test_sim: base seed %llu (override with TC_SEED)\n", (unsigned long long)base_seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queue_orders_by_time_then_push_order),
        cmocka_unit_test(test_queue_refuses_push_beyond_bound),
        cmocka_unit_test(test_fault_spec_parses_and_formats_canonically),
        cmocka_unit_test(test_bug_names_map_to_core_switches),
        cmocka_unit_test(test_replay_line_names_every_option),
        cmocka_unit_test(test_bad_options_are_refused),
        cmocka_unit_test(test_same_seed_replays_the_same_run),
        cmocka_unit_test(test_correct_core_passes_with_every_fault),
        cmocka_unit_test(test_planted_persist_bug_is_caught_on_one_node),
        cmocka_unit_test(test_checker_flags_two_leaders_in_one_term),
        cmocka_unit_test(test_checker_flags_conflicting_entries_at_one_index_and_term),
        cmocka_unit_test(test_checker_flags_applying_other_than_the_committed_entry),
        cmocka_unit_test(test_checker_flags_leader_missing_a_committed_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
