/*
 * state.c - the state suite of teechain-conformance: Ethereum's
 * GeneralStateTests under the Cancun rules.
 *
 * For each test and each post.Cancun[i]: the pre-state is built in a state
 * over the empty reader (then frozen and used as the reader of the executed
 * state), the case's transaction (its `txbytes`, the transaction filled with
 * data[indexes.data], gasLimit[indexes.gas], value[indexes.value]; sender
 * from `sender`, else recovered) runs under the conformance rules in the
 * block `env`, and the post-state root (secure trie of rlp([nonce, balance,
 * storageRoot, codeHash])) and keccak256(rlp(logs)) are compared with `hash`
 * and `logs`. A case with `expectException` passes only if the transaction
 * is rejected (by decoding, stateless checks or the executor). A case whose
 * transaction called a precompile this build does not implement is skipped
 * with that reason. BLOCKHASH answers keccak256(decimal block number), the
 * convention of the state-test fillers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/error.h"
#include "base/u256.h"
#include "chain/tx.h"
#include "chain/writeset.h"
#include "codec/rlp.h"
#include "conformance.h"
#include "crypto/keccak.h"
#include "evm/evm.h"
#include "exec/exec.h"
#include "state/state.h"
#include "trie/trie.h"

#define MAX_PRINTED_ACCOUNTS 16

/* A 0x-prefixed quantity of any number of leading zeros. */
static int parse_u256(const cJSON *j, u256 *out)
{
    if (!cJSON_IsString(j) || strncmp(j->valuestring, "0x", 2) != 0)
        return TC_EINVAL;
    const char *p = j->valuestring + 2;
    while (p[0] == '0' && p[1] != '\0')
        p++;
    char buf[80];
    if (strlen(p) > 64)
        return TC_ERANGE;
    snprintf(buf, sizeof(buf), "0x%s", p);
    return u256_from_hex(buf, out);
}

static int parse_u64(const cJSON *j, uint64_t *out)
{
    u256 v;
    int rc = parse_u256(j, &v);
    if (rc != 0)
        return rc;
    if (!u256_fits_u64(v))
        return TC_ERANGE;
    *out = u256_low_u64(v);
    return 0;
}

static int parse_fixed(const cJSON *j, uint8_t *out, size_t len)
{
    if (!cJSON_IsString(j))
        return TC_EINVAL;
    return hex_decode_exact(j->valuestring, out, len);
}

static int parse_bytes(const cJSON *j, struct bytes *out)
{
    if (!cJSON_IsString(j))
        return TC_EINVAL;
    return hex_decode_alloc(j->valuestring, false, out);
}

static bool block_hash(void *ctx, uint64_t number, uint8_t hash[32])
{
    (void)ctx;
    char dec[24];
    int n = snprintf(dec, sizeof(dec), "%llu", (unsigned long long)number);
    keccak256(dec, (size_t)n, hash);
    return true;
}

/* EIP-4844's fake_exponential(1, excess, 3338477): the blob base fee. */
static u256 blob_base_fee(uint64_t excess)
{
    const u256 denominator = u256_from_u64(3338477);
    u256 output = u256_zero();
    u256 accum = denominator; /* factor * denominator, factor = 1 */
    u256 ex = u256_from_u64(excess);
    for (uint64_t i = 1; !u256_is_zero(accum) && i < 1000; i++) {
        output = u256_add(output, accum);
        accum = u256_div(u256_mul(accum, ex), u256_mul(denominator, u256_from_u64(i)));
    }
    return u256_div(output, denominator);
}

