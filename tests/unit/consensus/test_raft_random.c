/*
 * test_raft_random.c - seeded random runs of the fixture cluster with message
 * loss, duplication and reordering, crashes that lose unpersisted writes,
 * partitions, proposals, compaction, transfers and membership changes,
 * checking election safety, state-machine safety, leader completeness and
 * commit monotonicity after every step. The seed is printed; TC_SEED replays
 * (one run, or TC_RUNS runs from there).
 */
#include "raft_fixture.h"

#include "base/rng.h"

#define RUNS  60
#define STEPS 20000
#define TERMS 4096

static bool g_changes;

struct checker {
    uint64_t leader_of_term[TERMS];
    uint64_t commit[FX_MAX_NODES + 1];
    uint64_t boots[FX_MAX_NODES + 1];
    bool check_durable; /* no membership changes in this run */
};

static void check(struct fx *f, struct checker *c)
{
    uint64_t top = 0, top_term = 0;
    for (uint64_t id = 1; id <= f->n; id++) {
        struct fx_node *nd = &f->nodes[id];
        if (!nd->up)
            continue;
        struct raft *r = nd->r;
        uint64_t term = raft_term(r);
        assert_true(term < TERMS);
        if (raft_is_leader(r)) {
            /* Election safety: one leader per term. */
            if (c->leader_of_term[term] == 0)
                c->leader_of_term[term] = id;
            assert_int_equal(c->leader_of_term[term], id);
            if (term >= top_term) {
                top = id;
                top_term = term;
            }
        }
        /* Commit never goes backwards while a node is up. */
        if (c->boots[id] != nd->boots)
            c->commit[id] = 0;
        c->boots[id] = nd->boots;
        assert_true(raft_commit_index(r) >= c->commit[id]);
        c->commit[id] = raft_commit_index(r);
        /* What this node holds at applied indexes matches what was applied. */
        for (uint64_t i = raft_first_index(r); i <= nd->applied; i++)
            if (f->applied_term[i])
                assert_int_equal(raft_term_at(r, i), f->applied_term[i]);
    }
    /* Nothing is committed that a majority of voters has not persisted. */
    for (uint64_t id = 1; id <= f->n && c->check_durable; id++) {
        struct fx_node *nd = &f->nodes[id];
        if (!nd->up || !raft_is_leader(nd->r))
            continue;
        uint64_t ci = raft_commit_index(nd->r);
        uint64_t ct = raft_term_at(nd->r, ci);
        if (ci == 0 || ct == 0)
            continue;
        const struct raft_membership *m = raft_membership(nd->r);
        uint32_t voters = 0, durable = 0;
        for (uint32_t k = 0; k < m->count; k++) {
            if (m->members[k].role != RAFT_VOTER)
                continue;
            voters++;
            const struct fx_disk *d = &f->nodes[m->members[k].id].disk;
            if (ci <= d->snap.index ||
                (ci - d->snap.index <= d->count && d->log[ci - d->snap.index - 1].term == ct))
                durable++;
        }
        assert_true(durable >= voters / 2 + 1);
    }
    /* Leader completeness: the newest leader holds every applied entry. */
    if (top) {
        struct raft *r = f->nodes[top].r;
        for (uint64_t i = raft_first_index(r); i <= f->max_applied; i++)
            assert_int_equal(raft_term_at(r, i), f->applied_term[i]);
    }
}

