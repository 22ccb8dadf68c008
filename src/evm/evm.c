/*
 * evm.c - the interpreter (computed-goto dispatch over analysed code), the
 * Cancun gas schedule and the message layer (CALL family, CREATE family,
 * precompile dispatch, journal snapshots).
 *
 * Layout of one frame: the stack lives in vm->stacks[depth] and the memory
 * in vm->memories[depth]; both are allocated the first time that depth is
 * reached and reused afterwards, so that nothing is allocated per opcode
 * and, after warm-up, nothing per call either. A frame's return data (the
 * output of its last sub-call) lives in vm->returns[depth]; a sub-call
 * writes its output straight into it.
 */
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/error.h"
#include "crypto/keccak.h"
#include "evm/evm.h"
#include "evm/evm_internal.h"

#define DEFAULT_CACHE_ENTRIES 1024

/* Memory beyond 2^32 bytes would cost over 3.6e13 gas: treated as out of
   gas without computing, so that offsets never overflow. */
#define MEM_LIMIT_BYTES (UINT64_C(1) << 32)

/* ---- gas constants (Cancun) --------------------------------------------- */

#define G_WARM_ACCESS   100
#define G_COLD_ACCOUNT  2600
#define G_COLD_SLOAD    2100
#define G_COPY_WORD     3
#define G_KECCAK_WORD   6
#define G_LOG_TOPIC     375
#define G_LOG_BYTE      8
#define G_EXP_BYTE      50
#define G_CALL_VALUE    9000
#define G_NEW_ACCOUNT   25000
#define G_SSTORE_SET    20000
#define G_SSTORE_RESET  2900 /* 5000 - G_COLD_SLOAD */
#define G_SSTORE_SENTRY 2300 /* EIP-2200: SSTORE needs more than this */
#define R_SSTORE_CLEARS 4800 /* EIP-3529 */
#define G_SELFDESTRUCT  5000
#define G_INITCODE_WORD 2 /* EIP-3860 */
#define G_CODE_DEPOSIT  200

struct evm {
    struct evm_code_cache cache;
    u256 *stacks[EVM_MAX_DEPTH + 1];
    struct bytes memories[EVM_MAX_DEPTH + 1];
    struct bytes returns[EVM_MAX_DEPTH + 1];
    struct bytes output; /* the top-level message's output */
    bool out_of_memory;  /* an allocation failed somewhere in this execution */
    uint8_t unsupported_precompile;
};

struct frame {
    struct evm *vm;
    const struct evm_host *host;
    const struct evm_tx_context *tx;
    const struct evm_message *msg;
    evm_address self;
    const uint8_t *code; /* the analysed, padded code */
    size_t code_len;
    struct bytes *mem;
    struct bytes *ret; /* output of the last sub-call (RETURNDATA*) */
    struct bytes *out; /* this frame's RETURN/REVERT data */
    int64_t gas;
    int64_t refund;
};

static void execute_message(struct evm *vm, const struct evm_host *host,
                            const struct evm_tx_context *tx, const struct evm_message *msg,
                            struct bytes *out, struct evm_result *res);

/* ---- small conversions -------------------------------------------------- */

static inline u256 addr_to_word(const evm_address *a)
{
    return u256_from_be_bytes(a->bytes, sizeof(a->bytes));
}

static inline evm_address word_to_addr(u256 w)
{
    uint8_t b[32];
    evm_address a;
    u256_to_be_bytes(w, b);
    memcpy(a.bytes, b + 12, sizeof(a.bytes));
    return a;
}

static inline u256 bytes32_to_word(const evm_bytes32 *h)
{
    return u256_from_be_bytes(h->bytes, sizeof(h->bytes));
}

static inline evm_bytes32 word_to_bytes32(u256 w)
{
    evm_bytes32 h;
    u256_to_be_bytes(w, h.bytes);
    return h;
}

/* min(w, INT64_MAX) as a gas amount. */
static inline int64_t word_to_gas(u256 w)
{
    if (!u256_fits_u64(w) || w.w[0] > (uint64_t)INT64_MAX)
        return INT64_MAX;
    return (int64_t)w.w[0];
}

static inline uint64_t words_of(uint64_t bytes)
{
    return (bytes + 31) / 32;
}

/* ---- memory ------------------------------------------------------------- */

static inline int64_t memory_cost(uint64_t words)
{
    return (int64_t)(words * 3 + words * words / 512);
}

/* Grows memory to cover `end` bytes, charging the expansion. */
static bool mem_grow(struct frame *f, int64_t *gas, uint64_t end)
{
    struct bytes *m = f->mem;
    uint64_t new_words = words_of(end);
    uint64_t old_words = m->len / 32;
    *gas -= memory_cost(new_words) - memory_cost(old_words);
    if (*gas < 0)
        return false;
    size_t new_len = (size_t)(new_words * 32);
    if (new_len > m->cap) {
        size_t cap = m->cap < 1024 ? 1024 : m->cap;
        while (cap < new_len)
            cap *= 2;
        uint8_t *p = realloc(m->ptr, cap);
        if (p == NULL) {
            f->vm->out_of_memory = true;
            *gas = -1;
            return false;
        }
        m->ptr = p;
        m->cap = cap;
    }
    memset(m->ptr + m->len, 0, new_len - m->len);
    m->len = new_len;
    return true;
}

/*
 * Checks the region [off, off + size) and grows memory over it, charging
 * gas. A zero size is always fine and touches nothing (its offset may be
 * anything). Returns false when out of gas.
 */
static inline bool mem_region(struct frame *f, int64_t *gas, u256 off, u256 size, uint64_t *o,
                              uint64_t *s)
{
    if (u256_is_zero(size)) {
        *o = 0;
        *s = 0;
        return true;
    }
    if (!u256_fits_u64(off) || !u256_fits_u64(size) || off.w[0] > MEM_LIMIT_BYTES ||
        size.w[0] > MEM_LIMIT_BYTES)
        return false;
    *o = off.w[0];
    *s = size.w[0];
    uint64_t end = *o + *s;
    if (end <= f->mem->len)
        return true;
    return mem_grow(f, gas, end);
}

/* Copies src[src_off .. src_off + size) into memory at dst, padding with
   zeros past src_len. src_off may be any word. */
static void copy_padded(uint8_t *dst, uint64_t size, const uint8_t *src, size_t src_len,
                        u256 src_off)
{
    uint64_t avail = 0;
    if (u256_fits_u64(src_off) && src_off.w[0] < src_len)
        avail = src_len - src_off.w[0];
    uint64_t n = avail < size ? avail : size;
    if (n > 0)
        memcpy(dst, src + src_off.w[0], (size_t)n);
    if (size > n)
        memset(dst + n, 0, (size_t)(size - n));
}

static bool set_bytes(struct evm *vm, struct bytes *b, const uint8_t *data, size_t len)
{
    bytes_clear(b);
    if (len == 0)
        return true;
    if (bytes_append(b, data, len) != TC_OK) {
        vm->out_of_memory = true;
        return false;
    }
    return true;
}

/* ---- opcode table ------------------------------------------------------- */