static int build_env(const cJSON *env, struct exec_block_env *out)
{
    uint64_t excess = 0;
    int rc;
    memset(out, 0, sizeof(*out));
    if ((rc = parse_fixed(cJSON_GetObjectItemCaseSensitive(env, "currentCoinbase"), out->coinbase,
                          20)) != 0 ||
        (rc = parse_u64(cJSON_GetObjectItemCaseSensitive(env, "currentNumber"), &out->number)) !=
            0 ||
        (rc = parse_u64(cJSON_GetObjectItemCaseSensitive(env, "currentTimestamp"),
                        &out->timestamp)) != 0 ||
        (rc = parse_u64(cJSON_GetObjectItemCaseSensitive(env, "currentGasLimit"),
                        &out->gas_limit)) != 0 ||
        (rc = parse_u256(cJSON_GetObjectItemCaseSensitive(env, "currentBaseFee"),
                         &out->base_fee)) != 0)
        return rc;
    const cJSON *random = cJSON_GetObjectItemCaseSensitive(env, "currentRandom");
    if (random != NULL) {
        u256 r;
        if ((rc = parse_u256(random, &r)) != 0)
            return rc;
        u256_to_be_bytes(r, out->prevrandao);
    }
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(env, "currentExcessBlobGas");
    if (ex != NULL && (rc = parse_u64(ex, &excess)) != 0)
        return rc;
    out->blob_base_fee = blob_base_fee(excess);
    out->chain_id = u256_from_u64(1);
    return 0;
}

/* Fills a state (over the empty reader) with the test's pre-state. */
static int build_pre(struct state *s, const cJSON *pre, char *err, size_t err_len)
{
    const cJSON *acct;
    struct bytes code;
    bytes_init(&code);
    state_tx_begin(s);
    cJSON_ArrayForEach(acct, pre)
    {
        uint8_t addr[20];
        u256 balance;
        uint64_t nonce;
        if (acct->string == NULL || hex_decode_exact(acct->string, addr, 20) != 0 ||
            parse_u256(cJSON_GetObjectItemCaseSensitive(acct, "balance"), &balance) != 0 ||
            parse_u64(cJSON_GetObjectItemCaseSensitive(acct, "nonce"), &nonce) != 0) {
            tc_errorf(err, err_len, "bad pre account %s", acct->string ? acct->string : "?");
            bytes_free(&code);
            return TC_EINVAL;
        }
        bytes_free(&code); /* hex_decode_alloc starts a new buffer */
        if (parse_bytes(cJSON_GetObjectItemCaseSensitive(acct, "code"), &code) != 0) {
            tc_errorf(err, err_len, "bad code of %s", acct->string);
            bytes_free(&code);
            return TC_EINVAL;
        }
        state_set_balance(s, addr, balance);
        state_set_nonce(s, addr, nonce);
        if (code.len > 0)
            state_set_code(s, addr, code.ptr, code.len);
        const cJSON *slot;
        cJSON_ArrayForEach(slot, cJSON_GetObjectItemCaseSensitive(acct, "storage"))
        {
            u256 k, v;
            cJSON key = { .valuestring = slot->string, .type = cJSON_String };
            if (parse_u256(&key, &k) != 0 || parse_u256(slot, &v) != 0) {
                tc_errorf(err, err_len, "bad storage of %s", acct->string);
                bytes_free(&code);
                return TC_EINVAL;
            }
            state_set_storage(s, addr, k, v);
        }
    }
    bytes_free(&code);
    state_tx_end(s, false);
    return state_error(s);
}

/* ---- post-state root ---------------------------------------------------- */

struct post_account {
    uint8_t addr[20];
    struct state_account acct;
    uint8_t storage_root[32];
    size_t slot_count;
};

/* Secure-trie root of the storage entries items[from..to) (all of one account). */
static int storage_root(const struct writeset *ws, size_t from, size_t to, uint8_t root[32],
                        size_t *count)
{
    size_t n = to - from, k = 0;
    struct trie_pair *pairs = calloc(n ? n : 1, sizeof(*pairs));
    struct bytes vals;
    size_t *offs = calloc(n ? n : 1, sizeof(*offs));
    int rc = TC_ENOMEM;
    bytes_init(&vals);
    if (pairs == NULL || offs == NULL)
        goto out_free;
    for (size_t i = from; i < to; i++) {
        struct writeset_item it;
        writeset_get(ws, i, &it);
        if (it.deleted)
            continue;
        offs[k] = vals.len;
        if ((rc = rlp_encode_bytes(&vals, it.value.ptr, it.value.len)) != 0)
            goto out_free;
        pairs[k].key = bytes_view_of(it.key.ptr + 20, 32);
        k++;
    }
    for (size_t i = 0; i < k; i++) {
        size_t end = i + 1 < k ? offs[i + 1] : vals.len;
        pairs[i].value = bytes_view_of(vals.ptr + offs[i], end - offs[i]);
    }
    *count = k;
    rc = trie_secure_root(pairs, k, root);
out_free:
    bytes_free(&vals);
    free(offs);
    free(pairs);
    return rc;
}

