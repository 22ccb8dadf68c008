/*
 * sim_trace.c - raft-sim's reporting: the first violation, the ring of trace
 * records (what happened, with the node's state after it), and the failure
 * report: invariant, seed, replay command, last records, cluster state.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "sim_internal.h"

/* ---- violations and the trace ---- */

void sim_violation(struct sim *s, const char *invariant, const char *fmt, ...)
{
    s->stop = true;
    if (s->res->violated)
        return;
    s->res->violated = true;
    snprintf(s->res->invariant, sizeof(s->res->invariant), "%s", invariant);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->res->detail, sizeof(s->res->detail), fmt, ap);
    va_end(ap);
}

struct sim_trace_rec *sim_trace(struct sim *s, uint8_t kind, const struct sim_node *n)
{
    struct sim_trace_rec *t = &s->trace[s->trace_len++ % SIM_TRACE_RING];
    memset(t, 0, sizeof(*t));
    t->time_us = s->now_us;
    t->kind = kind;
    t->node = n ? (uint8_t)(n->id - 1) : UINT8_MAX;
    if (n && n->up) {
        t->role = (uint8_t)raft_role(n->r);
        t->term = raft_term(n->r);
        t->last = raft_last_index(n->r);
        t->commit = raft_commit_index(n->r);
    } else {
        t->role = UINT8_MAX;
    }
    return t;
}

const char *sim_msg_name(uint8_t type)
{
    static const char *names[] = { "?",         "PREVOTE",  "PREVOTE_RESP", "VOTE",
                                   "VOTE_RESP", "APPEND",   "APPEND_RESP",  "HEARTBEAT",
                                   "HB_RESP",   "SNAPSHOT", "TIMEOUT_NOW" };
    return type <= RAFT_MSG_TYPE_MAX ? names[type] : "?";
}

static const char *role_name(uint8_t role)
{
    switch (role) {
    case RAFT_FOLLOWER:
        return "follower";
    case RAFT_PRECANDIDATE:
        return "precandidate";
    case RAFT_CANDIDATE:
        return "candidate";
    case RAFT_LEADER:
        return "LEADER";
    default:
        return "down";
    }
}

static void print_msg(FILE *out, const struct sim_trace_rec *t)
{
    fprintf(out, "%s %s n%" PRIu64 "->n%" PRIu64 " t%" PRIu64 " ",
            t->kind == TR_DROP ? "DROPPED" : "recv", sim_msg_name(t->msg_type), t->a, t->b, t->c);
    switch (t->msg_type) {
    case RAFT_MSG_PREVOTE:
    case RAFT_MSG_VOTE:
        fprintf(out, "last %" PRIu64 " (t%" PRIu64 ")%s", t->d, t->e, t->flag ? " transfer" : "");
        break;
    case RAFT_MSG_PREVOTE_RESP:
    case RAFT_MSG_VOTE_RESP:
        fprintf(out, "%s", t->flag ? "REJECT" : "granted");
        break;
    case RAFT_MSG_APPEND:
        fprintf(out, "prev %" PRIu64 " (t%" PRIu64 ") entries %" PRIu32 " commit %" PRIu64, t->d,
                t->e, t->count, t->f);
        break;
    case RAFT_MSG_APPEND_RESP:
        if (t->flag)
            fprintf(out, "REJECT prev %" PRIu64 " hint t%" PRIu64 " at %" PRIu64, t->d, t->e, t->f);
        else
            fprintf(out, "match %" PRIu64, t->d);
        break;
    case RAFT_MSG_HEARTBEAT:
        fprintf(out, "commit %" PRIu64 " ctx %" PRIu64, t->e, t->f);
        break;
    case RAFT_MSG_HEARTBEAT_RESP:
        fprintf(out, "ctx %" PRIu64, t->f);
        break;
    case RAFT_MSG_SNAPSHOT:
        fprintf(out, "snapshot %" PRIu64 " (t%" PRIu64 ")", t->d, t->e);
        break;
    default:
        break;
    }
}

