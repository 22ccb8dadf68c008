/* sim_options.c - raft-sim's option names: fault mixes, planted bugs, and
 * the replay command line. */
#include <inttypes.h>
#include <string.h>

#include "base/error.h"
#include "sim_internal.h"

/* ---- options ---- */

static const struct {
    const char *name;
    uint32_t bit;
} fault_names[] = {
    { "loss", SIM_FAULT_LOSS },
    { "dup", SIM_FAULT_DUP },
    { "reorder", SIM_FAULT_REORDER },
    { "partition", SIM_FAULT_PARTITION },
    { "crash", SIM_FAULT_CRASH },
    { "slowdisk", SIM_FAULT_SLOWDISK },
    { "membership", SIM_FAULT_MEMBERSHIP },
    { "transfer", SIM_FAULT_TRANSFER },
    { "churn", SIM_FAULT_CHURN },
};
#define NFAULTS (sizeof(fault_names) / sizeof(fault_names[0]))

static const struct {
    const char *name;
    uint32_t bit;
} bug_names[] = {
    { "leader-counts-self-before-persist", RAFT_BUG_LEADER_COUNTS_SELF_BEFORE_PERSIST },
    { "commit-prev-term-by-count", RAFT_BUG_COMMIT_PREV_TERM_BY_COUNT },
};
#define NBUGS (sizeof(bug_names) / sizeof(bug_names[0]))

void sim_options_default(struct sim_options *o)
{
    memset(o, 0, sizeof(*o));
    o->nodes = 3;
    o->seed = 1;
    o->events = SIM_DEFAULT_EVENTS;
    o->faults = SIM_FAULT_ALL;
    o->program = "raft-sim";
}

int sim_parse_faults(const char *spec, uint32_t *mask)
{
    if (strcmp(spec, "all") == 0) {
        *mask = SIM_FAULT_ALL;
        return TC_OK;
    }
    if (strcmp(spec, "none") == 0) {
        *mask = 0;
        return TC_OK;
    }
    uint32_t m = 0;
    const char *p = spec;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 0)
            return TC_EINVAL;
        size_t i = 0;
        while (i < NFAULTS &&
               !(strlen(fault_names[i].name) == len && memcmp(fault_names[i].name, p, len) == 0))
            i++;
        if (i == NFAULTS)
            return TC_EINVAL;
        m |= fault_names[i].bit;
        if (!end)
            break;
        p = end + 1;
    }
    *mask = m;
    return TC_OK;
}

void sim_format_faults(uint32_t mask, char *buf, size_t cap)
{
    if (cap == 0)
        return;
    buf[0] = '\0';
    if ((mask & SIM_FAULT_ALL) == SIM_FAULT_ALL) {
        snprintf(buf, cap, "all");
        return;
    }
    if (mask == 0) {
        snprintf(buf, cap, "none");
        return;
    }
    size_t used = 0;
    for (size_t i = 0; i < NFAULTS; i++) {
        if (!(mask & fault_names[i].bit))
            continue;
        int w = snprintf(buf + used, cap - used, "%s%s", used ? "," : "", fault_names[i].name);
        if (w < 0 || (size_t)w >= cap - used)
            return;
        used += (size_t)w;
    }
}

int sim_parse_bug(const char *name, uint32_t *bug)
{
    for (size_t i = 0; i < NBUGS; i++) {
        if (strcmp(name, bug_names[i].name) == 0) {
            *bug = bug_names[i].bit;
            return TC_OK;
        }
    }
    return TC_EINVAL;
}

const char *sim_bug_name(uint32_t bug)
{
    for (size_t i = 0; i < NBUGS; i++)
        if (bug_names[i].bit == bug)
            return bug_names[i].name;
    return NULL;
}

void sim_format_replay(const struct sim_options *o, char *buf, size_t cap)
{
    char faults[128];
    sim_format_faults(o->faults, faults, sizeof(faults));
    int used = snprintf(
        buf, cap, "%s --nodes %" PRIu32 " --seed %" PRIu64 " --events %" PRIu64 " --faults %s",
        o->program ? o->program : "raft-sim", o->nodes, o->seed, o->events, faults);
    for (size_t i = 0; i < NBUGS && used > 0 && (size_t)used < cap; i++) {
        if (o->test_bugs & bug_names[i].bit)
            used += snprintf(buf + used, cap - (size_t)used, " --plant-bug %s", bug_names[i].name);
    }
    if (o->max_msg_entries && used > 0 && (size_t)used < cap)
        used += snprintf(buf + used, cap - (size_t)used, " --max-msg-entries %" PRIu32,
                         o->max_msg_entries);
    if (o->skip_commit_rule && used > 0 && (size_t)used < cap)
        snprintf(buf + used, cap - (size_t)used, " --skip-check commit-current-term");
}