/*
 * The full post-state as one canonical write-set: the pre-state's writes
 * (relative to the empty state) then the transaction's (relative to the
 * pre-state); the last write of each key wins.
 */
static int full_state(struct state *pre, struct state *post, struct writeset *full)
{
    struct writeset a, b;
    int rc;
    writeset_init(&a);
    writeset_init(&b);
    if ((rc = state_writeset(pre, &a)) != 0 || (rc = state_writeset(post, &b)) != 0)
        goto out_free;
    const struct writeset *sets[2] = { &a, &b };
    for (int k = 0; k < 2 && rc == 0; k++) {
        for (size_t i = 0; i < writeset_count(sets[k]) && rc == 0; i++) {
            struct writeset_item it;
            writeset_get(sets[k], i, &it);
            if (it.deleted)
                rc = writeset_delete(full, it.ns, it.key.ptr, it.key.len);
            else
                rc = writeset_put(full, it.ns, it.key.ptr, it.key.len, it.value.ptr, it.value.len);
        }
    }
    if (rc == 0)
        rc = writeset_canonicalize(full);
out_free:
    writeset_free(&a);
    writeset_free(&b);
    return rc;
}

/* Accounts of the full state with their storage roots; *out is malloc'd. */
static int post_accounts(const struct writeset *full, struct post_account **out, size_t *count)
{
    size_t n = writeset_count(full), na = 0, si = 0, cursor;
    struct post_account *accts = calloc(n ? n : 1, sizeof(*accts));
    if (accts == NULL)
        return TC_ENOMEM;
    /* storage entries follow every account entry (namespace 2 after 1) */
    while (si < n) {
        struct writeset_item it;
        writeset_get(full, si, &it);
        if (it.ns != WRITESET_NS_ACCOUNT)
            break;
        si++;
    }
    cursor = si;
    for (size_t i = 0; i < si; i++) {
        struct writeset_item it;
        writeset_get(full, i, &it);
        if (it.deleted)
            continue;
        struct post_account *p = &accts[na++];
        memcpy(p->addr, it.key.ptr, 20);
        int rc = state_account_decode(it.value, &p->acct);
        if (rc != 0) {
            free(accts);
            return rc;
        }
        /* this account's storage range */
        size_t from = cursor, to;
        while (from < n) {
            struct writeset_item s2;
            writeset_get(full, from, &s2);
            if (s2.ns != WRITESET_NS_STORAGE || memcmp(s2.key.ptr, p->addr, 20) >= 0)
                break;
            from++;
        }
        for (to = from; to < n; to++) {
            struct writeset_item s2;
            writeset_get(full, to, &s2);
            if (s2.ns != WRITESET_NS_STORAGE || memcmp(s2.key.ptr, p->addr, 20) != 0)
                break;
        }
        cursor = to;
        if ((rc = storage_root(full, from, to, p->storage_root, &p->slot_count)) != 0) {
            free(accts);
            return rc;
        }
    }
    *out = accts;
    *count = na;
    return 0;
}