struct op_info {
    uint16_t gas;  /* static part of the cost */
    uint16_t in;   /* stack items required */
    uint16_t grow; /* net stack growth when positive, else 0 */
};

/* Entries left out are undefined opcodes: no gas, no stack effect, and a
   label that fails with EVM_INVALID_INSTRUCTION. */
#define OP(g, i, o)                                                                                \
    {                                                                                              \
        (g), (i), ((o) > (i) ? (o) - (i) : 0)                                                      \
    }

static const struct op_info op_table[256] = {
    [0x00] = OP(0, 0, 0),             /* STOP */
    [0x01] = OP(3, 2, 1),             /* ADD */
    [0x02] = OP(5, 2, 1),             /* MUL */
    [0x03] = OP(3, 2, 1),             /* SUB */
    [0x04] = OP(5, 2, 1),             /* DIV */
    [0x05] = OP(5, 2, 1),             /* SDIV */
    [0x06] = OP(5, 2, 1),             /* MOD */
    [0x07] = OP(5, 2, 1),             /* SMOD */
    [0x08] = OP(8, 3, 1),             /* ADDMOD */
    [0x09] = OP(8, 3, 1),             /* MULMOD */
    [0x0a] = OP(10, 2, 1),            /* EXP */
    [0x0b] = OP(5, 2, 1),             /* SIGNEXTEND */
    [0x10 ... 0x14] = OP(3, 2, 1),    /* LT GT SLT SGT EQ */
    [0x15] = OP(3, 1, 1),             /* ISZERO */
    [0x16 ... 0x18] = OP(3, 2, 1),    /* AND OR XOR */
    [0x19] = OP(3, 1, 1),             /* NOT */
    [0x1a ... 0x1d] = OP(3, 2, 1),    /* BYTE SHL SHR SAR */
    [0x20] = OP(30, 2, 1),            /* KECCAK256 */
    [0x30] = OP(2, 0, 1),             /* ADDRESS */
    [0x31] = OP(G_WARM_ACCESS, 1, 1), /* BALANCE */
    [0x32 ... 0x34] = OP(2, 0, 1),    /* ORIGIN CALLER CALLVALUE */
    [0x35] = OP(3, 1, 1),             /* CALLDATALOAD */
    [0x36] = OP(2, 0, 1),             /* CALLDATASIZE */
    [0x37] = OP(3, 3, 0),             /* CALLDATACOPY */
    [0x38] = OP(2, 0, 1),             /* CODESIZE */
    [0x39] = OP(3, 3, 0),             /* CODECOPY */
    [0x3a] = OP(2, 0, 1),             /* GASPRICE */
    [0x3b] = OP(G_WARM_ACCESS, 1, 1), /* EXTCODESIZE */
    [0x3c] = OP(G_WARM_ACCESS, 4, 0), /* EXTCODECOPY */
    [0x3d] = OP(2, 0, 1),             /* RETURNDATASIZE */
    [0x3e] = OP(3, 3, 0),             /* RETURNDATACOPY */
    [0x3f] = OP(G_WARM_ACCESS, 1, 1), /* EXTCODEHASH */
    [0x40] = OP(20, 1, 1),            /* BLOCKHASH */
    [0x41 ... 0x46] = OP(2, 0, 1),    /* COINBASE .. CHAINID */
    [0x47] = OP(5, 0, 1),             /* SELFBALANCE */
    [0x48] = OP(2, 0, 1),             /* BASEFEE */
    [0x49] = OP(3, 1, 1),             /* BLOBHASH */
    [0x4a] = OP(2, 0, 1),             /* BLOBBASEFEE */
    [0x50] = OP(2, 1, 0),             /* POP */
    [0x51] = OP(3, 1, 1),             /* MLOAD */
    [0x52] = OP(3, 2, 0),             /* MSTORE */
    [0x53] = OP(3, 2, 0),             /* MSTORE8 */
    [0x54] = OP(G_WARM_ACCESS, 1, 1), /* SLOAD */
    [0x55] = OP(0, 2, 0),             /* SSTORE */
    [0x56] = OP(8, 1, 0),             /* JUMP */
    [0x57] = OP(10, 2, 0),            /* JUMPI */
    [0x58 ... 0x5a] = OP(2, 0, 1),    /* PC MSIZE GAS */
    [0x5b] = OP(1, 0, 0),             /* JUMPDEST */
    [0x5c] = OP(100, 1, 1),           /* TLOAD */
    [0x5d] = OP(100, 2, 0),           /* TSTORE */
    [0x5e] = OP(3, 3, 0),             /* MCOPY */
    [0x5f] = OP(2, 0, 1),             /* PUSH0 */
    [0x60 ... 0x7f] = OP(3, 0, 1),    /* PUSH1..PUSH32 */
    [0x80] = OP(3, 1, 2),
    [0x81] = OP(3, 2, 3),
    [0x82] = OP(3, 3, 4),
    [0x83] = OP(3, 4, 5),
    [0x84] = OP(3, 5, 6),
    [0x85] = OP(3, 6, 7),
    [0x86] = OP(3, 7, 8),
    [0x87] = OP(3, 8, 9),
    [0x88] = OP(3, 9, 10),
    [0x89] = OP(3, 10, 11),
    [0x8a] = OP(3, 11, 12),
    [0x8b] = OP(3, 12, 13),
    [0x8c] = OP(3, 13, 14),
    [0x8d] = OP(3, 14, 15),
    [0x8e] = OP(3, 15, 16),
    [0x8f] = OP(3, 16, 17), /* DUP1..DUP16 */
    [0x90] = OP(3, 2, 2),
    [0x91] = OP(3, 3, 3),
    [0x92] = OP(3, 4, 4),
    [0x93] = OP(3, 5, 5),
    [0x94] = OP(3, 6, 6),
    [0x95] = OP(3, 7, 7),
    [0x96] = OP(3, 8, 8),
    [0x97] = OP(3, 9, 9),
    [0x98] = OP(3, 10, 10),
    [0x99] = OP(3, 11, 11),
    [0x9a] = OP(3, 12, 12),
    [0x9b] = OP(3, 13, 13),
    [0x9c] = OP(3, 14, 14),
    [0x9d] = OP(3, 15, 15),
    [0x9e] = OP(3, 16, 16),
    [0x9f] = OP(3, 17, 17), /* SWAP1..SWAP16 */
    [0xa0] = OP(375, 2, 0),
    [0xa1] = OP(375, 3, 0),
    [0xa2] = OP(375, 4, 0),
    [0xa3] = OP(375, 5, 0),
    [0xa4] = OP(375, 6, 0),            /* LOG0..LOG4 */
    [0xf0] = OP(32000, 3, 1),          /* CREATE */
    [0xf1] = OP(G_WARM_ACCESS, 7, 1),  /* CALL */
    [0xf2] = OP(G_WARM_ACCESS, 7, 1),  /* CALLCODE */
    [0xf3] = OP(0, 2, 0),              /* RETURN */
    [0xf4] = OP(G_WARM_ACCESS, 6, 1),  /* DELEGATECALL */
    [0xf5] = OP(32000, 4, 1),          /* CREATE2 */
    [0xfa] = OP(G_WARM_ACCESS, 6, 1),  /* STATICCALL */
    [0xfd] = OP(0, 2, 0),              /* REVERT */
    [0xfe] = OP(0, 0, 0),              /* INVALID */
    [0xff] = OP(G_SELFDESTRUCT, 1, 0), /* SELFDESTRUCT */
};