static void random_step(struct fx *f, struct rng *g)
{
    uint64_t id = 1 + rng_below(g, f->n);
    struct fx_node *nd = &f->nodes[id];
    uint64_t roll = rng_below(g, 1000);
    if (roll < 450) {
        if (f->qlen) {
            size_t k = rng_below(g, 4) == 0 ? rng_below(g, f->qlen) : 0;
            fx_deliver_at(f, k, rng_below(g, 50) == 0);
        }
    } else if (roll < 470) {
        if (f->qlen)
            fx_deliver_at(f, rng_below(g, f->qlen), false), (void)0;
    } else if (roll < 490) {
        if (f->qlen) {
            /* Drop one message. */
            size_t k = rng_below(g, f->qlen);
            struct fx_msg q = f->queue[(f->qhead + k) % FX_MAX_QUEUE];
            for (size_t i = k; i + 1 < f->qlen; i++)
                f->queue[(f->qhead + i) % FX_MAX_QUEUE] =
                    f->queue[(f->qhead + i + 1) % FX_MAX_QUEUE];
            f->qlen--;
            free(q.buf);
        }
    } else if (roll < 700) {
        fx_tick(f, id);
    } else if (roll < 800) {
        if (nd->up && raft_is_leader(nd->r)) {
            char text[32];
            size_t n = 1 + rng_below(g, 3);
            struct bytes_view v[3];
            snprintf(text, sizeof(text), "blk-%llu", (unsigned long long)rng_next(g));
            for (size_t i = 0; i < n; i++)
                v[i] = bytes_view_of(text, strlen(text));
            struct raft_update u;
            int rc = raft_propose(nd->r, v, n, NULL, &u);
            assert_true(rc == TC_OK || rc == TC_EAGAIN);
            fx_handle(f, id, &u);
        }
    } else if (roll < 850) {
        if (nd->up && nd->npending)
            fx_persist(f, id);
    } else if (roll < 860) {
        if (nd->up) {
            fx_crash(f, id);
        } else {
            fx_restart(f, id);
        }
    } else if (roll < 870) {
        if (!nd->up)
            fx_restart(f, id);
    } else if (roll < 880) {
        uint64_t other = 1 + rng_below(g, f->n);
        if (other != id)
            fx_cut(f, id, other, !f->cut[id][other]);
    } else if (roll < 890) {
        for (uint64_t a = 1; a <= f->n; a++)
            for (uint64_t b = 1; b <= f->n; b++)
                f->cut[a][b] = false;
    } else if (roll < 900) {
        nd->auto_persist = !nd->auto_persist;
        if (nd->up && nd->auto_persist)
            fx_persist(f, id);
    } else if (roll < 910) {
        if (nd->up && nd->applied > raft_first_index(nd->r) + 3 &&
            raft_persisted_index(nd->r) >= nd->applied - 2) {
            uint64_t to = nd->applied - 2;
            assert_int_equal(raft_compact(nd->r, to), TC_OK);
            /* The disk keeps its log; a real store would also drop the prefix. */
        }
    } else if (roll < 915) {
        if (nd->up && raft_is_leader(nd->r)) {
            struct raft_update u;
            uint64_t to = 1 + rng_below(g, f->n);
            int rc = raft_transfer_leadership(nd->r, to, &u);
            assert_true(rc == TC_OK || rc == TC_EINVAL);
            fx_handle(f, id, &u);
        }
    } else if (roll < 925) {
        if (nd->up && raft_is_leader(nd->r) && g_changes) {
            struct raft_update u;
            uint64_t who = 1 + rng_below(g, f->n);
            enum raft_change ch = (enum raft_change)(1 + rng_below(g, 4));
            int rc = raft_change_membership(nd->r, ch, who, &u);
            assert_true(rc == TC_OK || rc == TC_EAGAIN || rc == TC_EINVAL);
            fx_handle(f, id, &u);
        }
    } else if (roll < 935) {
        if (nd->up && raft_is_leader(nd->r)) {
            struct raft_update u;
            int rc = raft_read_index(nd->r, rng_next(g), &u);
            assert_true(rc == TC_OK || rc == TC_EAGAIN);
            fx_handle(f, id, &u);
        }
    } else {
        if (nd->up)
            fx_install(f, id);
    }
}