static int state_root(const struct post_account *accts, size_t n, uint8_t root[32])
{
    struct trie_pair *pairs = calloc(n ? n : 1, sizeof(*pairs));
    struct bytes enc;
    size_t *offs = calloc(n ? n : 1, sizeof(*offs));
    int rc = TC_ENOMEM;
    bytes_init(&enc);
    if (pairs == NULL || offs == NULL)
        goto out_free;
    for (size_t i = 0; i < n; i++) {
        offs[i] = enc.len;
        size_t mark = rlp_list_begin(&enc);
        if ((rc = rlp_encode_u64(&enc, accts[i].acct.nonce)) != 0 ||
            (rc = rlp_encode_u256(&enc, accts[i].acct.balance)) != 0 ||
            (rc = rlp_encode_bytes(&enc, accts[i].storage_root, 32)) != 0 ||
            (rc = rlp_encode_bytes(&enc, accts[i].acct.code_hash, 32)) != 0 ||
            (rc = rlp_list_end(&enc, mark)) != 0)
            goto out_free;
    }
    for (size_t i = 0; i < n; i++) {
        size_t end = i + 1 < n ? offs[i + 1] : enc.len;
        pairs[i].key = bytes_view_of(accts[i].addr, 20);
        pairs[i].value = bytes_view_of(enc.ptr + offs[i], end - offs[i]);
    }
    rc = trie_secure_root(pairs, n, root);
out_free:
    bytes_free(&enc);
    free(offs);
    free(pairs);
    return rc;
}

static int logs_hash(const struct receipt *r, uint8_t hash[32])
{
    struct bytes enc;
    bytes_init(&enc);
    size_t outer = rlp_list_begin(&enc);
    int rc = 0;
    for (size_t i = 0; r != NULL && i < r->log_count && rc == 0; i++) {
        const struct log *l = &r->logs[i];
        size_t m = rlp_list_begin(&enc);
        rc = rlp_encode_bytes(&enc, l->address, 20);
        size_t t = rlp_list_begin(&enc);
        for (size_t k = 0; k < l->topic_count && rc == 0; k++)
            rc = rlp_encode_bytes(&enc, l->topics[k], 32);
        if (rc == 0)
            rc = rlp_list_end(&enc, t);
        if (rc == 0)
            rc = rlp_encode_bytes(&enc, l->data.ptr, l->data.len);
        if (rc == 0)
            rc = rlp_list_end(&enc, m);
    }
    if (rc == 0)
        rc = rlp_list_end(&enc, outer);
    if (rc == 0)
        keccak256(enc.ptr, enc.len, hash);
    bytes_free(&enc);
    return rc;
}

static void print_accounts(const struct post_account *accts, size_t n)
{
    for (size_t i = 0; i < n && i < MAX_PRINTED_ACCOUNTS; i++) {
        char addr[41], bal[U256_HEX_LEN], code[65], sroot[65];
        hex_encode(accts[i].addr, 20, addr);
        u256_to_hex(accts[i].acct.balance, bal);
        hex_encode(accts[i].acct.code_hash, 32, code);
        hex_encode(accts[i].storage_root, 32, sroot);
        printf("    ours: 0x%s nonce=%llu balance=%s code=%.8s.. slots=%zu storageRoot=%.16s..\n",
               addr, (unsigned long long)accts[i].acct.nonce, bal, code, accts[i].slot_count,
               sroot);
    }
    if (n > MAX_PRINTED_ACCOUNTS)
        printf("    ... %zu more accounts\n", n - MAX_PRINTED_ACCOUNTS);
}

/* ---- one case ----------------------------------------------------------- */

struct case_ctx {
    struct conf_stats *st;
    const char *path;
    const char *name;
    const cJSON *test;
    const cJSON *post;
};

static const cJSON *indexed(const cJSON *tj, const char *field, const cJSON *idx, const char *key)
{
    const cJSON *i = cJSON_GetObjectItemCaseSensitive(idx, key);
    if (!cJSON_IsNumber(i))
        return NULL;
    return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(tj, field), i->valueint);
}