/* ---- opcodes with host calls or sub-messages ---------------------------- */

/* EIP-2929 surcharge for an account access: 0 when warm. */
static inline int64_t account_access_cost(struct frame *f, const evm_address *a)
{
    return f->host->ops->access_account(f->host->ctx, a) ? 0 : G_COLD_ACCOUNT - G_WARM_ACCESS;
}

/* SSTORE: EIP-2929 + EIP-2200 + EIP-3529. The static 0 is in the table. */
static __attribute__((noinline)) enum evm_status op_sstore(struct frame *f, int64_t *gas, u256 key,
                                                           u256 value)
{
    if (f->msg->is_static)
        return EVM_STATIC_MODE_VIOLATION;
    if (*gas <= G_SSTORE_SENTRY)
        return EVM_OUT_OF_GAS;
    const struct evm_host_ops *h = f->host->ops;
    void *ctx = f->host->ctx;
    int64_t cost = 0;
    if (!h->access_storage(ctx, &f->self, &key))
        cost += G_COLD_SLOAD;
    u256 current = h->get_storage(ctx, &f->self, &key);
    int64_t refund = 0;
    if (u256_eq(current, value)) {
        cost += G_WARM_ACCESS;
    } else {
        u256 original = h->get_original_storage(ctx, &f->self, &key);
        if (u256_eq(original, current)) {
            if (u256_is_zero(original)) {
                cost += G_SSTORE_SET;
            } else {
                cost += G_SSTORE_RESET;
                if (u256_is_zero(value))
                    refund += R_SSTORE_CLEARS;
            }
        } else {
            cost += G_WARM_ACCESS;
            if (!u256_is_zero(original)) {
                if (u256_is_zero(current))
                    refund -= R_SSTORE_CLEARS;
                else if (u256_is_zero(value))
                    refund += R_SSTORE_CLEARS;
            }
            if (u256_eq(original, value)) {
                if (u256_is_zero(original))
                    refund += G_SSTORE_SET - G_WARM_ACCESS;
                else
                    refund += G_SSTORE_RESET - G_WARM_ACCESS;
            }
        }
    }
    *gas -= cost;
    if (*gas < 0)
        return EVM_OUT_OF_GAS;
    f->refund += refund;
    h->set_storage(ctx, &f->self, &key, &value);
    return EVM_SUCCESS;
}

/* The i-th operand from the top of the stack (0 = top). */
#define ARG(i) top[-(int)(i)]

/*
 * CALL, CALLCODE, DELEGATECALL, STATICCALL. top points at the stack's top
 * item (ARG(0) = gas). On EVM_SUCCESS *success says whether the sub-call
 * succeeded (the word to push). Kept out of line so that the interpreter's
 * own C frame, which every nesting level repeats, stays small.
 */
static __attribute__((noinline)) enum evm_status op_call(struct frame *f, int64_t *gas, uint8_t op,
                                                         const u256 *top, bool *success)
{
    bool has_value = op == 0xf1 || op == 0xf2;
    u256 value = has_value ? ARG(2) : u256_zero();
    int a = has_value ? 3 : 2;
    evm_address target = word_to_addr(ARG(1));
    uint64_t in_off, in_len, out_off, out_len;

    if (op == 0xf1 && f->msg->is_static && !u256_is_zero(value))
        return EVM_STATIC_MODE_VIOLATION;
    if (!mem_region(f, gas, ARG(a), ARG(a + 1), &in_off, &in_len) ||
        !mem_region(f, gas, ARG(a + 2), ARG(a + 3), &out_off, &out_len))
        return EVM_OUT_OF_GAS;
    int64_t cost = account_access_cost(f, &target);
    if (!u256_is_zero(value)) {
        cost += G_CALL_VALUE;
        if (op == 0xf1 && f->host->ops->account_is_dead(f->host->ctx, &target))
            cost += G_NEW_ACCOUNT;
    }
    *gas -= cost;
    if (*gas < 0)
        return EVM_OUT_OF_GAS;
    int64_t cap = *gas - *gas / 64;
    int64_t call_gas = word_to_gas(ARG(0));
    if (call_gas > cap)
        call_gas = cap;
    *gas -= call_gas;
    if (!u256_is_zero(value))
        call_gas += EVM_CALL_STIPEND;

    struct evm_message m;
    memset(&m, 0, sizeof(m));
    m.depth = f->msg->depth + 1;
    m.gas = call_gas;
    m.is_static = f->msg->is_static;
    m.code_address = target;
    m.input = in_len > 0 ? f->mem->ptr + in_off : NULL;
    m.input_len = (size_t)in_len;
    switch (op) {
    case 0xf1:
        m.kind = EVM_CALL;
        m.sender = f->self;
        m.recipient = target;
        m.value = value;
        break;
    case 0xf2:
        m.kind = EVM_CALLCODE;
        m.sender = f->self;
        m.recipient = f->self;
        m.value = value;
        break;
    case 0xf4:
        m.kind = EVM_DELEGATECALL;
        m.sender = f->msg->sender;
        m.recipient = f->self;
        m.value = f->msg->value;
        break;
    default:
        m.kind = EVM_STATICCALL;
        m.is_static = true;
        m.sender = f->self;
        m.recipient = target;
        break;
    }
    struct evm_result r;
    execute_message(f->vm, f->host, f->tx, &m, f->ret, &r);
    *gas += r.gas_left;
    if (r.status == EVM_SUCCESS)
        f->refund += r.gas_refund;
    size_t n = f->ret->len < out_len ? f->ret->len : (size_t)out_len;
    if (n > 0)
        memcpy(f->mem->ptr + out_off, f->ret->ptr, n);
    *success = r.status == EVM_SUCCESS;
    return EVM_SUCCESS;
}

/* CREATE and CREATE2 (operands from top as for op_call); *created gets
   the word to push (0 on failure). */
static __attribute__((noinline)) enum evm_status
op_create(struct frame *f, int64_t *gas, bool is_create2, const u256 *top, u256 *created)
{
    uint64_t off, len;
    if (f->msg->is_static)
        return EVM_STATIC_MODE_VIOLATION;
    if (!u256_is_zero(ARG(2)) && (!u256_fits_u64(ARG(2)) || ARG(2).w[0] > EVM_MAX_INITCODE_BYTES))
        return EVM_INITCODE_SIZE_EXCEEDED;
    if (!mem_region(f, gas, ARG(1), ARG(2), &off, &len))
        return EVM_OUT_OF_GAS;
    int64_t words = (int64_t)words_of(len);
    *gas -= words * (G_INITCODE_WORD + (is_create2 ? G_KECCAK_WORD : 0));
    if (*gas < 0)
        return EVM_OUT_OF_GAS;
    int64_t call_gas = *gas - *gas / 64;
    *gas -= call_gas;

    struct evm_message m;
    memset(&m, 0, sizeof(m));
    m.kind = is_create2 ? EVM_CREATE2 : EVM_CREATE;
    m.depth = f->msg->depth + 1;
    m.gas = call_gas;
    m.sender = f->self;
    m.value = ARG(0);
    m.input = len > 0 ? f->mem->ptr + off : NULL;
    m.input_len = (size_t)len;
    if (is_create2)
        m.create2_salt = word_to_bytes32(ARG(3));
    struct evm_result r;
    execute_message(f->vm, f->host, f->tx, &m, f->ret, &r);
    *gas += r.gas_left;
    if (r.status == EVM_SUCCESS) {
        f->refund += r.gas_refund;
        *created = addr_to_word(&r.create_address);
    } else {
        *created = u256_zero();
    }
    return EVM_SUCCESS;
}