void sim_print_rec(FILE *out, const struct sim_trace_rec *t)
{
    unsigned node = t->node == UINT8_MAX ? 0 : t->node + 1u;
    fprintf(out, "  %11.3fms ", (double)t->time_us / 1000.0);
    if (node)
        fprintf(out, "n%u ", node);
    else
        fprintf(out, "-- ");
    switch (t->kind) {
    case TR_TICK:
        fprintf(out, "tick");
        break;
    case TR_DELIVER:
    case TR_DROP:
        print_msg(out, t);
        break;
    case TR_PERSISTED:
        fprintf(out, "disk write done: persisted seq %" PRIu64 " (disk last %" PRIu64 ")", t->a,
                t->b);
        break;
    case TR_PROPOSE:
        fprintf(out, "propose %" PRIu64 " block(s) -> rc %d first %" PRIu64, t->a,
                (int)(int64_t)t->b, t->c);
        break;
    case TR_READ:
        fprintf(out, "read_index ctx %" PRIu64 " -> rc %d (committed so far %" PRIu64 ")", t->a,
                (int)(int64_t)t->b, t->c);
        break;
    case TR_READ_DONE:
        fprintf(out, "read ctx %" PRIu64 " %s at index %" PRIu64 " (needed >= %" PRIu64 ")", t->a,
                t->flag ? "confirmed" : "failed", t->b, t->c);
        break;
    case TR_CONFIG:
        fprintf(out, "membership change %s n%" PRIu64 " -> rc %d",
                t->a == RAFT_ADD_VOTER     ? "add-voter"
                : t->a == RAFT_ADD_LEARNER ? "add-learner"
                : t->a == RAFT_PROMOTE     ? "promote"
                                           : "remove",
                t->b, (int)(int64_t)t->c);
        break;
    case TR_TRANSFER:
        fprintf(out, "transfer leadership to n%" PRIu64 " -> rc %d", t->a, (int)(int64_t)t->b);
        break;
    case TR_COMPACT:
        fprintf(out, "compact to %" PRIu64, t->a);
        break;
    case TR_CRASH:
        fprintf(out,
                "CRASH (%" PRIu64 " of %" PRIu64 " unreported writes kept; disk last %" PRIu64
                ", term %" PRIu64 ")",
                t->a, t->b, t->c, t->d);
        break;
    case TR_RESTART:
        fprintf(out, "restart (disk last %" PRIu64 ", applied %" PRIu64 ", term %" PRIu64 ")", t->a,
                t->b, t->c);
        break;
    case TR_PARTITION:
        if (t->a == 0) {
            fprintf(out, "partition healed");
        } else if (t->a == 1) {
            fprintf(out, "partition: n%" PRIu64 " isolated", t->b);
        } else if (t->a == 2) {
            fprintf(out, "partition: split {");
            for (unsigned i = 0; i < SIM_MAX_SLOTS; i++)
                if ((t->b >> i) & 1)
                    fprintf(out, " n%u", i + 1);
            fprintf(out, " } from the rest");
        } else {
            fprintf(out, "partition: %" PRIu64 " links blocked one way", t->c);
        }
        break;
    case TR_HEAL:
        fprintf(out, "HEAL everything (liveness check %" PRIu64 ")", t->a);
        break;
    case TR_SLOWDISK:
        fprintf(out, "disk %s", t->a ? "slow" : "fast");
        break;
    case TR_SNAPSHOT:
        fprintf(out, "snapshot %" PRIu64 " (term %" PRIu64 ") from n%" PRIu64 " %s", t->a, t->b,
                t->c, t->flag ? "installed" : "fetch failed");
        break;
    case TR_MARKER:
        fprintf(out, "liveness proposal at index %" PRIu64 " term %" PRIu64, t->a, t->b);
        break;
    case TR_LIVE:
        fprintf(out, "liveness OK: marker %" PRIu64 " committed %.3f ms after heal", t->a,
                (double)t->b / 1000.0);
        break;
    case TR_FAULT_PHASE:
        fprintf(out, "fault phase starts (loss %" PRIu64 "ppm dup %" PRIu64 "ppm reorder %d)", t->a,
                t->b, (int)t->flag);
        break;
    default:
        fprintf(out, "?");
    }
    if (t->role != UINT8_MAX)
        fprintf(out, "  | %s t%" PRIu64 " last %" PRIu64 " commit %" PRIu64, role_name(t->role),
                t->term, t->last, t->commit);
    fputc('\n', out);
}