/* True if the decoded txbytes carry transaction's data, gasLimit and value at the indexes. */
static bool matches_indexes(const cJSON *test, const cJSON *post, const struct tx *tx)
{
    const cJSON *tj = cJSON_GetObjectItemCaseSensitive(test, "transaction");
    const cJSON *idx = cJSON_GetObjectItemCaseSensitive(post, "indexes");
    uint64_t gas;
    u256 value;
    struct bytes data;
    if (parse_u64(indexed(tj, "gasLimit", idx, "gas"), &gas) != 0 || gas != tx->gas_limit ||
        parse_u256(indexed(tj, "value", idx, "value"), &value) != 0 || !u256_eq(value, tx->value))
        return false;
    bytes_init(&data);
    bool same = parse_bytes(indexed(tj, "data", idx, "data"), &data) == 0 &&
                bytes_view_eq(bytes_as_view(&data), tx->data);
    bytes_free(&data);
    return same;
}

/* Decodes and statelessly checks the transaction; NULL if valid, else the reason. */
static const char *load_tx(const cJSON *test, const cJSON *post, struct bytes *raw, struct tx *tx,
                           uint8_t sender[20])
{
    const char *reason = NULL;
    if (parse_bytes(cJSON_GetObjectItemCaseSensitive(post, "txbytes"), raw) != 0)
        return "txbytes is not hex";
    int rc = tx_decode(bytes_as_view(raw), tx, &reason);
    if (rc == TC_EUNSUPPORTED)
        return "unsupported";
    if (rc != 0)
        return reason ? reason : "undecodable";
    if (!matches_indexes(test, post, tx))
        return "txbytes disagree with transaction[indexes]";
    struct tx_rules rules = { .chain_id = 1, .allow_unprotected = true };
    if (tx_check(tx, &rules, &reason) != 0)
        return reason ? reason : "invalid";
    const cJSON *tj = cJSON_GetObjectItemCaseSensitive(test, "transaction");
    const cJSON *sj = cJSON_GetObjectItemCaseSensitive(tj, "sender");
    if (sj != NULL && parse_fixed(sj, sender, 20) == 0)
        return NULL;
    if (tx_sender(tx, sender, &reason) != 0)
        return reason ? reason : "no sender";
    return NULL;
}