static __attribute__((noinline)) enum evm_status op_log(struct frame *f, int64_t *gas,
                                                        unsigned topics, const u256 *top)
{
    uint64_t off, len;
    if (f->msg->is_static)
        return EVM_STATIC_MODE_VIOLATION;
    if (!mem_region(f, gas, ARG(0), ARG(1), &off, &len))
        return EVM_OUT_OF_GAS;
    *gas -= (int64_t)(topics * G_LOG_TOPIC + len * G_LOG_BYTE);
    if (*gas < 0)
        return EVM_OUT_OF_GAS;
    evm_bytes32 t[4];
    for (unsigned i = 0; i < topics; i++)
        t[i] = word_to_bytes32(ARG(2 + i));
    f->host->ops->emit_log(f->host->ctx, &f->self, t, topics, len > 0 ? f->mem->ptr + off : NULL,
                           (size_t)len);
    return EVM_SUCCESS;
}

#undef ARG

static __attribute__((noinline)) enum evm_status op_selfdestruct(struct frame *f, int64_t *gas,
                                                                 u256 beneficiary_word)
{
    if (f->msg->is_static)
        return EVM_STATIC_MODE_VIOLATION;
    const struct evm_host_ops *h = f->host->ops;
    evm_address beneficiary = word_to_addr(beneficiary_word);
    int64_t cost = h->access_account(f->host->ctx, &beneficiary) ? 0 : G_COLD_ACCOUNT;
    if (!u256_is_zero(h->get_balance(f->host->ctx, &f->self)) &&
        h->account_is_dead(f->host->ctx, &beneficiary))
        cost += G_NEW_ACCOUNT;
    *gas -= cost;
    if (*gas < 0)
        return EVM_OUT_OF_GAS;
    h->selfdestruct(f->host->ctx, &f->self, &beneficiary);
    return EVM_SUCCESS;
}

/* ---- the interpreter loop ----------------------------------------------- */

/*
 * Runs the frame's code from pc 0. Returns the frame's status; f->gas holds
 * the gas left (meaningful for SUCCESS and REVERT) and f->out the output.
 */