static void print_members(FILE *out, const struct raft_membership *m)
{
    fprintf(out, "voters {");
    for (int role = RAFT_VOTER; role <= RAFT_LEARNER; role++) {
        if (role == RAFT_LEARNER)
            fprintf(out, "} learners {");
        bool first = true;
        for (uint32_t i = 0; i < m->count; i++) {
            if (m->members[i].role != role)
                continue;
            fprintf(out, "%sn%" PRIu64, first ? "" : ",", m->members[i].id);
            first = false;
        }
    }
    fprintf(out, "}");
}

static void print_cluster(struct sim *s, FILE *out)
{
    fprintf(out,
            "  network: loss %" PRIu32 "ppm dup %" PRIu32 "ppm %s; blocked links:", s->loss_ppm,
            s->dup_ppm, s->reorder ? "reordering" : "FIFO");
    uint32_t blocked = 0;
    for (uint32_t i = 0; i < s->nslots; i++)
        for (uint32_t j = 0; j < s->nslots; j++)
            if (s->blocked[i][j]) {
                fprintf(out, " n%u->n%u", i + 1, j + 1);
                blocked++;
            }
    fprintf(out, "%s\n", blocked ? "" : " none");
    fprintf(out, "  cluster state:\n");
    for (uint32_t i = 0; i < s->nslots; i++) {
        const struct sim_node *n = &s->nodes[i];
        fprintf(out, "    n%" PRIu64 " ", n->id);
        if (n->up) {
            const struct raft *r = n->r;
            fprintf(out,
                    "%s t%" PRIu64 " vote n%" PRIu64 " leader n%" PRIu64 " last %" PRIu64
                    " (t%" PRIu64 ") commit %" PRIu64 " applied %" PRIu64 " ",
                    role_name((uint8_t)raft_role(r)), raft_term(r), raft_vote(r), raft_leader(r),
                    raft_last_index(r), raft_last_term(r), raft_commit_index(r),
                    raft_applied_index(r));
            print_members(out, raft_membership(r));
        } else {
            fprintf(out, "DOWN");
        }
        fprintf(out,
                "; disk: t%" PRIu64 " vote n%" PRIu64 " log (%" PRIu64 ", %" PRIu64
                "], %zu pending writes; ledger at %" PRIu64 "\n",
                n->disk.hard.term, n->disk.hard.vote, n->disk.snap.index, sim_disk_last(&n->disk),
                n->nwrites, n->ledger.applied);
    }
}

void sim_print_report(struct sim *s, FILE *out)
{
    char replay[512], faults[128];
    sim_format_replay(&s->opt, replay, sizeof(replay));
    sim_format_faults(s->opt.faults, faults, sizeof(faults));
    fprintf(out, "raft-sim: VIOLATION [%s] %s\n", s->res->invariant, s->res->detail);
    fprintf(out,
            "  seed %" PRIu64 ", %" PRIu32 " nodes, faults %s, event %" PRIu64 " of %" PRIu64
            ", virtual time %.3f ms\n",
            s->opt.seed, s->opt.nodes, faults, s->events, s->opt.events,
            (double)s->now_us / 1000.0);
    fprintf(out, "  replay: %s\n", replay);
    uint64_t n = s->trace_len < SIM_TRACE_PRINT ? s->trace_len : SIM_TRACE_PRINT;
    fprintf(out, "  last %" PRIu64 " trace records (oldest first):\n", n);
    for (uint64_t i = s->trace_len - n; i < s->trace_len; i++)
        sim_print_rec(out, &s->trace[i % SIM_TRACE_RING]);
    print_cluster(s, out);
}