static void run_case(struct case_ctx *c, struct exec *ex)
{
    const cJSON *expect = cJSON_GetObjectItemCaseSensitive(c->post, "expectException");
    uint8_t want_root[32], want_logs[32], sender[20];
    struct exec_block_env env;
    char err[256] = "";
    struct state_reader empty, layer;
    struct state *pre = NULL, *s = NULL;
    struct bytes raw;
    struct tx tx;
    struct exec_tx_result res;
    struct writeset full;
    struct post_account *accts = NULL;
    size_t naccts = 0;
    bytes_init(&raw);
    writeset_init(&full);

    if (parse_fixed(cJSON_GetObjectItemCaseSensitive(c->post, "hash"), want_root, 32) != 0 ||
        parse_fixed(cJSON_GetObjectItemCaseSensitive(c->post, "logs"), want_logs, 32) != 0 ||
        build_env(cJSON_GetObjectItemCaseSensitive(c->test, "env"), &env) != 0) {
        conf_fail(c->st, c->path, c->name, "malformed case (hash, logs or env)");
        goto out_free;
    }
    const char *reason = load_tx(c->test, c->post, &raw, &tx, sender);
    if (reason != NULL) {
        if (expect != NULL)
            conf_pass(c->st, c->path, c->name);
        else if (strcmp(reason, "unsupported") == 0)
            conf_skip(c->st, c->path, c->name, "transaction type not supported (blob, type 3)");
        else
            conf_fail(c->st, c->path, c->name, "valid transaction rejected: %s", reason);
        goto out_free;
    }

    state_reader_empty(&empty);
    if (state_new(&empty, &pre) != 0 ||
        build_pre(pre, cJSON_GetObjectItemCaseSensitive(c->test, "pre"), err, sizeof(err)) != 0) {
        conf_fail(c->st, c->path, c->name, "pre-state: %s", err[0] ? err : "out of memory");
        goto out_free;
    }
    state_as_reader(pre, &layer);
    if (state_new(&layer, &s) != 0) {
        conf_fail(c->st, c->path, c->name, "out of memory");
        goto out_free;
    }
    state_set_block_hashes(s, block_hash, NULL);
    exec_begin(ex, s, &env);
    int rc = exec_apply(ex, &tx, sender, &res);
    if (rc != 0) {
        conf_fail(c->st, c->path, c->name, "execution failed: %s", tc_strerror(rc));
        goto out_free;
    }
    if (res.included && res.unsupported_precompile != 0) {
        conf_skip(c->st, c->path, c->name, "calls unsupported precompile 0x%02x",
                  res.unsupported_precompile);
        goto out_free;
    }
    if (expect != NULL) {
        if (res.included)
            conf_fail(c->st, c->path, c->name, "expected exception %s, transaction included",
                      cJSON_IsString(expect) ? expect->valuestring : "?");
        else
            conf_pass(c->st, c->path, c->name);
        goto out_free;
    }
    if (!res.included) {
        conf_fail(c->st, c->path, c->name, "valid transaction dropped: %s", res.drop_reason);
        goto out_free;
    }

    uint8_t got_root[32], got_logs[32];
    if ((rc = full_state(pre, s, &full)) != 0 ||
        (rc = post_accounts(&full, &accts, &naccts)) != 0 ||
        (rc = state_root(accts, naccts, got_root)) != 0 ||
        (rc = logs_hash(&res.receipt, got_logs)) != 0) {
        conf_fail(c->st, c->path, c->name, "post-state: %s", tc_strerror(rc));
        goto out_free;
    }
    if (memcmp(got_logs, want_logs, 32) != 0) {
        conf_fail(c->st, c->path, c->name, "logs hash differs (status %s, gas used %llu)",
                  evm_status_name((enum evm_status)res.evm_status),
                  (unsigned long long)res.receipt.gas_used);
        goto out_free;
    }
    if (memcmp(got_root, want_root, 32) != 0) {
        conf_fail(c->st, c->path, c->name, "state root differs (status %s, gas used %llu)",
                  evm_status_name((enum evm_status)res.evm_status),
                  (unsigned long long)res.receipt.gas_used);
        if (c->st->verbose)
            print_accounts(accts, naccts);
        goto out_free;
    }
    conf_pass(c->st, c->path, c->name);
out_free:
    free(accts);
    writeset_free(&full);
    bytes_free(&raw);
    state_free(s);
    state_free(pre);
}

void conf_state_file(struct conf_stats *st, const char *path, const cJSON *root)
{
    struct exec_rules rules = { .kind = EXEC_RULES_CONFORMANCE };
    struct exec *ex;
    if (exec_new(&rules, &ex) != 0) {
        conf_fail(st, path, "*", "out of memory");
        return;
    }
    const cJSON *test;
    cJSON_ArrayForEach(test, root)
    {
        const cJSON *post = cJSON_GetObjectItemCaseSensitive(test, "post");
        const cJSON *cancun = cJSON_GetObjectItemCaseSensitive(post, "Cancun");
        if (!cJSON_IsArray(cancun)) {
            conf_fail(st, path, test->string ? test->string : "?", "no post.Cancun array");
            continue;
        }
        int i = 0;
        const cJSON *c;
        cJSON_ArrayForEach(c, cancun)
        {
            char name[512];
            const cJSON *idx = cJSON_GetObjectItemCaseSensitive(c, "indexes");
            snprintf(name, sizeof(name), "%s[%d] (d=%d g=%d v=%d)",
                     test->string ? test->string : "?", i++,
                     cJSON_GetObjectItemCaseSensitive(idx, "data")
                         ? cJSON_GetObjectItemCaseSensitive(idx, "data")->valueint
                         : -1,
                     cJSON_GetObjectItemCaseSensitive(idx, "gas")
                         ? cJSON_GetObjectItemCaseSensitive(idx, "gas")->valueint
                         : -1,
                     cJSON_GetObjectItemCaseSensitive(idx, "value")
                         ? cJSON_GetObjectItemCaseSensitive(idx, "value")->valueint
                         : -1);
            struct case_ctx cc = { st, path, name, test, c };
            run_case(&cc, ex);
        }
    }
    exec_free(ex);
}