static void run_one(uint64_t seed, size_t voters, size_t others)
{
    struct rng g;
    rng_seed(&g, seed);
    struct raft_config cfg = fx_default_config();
    cfg.seed = seed;
    cfg.max_msg_entries = 1 + (uint32_t)rng_below(&g, 8);
    cfg.max_inflight_entries = 1 + (uint32_t)rng_below(&g, 32);
    const char *bugs = getenv("TC_RAFT_BUGS");
    if (bugs)
        cfg.test_bugs = (uint32_t)strtoul(bugs, NULL, 0);
    static struct fx f;
    fx_init_with(&f, voters, others, cfg);
    for (uint64_t id = 1; id <= f.n; id++) {
        f.nodes[id].auto_persist = rng_below(&g, 2);
        f.nodes[id].auto_install = true;
    }
    static struct checker c;
    memset(&c, 0, sizeof(c));
    g_changes = seed % 4 != 0;
    c.check_durable = !g_changes;
    for (int s = 0; s < STEPS; s++) {
        random_step(&f, &g);
        check(&f, &c);
        if (f.qlen > FX_MAX_QUEUE - 512)
            fx_drop_all(&f);
    }
    /* Heal and settle: someone must lead and commit. */
    for (uint64_t a = 1; a <= f.n; a++) {
        for (uint64_t b = 1; b <= f.n; b++)
            f.cut[a][b] = false;
        if (!f.nodes[a].up)
            fx_restart(&f, a);
        f.nodes[a].auto_persist = true;
        fx_persist(&f, a);
    }
    for (int i = 0; i < 300 && (fx_leader(&f) == 0 || f.qlen); i++) {
        fx_tick_all(&f);
        fx_deliver_all(&f);
        check(&f, &c);
    }
    uint64_t leader = fx_leader(&f);
    if (!leader) {
        for (uint64_t id = 1; id <= f.n; id++) {
            struct raft *r = f.nodes[id].r;
            const struct raft_membership *m = raft_membership(r);
            printf("node %llu role %d term %llu last %llu/%llu commit %llu conf:",
                   (unsigned long long)id, raft_role(r), (unsigned long long)raft_term(r),
                   (unsigned long long)raft_last_index(r), (unsigned long long)raft_last_term(r),
                   (unsigned long long)raft_commit_index(r));
            for (uint32_t i = 0; i < m->count; i++)
                printf(" %llu/%d", (unsigned long long)m->members[i].id, m->members[i].role);
            printf("\n");
        }
    }
    assert_true(leader != 0);
    printf("  applied up to %llu, leader %llu term %llu\n", (unsigned long long)f.max_applied,
           (unsigned long long)leader, (unsigned long long)raft_term(fx_raft(&f, leader)));
    fx_free(&f);
}

static void test_random_runs_keep_raft_invariants(void **state)
{
    (void)state;
    uint64_t seed = 1;
    const char *env = getenv("TC_SEED");
    if (env)
        seed = strtoull(env, NULL, 0);
    int runs = env ? 1 : RUNS;
    const char *runs_env = getenv("TC_RUNS");
    if (runs_env)
        runs = atoi(runs_env);
    for (int i = 0; i < runs; i++) {
        uint64_t s = seed + (uint64_t)i;
        printf("raft random: seed %llu (TC_SEED=%llu replays)\n", (unsigned long long)s,
               (unsigned long long)s);
        fflush(stdout);
        run_one(s, 3 + (size_t)(s % 3), s % 2);
    }
}

/* Random, well-formed but arbitrary messages (forged terms, indexes, hints,
 * entries) against one core: every handler must cope without crashing or
 * tripping an assertion, whatever the sequence. */