static enum evm_status run(struct frame *f, const struct evm_code *c)
{
    /* Every opcode not listed is undefined; GCC's range initialiser sets the
       default and the listed entries override it. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
    static const void *labels[256] = {
        [0 ... 255] = &&op_undefined,
        [0x00] = &&op_stop,
        [0x01] = &&op_add,
        [0x02] = &&op_mul,
        [0x03] = &&op_sub,
        [0x04] = &&op_div,
        [0x05] = &&op_sdiv,
        [0x06] = &&op_mod,
        [0x07] = &&op_smod,
        [0x08] = &&op_addmod,
        [0x09] = &&op_mulmod,
        [0x0a] = &&op_exp,
        [0x0b] = &&op_signextend,
        [0x10] = &&op_lt,
        [0x11] = &&op_gt,
        [0x12] = &&op_slt,
        [0x13] = &&op_sgt,
        [0x14] = &&op_eq,
        [0x15] = &&op_iszero,
        [0x16] = &&op_and,
        [0x17] = &&op_or,
        [0x18] = &&op_xor,
        [0x19] = &&op_not,
        [0x1a] = &&op_byte,
        [0x1b] = &&op_shl,
        [0x1c] = &&op_shr,
        [0x1d] = &&op_sar,
        [0x20] = &&op_keccak,
        [0x30] = &&op_address,
        [0x31] = &&op_balance,
        [0x32] = &&op_origin,
        [0x33] = &&op_caller,
        [0x34] = &&op_callvalue,
        [0x35] = &&op_calldataload,
        [0x36] = &&op_calldatasize,
        [0x37] = &&op_calldatacopy,
        [0x38] = &&op_codesize,
        [0x39] = &&op_codecopy,
        [0x3a] = &&op_gasprice,
        [0x3b] = &&op_extcodesize,
        [0x3c] = &&op_extcodecopy,
        [0x3d] = &&op_returndatasize,
        [0x3e] = &&op_returndatacopy,
        [0x3f] = &&op_extcodehash,
        [0x40] = &&op_blockhash,
        [0x41] = &&op_coinbase,
        [0x42] = &&op_timestamp,
        [0x43] = &&op_number,
        [0x44] = &&op_prevrandao,
        [0x45] = &&op_gaslimit,
        [0x46] = &&op_chainid,
        [0x47] = &&op_selfbalance,
        [0x48] = &&op_basefee,
        [0x49] = &&op_blobhash,
        [0x4a] = &&op_blobbasefee,
        [0x50] = &&op_pop,
        [0x51] = &&op_mload,
        [0x52] = &&op_mstore,
        [0x53] = &&op_mstore8,
        [0x54] = &&op_sload,
        [0x55] = &&op_sstore,
        [0x56] = &&op_jump,
        [0x57] = &&op_jumpi,
        [0x58] = &&op_pc,
        [0x59] = &&op_msize,
        [0x5a] = &&op_gas,
        [0x5b] = &&op_jumpdest,
        [0x5c] = &&op_tload,
        [0x5d] = &&op_tstore,
        [0x5e] = &&op_mcopy,
        [0x5f] = &&op_push0,
        [0x60] = &&op_push1,
        [0x61 ... 0x67] = &&op_push_small,
        [0x68 ... 0x7f] = &&op_push_large,
        [0x80 ... 0x8f] = &&op_dup,
        [0x90 ... 0x9f] = &&op_swap,
        [0xa0 ... 0xa4] = &&op_log,
        [0xf0] = &&op_create,
        [0xf1] = &&op_call,
        [0xf2] = &&op_call,
        [0xf3] = &&op_return,
        [0xf4] = &&op_call,
        [0xf5] = &&op_create2,
        [0xfa] = &&op_call,
        [0xfd] = &&op_revert,
        [0xfe] = &&op_invalid,
        [0xff] = &&op_selfdestruct,
    };
#pragma GCC diagnostic pop

    const struct evm_host_ops *h = f->host->ops;
    void *hctx = f->host->ctx;
    u256 *const stack = f->vm->stacks[f->msg->depth];
    u256 *sp = stack;
    const uint8_t *const code = c->code;
    const uint8_t *ip = code;
    int64_t gas = f->gas;
    enum evm_status st = EVM_SUCCESS;
    uint64_t o, n;
    u256 a, b;

#define DISPATCH()                                                                                 \
    do {                                                                                           \
        const struct op_info *oi_ = &op_table[*ip];                                                \
        size_t height_ = (size_t)(sp - stack);                                                     \
        if (height_ < oi_->in)                                                                     \
            goto stack_underflow;                                                                  \
        if (height_ + oi_->grow > EVM_STACK_LIMIT)                                                 \
            goto stack_overflow;                                                                   \
        gas -= oi_->gas;                                                                           \
        if (gas < 0)                                                                               \
            goto out_of_gas;                                                                       \
        goto *labels[*ip];                                                                         \
    } while (0)
#define NEXT()                                                                                     \
    do {                                                                                           \
        ip++;                                                                                      \
        DISPATCH();                                                                                \
    } while (0)
#define BINARY(expr)                                                                               \
    do {                                                                                           \
        a = sp[-1];                                                                                \
        b = sp[-2];                                                                                \
        sp--;                                                                                      \
        sp[-1] = (expr);                                                                           \
        NEXT();                                                                                    \
    } while (0)
#define PUSH(v)                                                                                    \
    do {                                                                                           \
        *sp++ = (v);                                                                               \
    } while (0)
#define HALT(status)                                                                               \
    do {                                                                                           \
        st = (status);                                                                             \
        goto done;                                                                                 \
    } while (0)
#define CHECK(expr)                                                                                \
    do {                                                                                           \
        st = (expr);                                                                               \
        if (st != EVM_SUCCESS)                                                                     \
            goto done;                                                                             \
    } while (0)
#define MEM(off, size)                                                                             \
    do {                                                                                           \
        if (!mem_region(f, &gas, (off), (size), &o, &n))                                           \
            goto out_of_gas;                                                                       \
    } while (0)
#define CHARGE(amount)                                                                             \
    do {                                                                                           \
        gas -= (int64_t)(amount);                                                                  \
        if (gas < 0)                                                                               \
            goto out_of_gas;                                                                       \
    } while (0)

    bytes_clear(f->out);
    DISPATCH();

op_stop:
    HALT(EVM_SUCCESS);
op_add:
    BINARY(u256_add(a, b));
op_mul:
    BINARY(u256_mul(a, b));
op_sub:
    BINARY(u256_sub(a, b));
op_div:
    BINARY(u256_div(a, b));
op_sdiv:
    BINARY(u256_sdiv(a, b));
op_mod:
    BINARY(u256_mod(a, b));
op_smod:
    BINARY(u256_smod(a, b));
op_addmod:
    sp[-3] = u256_addmod(sp[-1], sp[-2], sp[-3]);
    sp -= 2;
    NEXT();
op_mulmod:
    sp[-3] = u256_mulmod(sp[-1], sp[-2], sp[-3]);
    sp -= 2;
    NEXT();
op_exp:
    CHARGE(G_EXP_BYTE * u256_byte_length(sp[-2]));
    BINARY(u256_exp(a, b));
op_signextend:
    BINARY(u256_signextend(a, b));
op_lt:
    BINARY(u256_from_u64(u256_lt(a, b)));
op_gt:
    BINARY(u256_from_u64(u256_gt(a, b)));
op_slt:
    BINARY(u256_from_u64(u256_slt(a, b)));
op_sgt:
    BINARY(u256_from_u64(u256_sgt(a, b)));
op_eq:
    BINARY(u256_from_u64(u256_eq(a, b)));
op_iszero:
    sp[-1] = u256_from_u64(u256_is_zero(sp[-1]));
    NEXT();
op_and:
    BINARY(u256_and(a, b));
op_or:
    BINARY(u256_or(a, b));
op_xor:
    BINARY(u256_xor(a, b));
op_not:
    sp[-1] = u256_not(sp[-1]);
    NEXT();
op_byte:
    BINARY(u256_byte(a, b));
op_shl:
    BINARY(u256_shl(a, b));
op_shr:
    BINARY(u256_shr(a, b));
op_sar:
    BINARY(u256_sar(a, b));
op_keccak : {
    MEM(sp[-1], sp[-2]);
    CHARGE(G_KECCAK_WORD * words_of(n));
    uint8_t digest[32];
    keccak256(n > 0 ? f->mem->ptr + o : NULL, (size_t)n, digest);
    sp--;
    sp[-1] = u256_from_be_bytes(digest, 32);
    NEXT();
}
op_address:
    PUSH(addr_to_word(&f->self));
    NEXT();
op_balance : {
    evm_address addr = word_to_addr(sp[-1]);
    CHARGE(account_access_cost(f, &addr));
    sp[-1] = h->get_balance(hctx, &addr);
    NEXT();
}
op_origin:
    PUSH(addr_to_word(&f->tx->origin));
    NEXT();
op_caller:
    PUSH(addr_to_word(&f->msg->sender));
    NEXT();
op_callvalue:
    PUSH(f->msg->value);
    NEXT();
op_calldataload : {
    uint8_t word[32];
    copy_padded(word, 32, f->msg->input, f->msg->input_len, sp[-1]);
    sp[-1] = u256_from_be_bytes(word, 32);
    NEXT();
}
op_calldatasize:
    PUSH(u256_from_u64(f->msg->input_len));
    NEXT();
op_calldatacopy:
    MEM(sp[-1], sp[-3]);
    CHARGE(G_COPY_WORD * words_of(n));
    if (n > 0)
        copy_padded(f->mem->ptr + o, n, f->msg->input, f->msg->input_len, sp[-2]);
    sp -= 3;
    NEXT();
op_codesize:
    PUSH(u256_from_u64(f->code_len));
    NEXT();
op_codecopy:
    MEM(sp[-1], sp[-3]);
    CHARGE(G_COPY_WORD * words_of(n));
    if (n > 0)
        copy_padded(f->mem->ptr + o, n, f->code, f->code_len, sp[-2]);
    sp -= 3;
    NEXT();
op_gasprice:
    PUSH(f->tx->gas_price);
    NEXT();
op_extcodesize : {
    evm_address addr = word_to_addr(sp[-1]);
    CHARGE(account_access_cost(f, &addr));
    const uint8_t *ext;
    size_t ext_len;
    h->get_code(hctx, &addr, &ext, &ext_len);
    sp[-1] = u256_from_u64(ext_len);
    NEXT();
}
op_extcodecopy : {
    evm_address addr = word_to_addr(sp[-1]);
    MEM(sp[-2], sp[-4]);
    CHARGE(G_COPY_WORD * words_of(n));
    CHARGE(account_access_cost(f, &addr));
    if (n > 0) {
        const uint8_t *ext;
        size_t ext_len;
        h->get_code(hctx, &addr, &ext, &ext_len);
        copy_padded(f->mem->ptr + o, n, ext, ext_len, sp[-3]);
    }
    sp -= 4;
    NEXT();
}
op_returndatasize:
    PUSH(u256_from_u64(f->ret->len));
    NEXT();
op_returndatacopy : {
    u256 end;
    if (u256_add_overflow(sp[-2], sp[-3], &end) || !u256_fits_u64(end) || end.w[0] > f->ret->len)
        HALT(EVM_INVALID_MEMORY_ACCESS);
    MEM(sp[-1], sp[-3]);
    CHARGE(G_COPY_WORD * words_of(n));
    if (n > 0)
        memcpy(f->mem->ptr + o, f->ret->ptr + sp[-2].w[0], (size_t)n);
    sp -= 3;
    NEXT();
}
op_extcodehash : {
    evm_address addr = word_to_addr(sp[-1]);
    CHARGE(account_access_cost(f, &addr));
    if (h->account_is_dead(hctx, &addr)) {
        sp[-1] = u256_zero();
    } else {
        evm_bytes32 hash = h->get_code_hash(hctx, &addr);
        sp[-1] = bytes32_to_word(&hash);
    }
    NEXT();
}
op_blockhash : {
    u256 num = sp[-1];
    uint64_t cur = f->tx->number;
    sp[-1] = u256_zero();
    if (u256_fits_u64(num) && num.w[0] < cur && cur - num.w[0] <= 256) {
        evm_bytes32 hash = h->get_block_hash(hctx, num.w[0]);
        sp[-1] = bytes32_to_word(&hash);
    }
    NEXT();
}
op_coinbase:
    PUSH(addr_to_word(&f->tx->coinbase));
    NEXT();
op_timestamp:
    PUSH(u256_from_u64(f->tx->timestamp));
    NEXT();
op_number:
    PUSH(u256_from_u64(f->tx->number));
    NEXT();
op_prevrandao:
    PUSH(bytes32_to_word(&f->tx->prevrandao));
    NEXT();
op_gaslimit:
    PUSH(u256_from_u64(f->tx->gas_limit));
    NEXT();
op_chainid:
    PUSH(f->tx->chain_id);
    NEXT();
op_selfbalance:
    PUSH(h->get_balance(hctx, &f->self));
    NEXT();
op_basefee:
    PUSH(f->tx->base_fee);
    NEXT();
op_blobhash : {
    u256 idx = sp[-1];
    sp[-1] = u256_zero();
    if (u256_fits_u64(idx) && idx.w[0] < f->tx->blob_hashes_count)
        sp[-1] = bytes32_to_word(&f->tx->blob_hashes[idx.w[0]]);
    NEXT();
}
op_blobbasefee:
    PUSH(f->tx->blob_base_fee);
    NEXT();
op_pop:
    sp--;
    NEXT();
op_mload:
    MEM(sp[-1], u256_from_u64(32));
    sp[-1] = u256_from_be_bytes(f->mem->ptr + o, 32);
    NEXT();
op_mstore:
    MEM(sp[-1], u256_from_u64(32));
    u256_to_be_bytes(sp[-2], f->mem->ptr + o);
    sp -= 2;
    NEXT();
op_mstore8:
    MEM(sp[-1], u256_one());
    f->mem->ptr[o] = (uint8_t)sp[-2].w[0];
    sp -= 2;
    NEXT();
op_sload : {
    u256 key = sp[-1];
    if (!h->access_storage(hctx, &f->self, &key))
        CHARGE(G_COLD_SLOAD - G_WARM_ACCESS);
    sp[-1] = h->get_storage(hctx, &f->self, &key);
    NEXT();
}
op_sstore:
    CHECK(op_sstore(f, &gas, sp[-1], sp[-2]));
    sp -= 2;
    NEXT();
op_jump:
    if (!u256_fits_u64(sp[-1]) || !evm_code_is_jumpdest(c, sp[-1].w[0]))
        HALT(EVM_BAD_JUMP_DESTINATION);
    ip = code + sp[-1].w[0];
    sp--;
    DISPATCH();
op_jumpi:
    if (!u256_is_zero(sp[-2])) {
        if (!u256_fits_u64(sp[-1]) || !evm_code_is_jumpdest(c, sp[-1].w[0]))
            HALT(EVM_BAD_JUMP_DESTINATION);
        ip = code + sp[-1].w[0];
        sp -= 2;
        DISPATCH();
    }
    sp -= 2;
    NEXT();
op_pc:
    PUSH(u256_from_u64((uint64_t)(ip - code)));
    NEXT();
op_msize:
    PUSH(u256_from_u64(f->mem->len));
    NEXT();
op_gas:
    PUSH(u256_from_u64((uint64_t)gas));
    NEXT();
op_jumpdest:
    NEXT();
op_tload:
    sp[-1] = h->get_transient_storage(hctx, &f->self, &sp[-1]);
    NEXT();
op_tstore:
    if (f->msg->is_static)
        HALT(EVM_STATIC_MODE_VIOLATION);
    h->set_transient_storage(hctx, &f->self, &sp[-1], &sp[-2]);
    sp -= 2;
    NEXT();
op_mcopy : {
    uint64_t src_o, src_n;
    MEM(sp[-1], sp[-3]);
    if (!mem_region(f, &gas, sp[-2], sp[-3], &src_o, &src_n))
        goto out_of_gas;
    CHARGE(G_COPY_WORD * words_of(n));
    if (n > 0)
        memmove(f->mem->ptr + o, f->mem->ptr + src_o, (size_t)n);
    sp -= 3;
    NEXT();
}
op_push0:
    PUSH(u256_zero());
    NEXT();
op_push1:
    PUSH(u256_from_u64(ip[1]));
    ip += 2;
    DISPATCH();
op_push_small : {
    unsigned len = (unsigned)(*ip - 0x5f);
    uint64_t v = 0;
    for (unsigned i = 1; i <= len; i++)
        v = (v << 8) | ip[i];
    PUSH(u256_from_u64(v));
    ip += len + 1;
    DISPATCH();
}
op_push_large : {
    unsigned len = (unsigned)(*ip - 0x5f);
    PUSH(u256_from_be_bytes(ip + 1, len));
    ip += len + 1;
    DISPATCH();
}
op_dup : {
    unsigned k = (unsigned)(*ip - 0x80 + 1);
    *sp = sp[-(int)k];
    sp++;
    NEXT();
}
op_swap : {
    unsigned k = (unsigned)(*ip - 0x90 + 1);
    a = sp[-1];
    sp[-1] = sp[-1 - (int)k];
    sp[-1 - (int)k] = a;
    NEXT();
}
op_log : {
    unsigned topics = (unsigned)(*ip - 0xa0);
    CHECK(op_log(f, &gas, topics, sp - 1));
    sp -= topics + 2;
    NEXT();
}
op_create:
op_create2 : {
    bool is2 = *ip == 0xf5;
    unsigned nargs = is2 ? 4 : 3;
    u256 created;
    CHECK(op_create(f, &gas, is2, sp - 1, &created));
    sp -= nargs - 1;
    sp[-1] = created;
    NEXT();
}
op_call : {
    uint8_t op = *ip;
    unsigned nargs = (op == 0xf1 || op == 0xf2) ? 7 : 6;
    bool ok;
    CHECK(op_call(f, &gas, op, sp - 1, &ok));
    if (f->vm->out_of_memory)
        goto out_of_gas;
    sp -= nargs - 1;
    sp[-1] = u256_from_u64(ok);
    NEXT();
}
op_return:
op_revert:
    MEM(sp[-1], sp[-2]);
    if (n > 0 && !set_bytes(f->vm, f->out, f->mem->ptr + o, (size_t)n))
        goto out_of_gas;
    HALT(*ip == 0xf3 ? EVM_SUCCESS : EVM_REVERT);
op_invalid:
op_undefined:
    HALT(EVM_INVALID_INSTRUCTION);
op_selfdestruct:
    CHECK(op_selfdestruct(f, &gas, sp[-1]));
    HALT(EVM_SUCCESS);

stack_underflow:
    HALT(EVM_STACK_UNDERFLOW);
stack_overflow:
    HALT(EVM_STACK_OVERFLOW);
out_of_gas:
    st = EVM_OUT_OF_GAS;
done:
    f->gas = gas;
    return st;

#undef DISPATCH
#undef NEXT
#undef BINARY
#undef PUSH
#undef HALT
#undef CHECK
#undef MEM
#undef CHARGE
}

/* ---- messages ----------------------------------------------------------- */

/* Runs code[0..len) (hash non-NULL: cacheable) as the frame of msg. */
static enum evm_status run_code(struct evm *vm, const struct evm_host *host,
                                const struct evm_tx_context *tx, const struct evm_message *msg,
                                const evm_address *self, const evm_bytes32 *hash,
                                const uint8_t *code, size_t len, struct bytes *out, int64_t *gas,
                                int64_t *refund)
{
    int32_t d = msg->depth;
    *refund = 0;
    bytes_clear(out);
    if (len == 0)
        return EVM_SUCCESS;
    if (vm->stacks[d] == NULL) {
        vm->stacks[d] = malloc(sizeof(u256) * EVM_STACK_LIMIT);
        if (vm->stacks[d] == NULL)
            goto fail_oom;
    }
    struct evm_code *c = evm_code_acquire(&vm->cache, hash, code, len);
    if (c == NULL)
        goto fail_oom;
    struct frame f = {
        .vm = vm,
        .host = host,
        .tx = tx,
        .msg = msg,
        .self = *self,
        .code = c->code,
        .code_len = c->len,
        .mem = &vm->memories[d],
        .ret = &vm->returns[d],
        .out = out,
        .gas = *gas,
        .refund = 0,
    };
    bytes_clear(f.mem);
    bytes_clear(f.ret);
    enum evm_status st = run(&f, c);
    evm_code_release(c);
    if (vm->out_of_memory)
        goto fail_oom;
    *gas = f.gas;
    *refund = f.refund;
    return st;

fail_oom:
    vm->out_of_memory = true;
    return EVM_OUT_OF_GAS;
}

static void run_precompile(struct evm *vm, const struct evm_message *msg, struct bytes *out,
                           struct evm_result *res)
{
    int64_t used = 0;
    enum evm_status st =
        evm_precompile_run(&msg->code_address, msg->input, msg->input_len, msg->gas, &used, out);
    res->status = st;
    res->gas_left = st == EVM_SUCCESS ? msg->gas - used : 0;
    if (st == EVM_UNSUPPORTED_PRECOMPILE && vm->unsupported_precompile == 0)
        vm->unsupported_precompile = msg->code_address.bytes[19];
}

/*
 * The end of every message: a failed one leaves no state change behind and
 * earns no refund; unless it was a REVERT, it also consumes all its gas and
 * returns no data.
 */
static void settle_message(const struct evm_host *host, uint64_t mark, struct bytes *out,
                           struct evm_result *res)
{
    if (res->status == EVM_SUCCESS)
        return;
    host->ops->revert_to(host->ctx, mark);
    res->gas_refund = 0;
    if (res->status != EVM_REVERT) {
        res->gas_left = 0;
        bytes_clear(out);
    }
}

static void call_message(struct evm *vm, const struct evm_host *host,
                         const struct evm_tx_context *tx, const struct evm_message *msg,
                         struct bytes *out, struct evm_result *res)
{
    const struct evm_host_ops *h = host->ops;
    bool moves_value = msg->kind == EVM_CALL || msg->kind == EVM_CALLCODE;
    if (moves_value && !u256_is_zero(msg->value) &&
        u256_lt(h->get_balance(host->ctx, &msg->sender), msg->value)) {
        res->status = EVM_INSUFFICIENT_BALANCE;
        return;
    }
    uint64_t mark = h->snapshot(host->ctx);
    if (msg->kind == EVM_CALL || msg->kind == EVM_STATICCALL)
        h->transfer(host->ctx, &msg->sender, &msg->recipient,
                    msg->kind == EVM_CALL ? msg->value : u256_zero());
    if (evm_is_precompile(&msg->code_address)) {
        run_precompile(vm, msg, out, res);
    } else {
        const uint8_t *code;
        size_t len;
        h->get_code(host->ctx, &msg->code_address, &code, &len);
        evm_bytes32 hash;
        if (len > 0)
            hash = h->get_code_hash(host->ctx, &msg->code_address);
        res->gas_left = msg->gas;
        res->status = run_code(vm, host, tx, msg, &msg->recipient, &hash, code, len, out,
                               &res->gas_left, &res->gas_refund);
    }
    settle_message(host, mark, out, res);
}

static void create_message(struct evm *vm, const struct evm_host *host,
                           const struct evm_tx_context *tx, const struct evm_message *msg,
                           struct bytes *out, struct evm_result *res)
{
    const struct evm_host_ops *h = host->ops;
    void *ctx = host->ctx;
    if (msg->input_len > EVM_MAX_INITCODE_BYTES) {
        res->status = EVM_INITCODE_SIZE_EXCEEDED;
        res->gas_left = 0;
        return;
    }
    if (!u256_is_zero(msg->value) && u256_lt(h->get_balance(ctx, &msg->sender), msg->value)) {
        res->status = EVM_INSUFFICIENT_BALANCE;
        return;
    }
    uint64_t nonce = h->get_nonce(ctx, &msg->sender);
    if (nonce == UINT64_MAX) {
        res->status = EVM_NONCE_OVERFLOW;
        return;
    }
    h->set_nonce(ctx, &msg->sender, nonce + 1);
    evm_address addr =
        msg->kind == EVM_CREATE2
            ? evm_create2_address(&msg->sender, &msg->create2_salt, msg->input, msg->input_len)
            : evm_create_address(&msg->sender, nonce);
    res->create_address = addr;
    h->access_account(ctx, &addr);