static void test_forged_messages_never_break_the_core(void **state)
{
    (void)state;
    uint64_t seed = 7;
    const char *env = getenv("TC_SEED");
    if (env)
        seed = strtoull(env, NULL, 0);
    printf("raft forged: seed %llu\n", (unsigned long long)seed);
    struct rng g;
    rng_seed(&g, seed);
    struct raft_boot boot;
    memset(&boot, 0, sizeof(boot));
    boot.snapshot.membership = fx_voters(3);
    struct raft_config cfg = fx_default_config();
    cfg.id = 1;
    struct raft *r;
    assert_int_equal(raft_create(&cfg, &boot, &r), TC_OK);
    uint8_t conf[RAFT_MEMBERSHIP_MAX_BYTES];
    size_t conf_len;
    struct raft_membership two = fx_voters(2);
    assert_int_equal(raft_membership_encode(&two, conf, sizeof(conf), &conf_len), TC_OK);
    uint64_t seq = 0;
    size_t led = 0;
    for (int step = 0; step < 200000; step++) {
        struct raft_update u;
        memset(&u, 0, sizeof(u));
        led += raft_is_leader(r);
        uint64_t roll = rng_below(&g, 100);
        if (roll < 10) {
            assert_int_equal(raft_tick(r, &u), TC_OK);
        } else if (roll < 20) {
            if (seq)
                assert_int_equal(raft_persisted(r, rng_range(&g, 1, seq), &u), TC_OK);
        } else if (roll < 25) {
            struct bytes_view v = bytes_view_of("p", 1);
            raft_propose(r, &v, 1, NULL, &u);
        } else if (roll < 27) {
            raft_read_index(r, rng_next(&g), &u);
        } else if (roll < 29) {
            raft_change_membership(r, (enum raft_change)rng_range(&g, 1, 4), rng_range(&g, 1, 4),
                                   &u);
        } else if (roll < 30) {
            raft_transfer_leadership(r, rng_range(&g, 1, 4), &u);
        } else if (roll < 31) {
            raft_compact(r, rng_below(&g, raft_applied_index(r) + 2));
            continue;
        } else if (roll < 32) {
            struct raft_snapshot_meta meta;
            memset(&meta, 0, sizeof(meta));
            meta.index = rng_below(&g, 40);
            meta.term = rng_range(&g, 1, raft_term(r) + 1);
            meta.membership = fx_voters(3);
            raft_snapshot_installed(r, &meta, &u);
        } else {
            struct raft_message m;
            memset(&m, 0, sizeof(m));
            struct raft_entry ents[4];
            uint64_t term = raft_term(r);
            m.type = (uint8_t)rng_range(&g, 1, RAFT_MSG_TYPE_MAX);
            m.from = rng_range(&g, 2, 4);
            m.to = 1;
            uint64_t t_roll = rng_below(&g, 10);
            m.term = t_roll == 0 ? term + 1 : (t_roll == 1 && term > 0) ? term - 1 : term;
            m.index = rng_below(&g, 40);
            m.log_term = rng_below(&g, m.term + 1);
            m.commit = rng_below(&g, 40);
            m.context = rng_below(&g, 10);
            m.hint_term = rng_below(&g, m.term + 1);
            m.hint_index = rng_below(&g, 40);
            m.reject = rng_below(&g, 2);
            m.transfer = rng_below(&g, 4) == 0;
            enum raft_role role = raft_role(r);
            if (rng_below(&g, 3) == 0 && (role == RAFT_PRECANDIDATE || role == RAFT_CANDIDATE)) {
                /* A genuine grant, so that the core also gets to lead. */
                bool pre = role == RAFT_PRECANDIDATE;
                m.type = pre ? RAFT_MSG_PREVOTE_RESP : RAFT_MSG_VOTE_RESP;
                m.term = pre ? term + 1 : term;
                m.reject = false;
            }
            if (m.type == RAFT_MSG_APPEND) {
                uint32_t n = (uint32_t)rng_below(&g, 5);
                uint64_t t = m.log_term;
                for (uint32_t i = 0; i < n; i++) {
                    t += rng_below(&g, 2);
                    if (t > m.term)
                        t = m.term;
                    if (t == 0)
                        t = 1;
                    bool cfg_entry = rng_below(&g, 10) == 0;
                    ents[i].term = t;
                    ents[i].index = m.index + 1 + i;
                    ents[i].type = cfg_entry ? RAFT_ENTRY_CONFIG : RAFT_ENTRY_BLOCK;
                    ents[i].data = cfg_entry ? conf : (const uint8_t *)"x";
                    ents[i].len = cfg_entry ? (uint32_t)conf_len : 1;
                }
                m.entries = ents;
                m.entry_count = n;
            }
            if (m.type == RAFT_MSG_SNAPSHOT) {
                m.snapshot.index = rng_below(&g, 40);
                m.snapshot.term = rng_range(&g, 1, m.term ? m.term : 1);
                m.snapshot.membership = fx_voters(3);
            }
            int rc = raft_receive(r, &m, &u);
            assert_true(rc == TC_OK || rc == TC_EINVAL);
        }
        if (u.persist_seq)
            seq = u.persist_seq;
        assert_true(raft_commit_index(r) <= raft_last_index(r) ||
                    raft_commit_index(r) == raft_first_index(r) - 1);
    }
    printf("raft forged: led in %zu of 200000 steps\n", led);
    raft_destroy(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_runs_keep_raft_invariants),
        cmocka_unit_test(test_forged_messages_never_break_the_core),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