    const uint8_t *existing;
    size_t existing_len;
    h->get_code(ctx, &addr, &existing, &existing_len);
    if (h->get_nonce(ctx, &addr) != 0 || existing_len != 0 || h->has_storage(ctx, &addr)) {
        res->status = EVM_CREATE_COLLISION;
        res->gas_left = 0;
        return;
    }
    uint64_t mark = h->snapshot(ctx);
    h->create_account(ctx, &addr);
    h->set_nonce(ctx, &addr, 1);
    h->transfer(ctx, &msg->sender, &addr, msg->value);

    struct evm_message init = *msg;
    init.recipient = addr;
    init.code_address = addr;
    init.input = NULL;
    init.input_len = 0;
    res->gas_left = msg->gas;
    res->status = run_code(vm, host, tx, &init, &addr, NULL, msg->input, msg->input_len, out,
                           &res->gas_left, &res->gas_refund);
    if (res->status == EVM_SUCCESS) {
        int64_t deposit = (int64_t)out->len * G_CODE_DEPOSIT;
        if (out->len > EVM_MAX_CODE_BYTES)
            res->status = EVM_CODE_SIZE_EXCEEDED;
        else if (out->len > 0 && out->ptr[0] == 0xef)
            res->status = EVM_INVALID_CODE_PREFIX;
        else if (deposit > res->gas_left)
            res->status = EVM_OUT_OF_GAS;
        else {
            res->gas_left -= deposit;
            h->set_code(ctx, &addr, out->ptr, out->len);
            bytes_clear(out); /* a successful creation returns no data */
        }
    }
    settle_message(host, mark, out, res);
}

static void execute_message(struct evm *vm, const struct evm_host *host,
                            const struct evm_tx_context *tx, const struct evm_message *msg,
                            struct bytes *out, struct evm_result *res)
{
    memset(res, 0, sizeof(*res));
    res->status = EVM_SUCCESS;
    res->gas_left = msg->gas; /* light failures give everything back */
    bytes_clear(out);
    if (msg->depth > EVM_MAX_DEPTH) {
        res->status = EVM_CALL_DEPTH_EXCEEDED;
    } else if (msg->kind == EVM_CREATE || msg->kind == EVM_CREATE2) {
        create_message(vm, host, tx, msg, out, res);
    } else {
        call_message(vm, host, tx, msg, out, res);
    }
    res->output = out->ptr;
    res->output_len = out->len;
}

/* ---- public API --------------------------------------------------------- */

struct evm *evm_new(size_t code_cache_entries)
{
    struct evm *vm = calloc(1, sizeof(*vm));
    if (vm == NULL)
        return NULL;
    if (evm_code_cache_init(&vm->cache, code_cache_entries == 0 ? DEFAULT_CACHE_ENTRIES
                                                                : code_cache_entries) != TC_OK) {
        free(vm);
        return NULL;
    }
    for (int i = 0; i <= EVM_MAX_DEPTH; i++) {
        bytes_init(&vm->memories[i]);
        bytes_init(&vm->returns[i]);
    }
    bytes_init(&vm->output);
    return vm;
}

void evm_free(struct evm *vm)
{
    if (vm == NULL)
        return;
    for (int i = 0; i <= EVM_MAX_DEPTH; i++) {
        free(vm->stacks[i]);
        bytes_free(&vm->memories[i]);
        bytes_free(&vm->returns[i]);
    }
    bytes_free(&vm->output);
    evm_code_cache_free(&vm->cache);
    free(vm);
}

int evm_execute(struct evm *vm, const struct evm_host *host, const struct evm_tx_context *tx,
                const struct evm_message *msg, struct evm_result *result)
{
    if (vm == NULL || host == NULL || host->ops == NULL || tx == NULL || msg == NULL ||
        result == NULL || msg->gas < 0 || msg->depth < 0 || msg->depth > EVM_MAX_DEPTH ||
        (msg->input == NULL && msg->input_len != 0) || msg->kind < EVM_CALL ||
        msg->kind > EVM_CREATE2 || (tx->blob_hashes == NULL && tx->blob_hashes_count != 0))
        return TC_EINVAL;
    vm->out_of_memory = false;
    vm->unsupported_precompile = 0;
    uint64_t mark = host->ops->snapshot(host->ctx);
    struct evm_message m = *msg;
    if (m.kind == EVM_STATICCALL)
        m.is_static = true;
    execute_message(vm, host, tx, &m, &vm->output, result);
    if (vm->out_of_memory) {
        host->ops->revert_to(host->ctx, mark);
        memset(result, 0, sizeof(*result));
        return TC_ENOMEM;
    }
    result->unsupported_precompile = vm->unsupported_precompile;
    return TC_OK;
}

const char *evm_status_name(enum evm_status status)
{
    switch (status) {
    case EVM_SUCCESS:
        return "success";
    case EVM_REVERT:
        return "revert";
    case EVM_OUT_OF_GAS:
        return "out of gas";
    case EVM_INVALID_INSTRUCTION:
        return "invalid instruction";
    case EVM_STACK_UNDERFLOW:
        return "stack underflow";
    case EVM_STACK_OVERFLOW:
        return "stack overflow";
    case EVM_BAD_JUMP_DESTINATION:
        return "bad jump destination";
    case EVM_STATIC_MODE_VIOLATION:
        return "static mode violation";
    case EVM_INVALID_MEMORY_ACCESS:
        return "return data out of bounds";
    case EVM_CALL_DEPTH_EXCEEDED:
        return "call depth exceeded";
    case EVM_INSUFFICIENT_BALANCE:
        return "insufficient balance";
    case EVM_NONCE_OVERFLOW:
        return "nonce overflow";
    case EVM_CREATE_COLLISION:
        return "create collision";
    case EVM_INITCODE_SIZE_EXCEEDED:
        return "initcode size exceeded";
    case EVM_CODE_SIZE_EXCEEDED:
        return "code size exceeded";
    case EVM_INVALID_CODE_PREFIX:
        return "invalid code prefix 0xEF";
    case EVM_PRECOMPILE_FAILURE:
        return "precompile failure";
    case EVM_UNSUPPORTED_PRECOMPILE:
        return "unsupported precompile";
    }
    return "unknown status";
}

evm_address evm_create_address(const evm_address *sender, uint64_t nonce)
{
    uint8_t rlp[1 + 21 + 9];
    size_t n = 1;
    rlp[n++] = 0x80 + 20;
    memcpy(rlp + n, sender->bytes, 20);
    n += 20;
    if (nonce == 0) {
        rlp[n++] = 0x80;
    } else if (nonce < 0x80) {
        rlp[n++] = (uint8_t)nonce;
    } else {
        unsigned len = (unsigned)(64 - __builtin_clzll(nonce) + 7) / 8;
        rlp[n++] = (uint8_t)(0x80 + len);
        for (unsigned i = 0; i < len; i++)
            rlp[n++] = (uint8_t)(nonce >> (8 * (len - 1 - i)));
    }
    rlp[0] = (uint8_t)(0xc0 + (n - 1));
    uint8_t digest[32];
    keccak256(rlp, n, digest);
    evm_address a;
    memcpy(a.bytes, digest + 12, 20);
    return a;
}

evm_address evm_create2_address(const evm_address *sender, const evm_bytes32 *salt,
                                const uint8_t *initcode, size_t initcode_len)
{
    uint8_t buf[1 + 20 + 32 + 32];
    buf[0] = 0xff;
    memcpy(buf + 1, sender->bytes, 20);
    memcpy(buf + 21, salt->bytes, 32);
    keccak256(initcode, initcode_len, buf + 53);
    uint8_t digest[32];
    keccak256(buf, sizeof(buf), digest);
    evm_address a;
    memcpy(a.bytes, digest + 12, 20);
    return a;
}
