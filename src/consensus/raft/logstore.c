/* logstore.c - the durable Raft log store: segments, recovery scan, hard state (see logstore.h). */
#include "consensus/raft/logstore.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "base/log.h"

#define MOD "logstore"

#define RECORD_MAGIC      0x4c524354u /* "TCRL" read as little-endian u32 */
#define HARD_STATE_MAGIC  0x53484354u /* "TCHS" */
#define META_MAGIC        0x4d4c4354u /* "TCLM" */
#define FORMAT_VERSION    1u
#define HDR               LOGSTORE_RECORD_HEADER_BYTES
#define HARD_STATE_FIXED  32u /* magic, version, pad, extra length, term, vote */
#define META_BYTES        28u
#define SCAN_BUFFER_BYTES (1u << 20)
#define MAX_RECORD_LIMIT  (1u << 30)
#define MIN_SEGMENT_BYTES 256u

#define HARD_STATE_NAME "hardstate"
#define HARD_STATE_TMP  "hardstate.tmp"
#define META_NAME       "logmeta"
#define META_TMP        "logmeta.tmp"

/* One segment file, named for the index of its first record. */
struct segment {
    uint64_t first_index;
    uint64_t durable_bytes; /* written by a completed logstore_sync */
    uint64_t bytes;         /* durable_bytes + records still pending for it */
    bool on_disk;           /* the file exists (else it is planned for the next sync) */
};

/* Where an entry lives: the record's offset in its segment (the segment is
 * found by index), and what term_at/entry_info answer without I/O. */
struct entry_loc {
    uint64_t term;
    uint64_t offset;
    uint32_t len;
    uint8_t type;
};

struct logstore {
    char dir[PATH_MAX];
    struct logstore_options opt;
    int dir_fd;
    bool failed;

    uint64_t boundary_index, boundary_term;
    uint64_t last_index, synced_index;

    /* Entry boundary_index+1+i is locs[loc_head + i], i < loc_count. */
    struct entry_loc *locs;
    size_t loc_head, loc_count, loc_cap;

    struct segment *segs; /* ordered by first_index */
    size_t seg_count, seg_cap;

    /* Encoded records of the entries synced_index+1..last_index, back to
     * back; pend_off[i] is where entry synced_index+1+i starts in it. */
    struct bytes pending;
    size_t *pend_off;
    size_t pend_cap;

    int write_fd; /* read-write fd of segment write_first, or -1 */
    uint64_t write_first;
    int read_fd; /* read-only fd of segment read_first, or -1 */
    uint64_t read_first;

    bool has_hard_state;
    uint64_t hs_term, hs_vote;
    size_t hs_extra_len;
    uint8_t hs_extra[LOGSTORE_HARD_STATE_EXTRA_MAX];
};

/* A decoded record header. */
struct record_header {
    uint8_t type;
    uint32_t len;
    uint32_t crc;
    uint64_t index, term, batch_first;
};

/* ---- little-endian helpers ---- */

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* CRC of a record: the header with its CRC field (bytes 12..16) as zero, then the payload. */
static uint32_t header_crc(const uint8_t *hdr)
{
    static const uint8_t zero[4];
    uint32_t crc = logstore_crc32c(0, hdr, 12);
    crc = logstore_crc32c(crc, zero, 4);
    return logstore_crc32c(crc, hdr + 16, HDR - 16);
}

static void encode_header(uint8_t *hdr, uint64_t index, uint64_t term, uint8_t type,
                          uint64_t batch_first, const void *data, size_t len)
{
    put_le32(hdr, RECORD_MAGIC);
    hdr[4] = FORMAT_VERSION;
    hdr[5] = type;
    hdr[6] = hdr[7] = 0;
    put_le32(hdr + 8, (uint32_t)len);
    put_le64(hdr + 16, index);
    put_le64(hdr + 24, term);
    put_le64(hdr + 32, batch_first);
    uint32_t crc = logstore_crc32c(header_crc(hdr), data, len);
    put_le32(hdr + 12, crc);
}

/* Framing checks that need no payload; NULL when the header is well formed. */
static const char *decode_header(const uint8_t *hdr, uint32_t max_len, struct record_header *h)
{
    if (get_le32(hdr) != RECORD_MAGIC)
        return "bad record magic";
    if (hdr[4] != FORMAT_VERSION)
        return "unsupported record version";
    if (hdr[6] != 0 || hdr[7] != 0)
        return "nonzero reserved bytes";
    h->type = hdr[5];
    h->len = get_le32(hdr + 8);
    h->crc = get_le32(hdr + 12);
    h->index = get_le64(hdr + 16);
    h->term = get_le64(hdr + 24);
    h->batch_first = get_le64(hdr + 32);
    if (h->len > max_len)
        return "record length beyond max_record_bytes";
    return NULL;
}

/* ---- error reporting ---- */

/* Marks the store failed after an OS error on a write path (see logstore.h). */
static int fail_io(struct logstore *ls, const char *what, const char *name)
{
    int e = errno;
    LOG_E(MOD, "%s %s/%s failed: %s; the log store refuses further writes", what, ls->dir, name,
          strerror(e));
    ls->failed = true;
    errno = e;
    return TC_EIO;
}

/* ---- file helpers ---- */

static void segment_name(uint64_t first_index, char *name, size_t cap)
{
    snprintf(name, cap, "seg-%016" PRIx64 ".log", first_index);
}

static int path_of(const struct logstore *ls, const char *name, char *path)
{
    int n = snprintf(path, PATH_MAX, "%s/%s", ls->dir, name);
    return n < 0 || n >= PATH_MAX ? TC_EINVAL : TC_OK;
}

static int open_in_dir(const struct logstore *ls, const char *name, int flags)
{
    char path[PATH_MAX];
    if (path_of(ls, name, path) != TC_OK) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd;
    do {
        fd = open(path, flags | O_CLOEXEC, 0600);
    } while (fd < 0 && errno == EINTR);
    return fd;
}

static int unlink_in_dir(const struct logstore *ls, const char *name)
{
    char path[PATH_MAX];
    if (path_of(ls, name, path) != TC_OK) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return unlink(path);
}

static int pwrite_all(int fd, const uint8_t *p, size_t len, uint64_t off)
{
    while (len) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return -1;
        }
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

/* Reads exactly len bytes; -1 with errno set on error, EIO on a short file. */
static int pread_all(int fd, uint8_t *p, size_t len, uint64_t off)
{
    while (len) {
        ssize_t n = pread(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return -1;
        }
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

static int sync_data(const struct logstore *ls, int fd)
{
    if (!ls->opt.fsync)
        return 0;
    int rc;
    do {
        rc = fdatasync(fd);
    } while (rc != 0 && errno == EINTR);
    return rc;
}

static int sync_dir(const struct logstore *ls)
{
    if (!ls->opt.fsync)
        return 0;
    int rc;
    do {
        rc = fsync(ls->dir_fd);
    } while (rc != 0 && errno == EINTR);
    return rc;
}

/* Makes a newly created directory's own entry durable: fsync of its parent. */
static int sync_parent_dir(const char *dir)
{
    char parent[PATH_MAX];
    snprintf(parent, sizeof(parent), "%s", dir);
    size_t n = strlen(parent);
    while (n > 1 && parent[n - 1] == '/')
        parent[--n] = '\0';
    char *slash = strrchr(parent, '/');
    if (!slash)
        snprintf(parent, sizeof(parent), ".");
    else if (slash == parent)
        parent[1] = '\0';
    else
        *slash = '\0';
    int fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Writes a small file atomically: temp file, fsync, rename, fsync of the directory. */
static int write_atomically(struct logstore *ls, const char *name, const char *tmp_name,
                            const uint8_t *buf, size_t len)
{
    int fd = open_in_dir(ls, tmp_name, O_WRONLY | O_CREAT | O_TRUNC);
    if (fd < 0)
        return fail_io(ls, "create", tmp_name);
    if (pwrite_all(fd, buf, len, 0) != 0 || (ls->opt.fsync && fsync(fd) != 0)) {
        int rc = fail_io(ls, "write", tmp_name);
        close(fd);
        unlink_in_dir(ls, tmp_name);
        return rc;
    }
    close(fd);
    char from[PATH_MAX], to[PATH_MAX];
    if (path_of(ls, tmp_name, from) != TC_OK || path_of(ls, name, to) != TC_OK)
        return TC_EINVAL;
    if (rename(from, to) != 0) {
        int rc = fail_io(ls, "rename", tmp_name);
        unlink_in_dir(ls, tmp_name);
        return rc;
    }
    if (sync_dir(ls) != 0)
        return fail_io(ls, "fsync directory after renaming", name);
    return TC_OK;
}

/* Reads a whole small file of at most cap bytes. TC_ENOTFOUND when missing;
 * TC_ECORRUPT when larger than cap. */
static int read_small_file(const struct logstore *ls, const char *name, uint8_t *buf, size_t cap,
                           size_t *len, char *err, size_t err_len)
{
    int fd = open_in_dir(ls, name, O_RDONLY);
    if (fd < 0) {
        if (errno == ENOENT)
            return TC_ENOTFOUND;
        tc_errorf(err, err_len, "%s/%s: open: %s", ls->dir, name, strerror(errno));
        return TC_EIO;
    }
    size_t got = 0;
    for (;;) {
        ssize_t n = read(fd, buf + got, cap - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            tc_errorf(err, err_len, "%s/%s: read: %s", ls->dir, name, strerror(errno));
            close(fd);
            return TC_EIO;
        }
        if (n == 0)
            break;
        got += (size_t)n;
        if (got == cap) {
            uint8_t extra;
            ssize_t more = read(fd, &extra, 1);
            close(fd);
            if (more != 0) {
                tc_errorf(err, err_len, "%s/%s: offset %zu: file longer than %zu bytes", ls->dir,
                          name, cap, cap);
                return TC_ECORRUPT;
            }
            *len = got;
            return TC_OK;
        }
    }
    close(fd);
    *len = got;
    return TC_OK;
}

/* ---- hard state and boundary files ---- */

static int load_hard_state(struct logstore *ls, char *err, size_t err_len)
{
    uint8_t buf[HARD_STATE_FIXED + LOGSTORE_HARD_STATE_EXTRA_MAX + 4];
    size_t len;
    int rc = read_small_file(ls, HARD_STATE_NAME, buf, sizeof(buf), &len, err, err_len);
    if (rc == TC_ENOTFOUND)
        return TC_OK;
    if (rc != TC_OK)
        return rc;
    const char *why = NULL;
    size_t at = 0;
    uint32_t extra_len = len >= HARD_STATE_FIXED ? get_le32(buf + 8) : 0;
    if (len < HARD_STATE_FIXED + 4) {
        why = "file too short";
        at = len;
    } else if (get_le32(buf) != HARD_STATE_MAGIC || buf[4] != FORMAT_VERSION || buf[5] != 0 ||
               buf[6] != 0 || buf[7] != 0) {
        why = "bad magic or version";
    } else if (extra_len > LOGSTORE_HARD_STATE_EXTRA_MAX ||
               len != HARD_STATE_FIXED + extra_len + 4) {
        why = "length does not match the file size";
        at = 8;
    } else if (logstore_crc32c(0, buf, len - 4) != get_le32(buf + len - 4)) {
        why = "CRC mismatch";
        at = len - 4;
    }
    if (why) {
        tc_errorf(err, err_len, "%s/%s: offset %zu: %s", ls->dir, HARD_STATE_NAME, at, why);
        return TC_ECORRUPT;
    }
    ls->has_hard_state = true;
    ls->hs_term = get_le64(buf + 16);
    ls->hs_vote = get_le64(buf + 24);
    ls->hs_extra_len = extra_len;
    memcpy(ls->hs_extra, buf + HARD_STATE_FIXED, extra_len);
    return TC_OK;
}

static int load_meta(struct logstore *ls, char *err, size_t err_len)
{
    uint8_t buf[META_BYTES];
    size_t len;
    int rc = read_small_file(ls, META_NAME, buf, sizeof(buf), &len, err, err_len);
    if (rc == TC_ENOTFOUND)
        return TC_OK;
    if (rc != TC_OK)
        return rc;
    const char *why = NULL;
    size_t at = 0;
    if (len != META_BYTES) {
        why = "file has the wrong size";
        at = len;
    } else if (get_le32(buf) != META_MAGIC || buf[4] != FORMAT_VERSION || buf[5] != 0 ||
               buf[6] != 0 || buf[7] != 0) {
        why = "bad magic or version";
    } else if (logstore_crc32c(0, buf, META_BYTES - 4) != get_le32(buf + META_BYTES - 4)) {
        why = "CRC mismatch";
        at = META_BYTES - 4;
    }
    if (why) {
        tc_errorf(err, err_len, "%s/%s: offset %zu: %s", ls->dir, META_NAME, at, why);
        return TC_ECORRUPT;
    }
    ls->boundary_index = get_le64(buf + 8);
    ls->boundary_term = get_le64(buf + 16);
    return TC_OK;
}

static int save_meta(struct logstore *ls, uint64_t index, uint64_t term)
{
    uint8_t buf[META_BYTES];
    put_le32(buf, META_MAGIC);
    buf[4] = FORMAT_VERSION;
    buf[5] = buf[6] = buf[7] = 0;
    put_le64(buf + 8, index);
    put_le64(buf + 16, term);
    put_le32(buf + 24, logstore_crc32c(0, buf, META_BYTES - 4));
    return write_atomically(ls, META_NAME, META_TMP, buf, sizeof(buf));
}

int logstore_save_hard_state(struct logstore *ls, uint64_t term, uint64_t vote, const void *extra,
                             size_t extra_len)
{
    if (!ls || (extra_len && !extra))
        return TC_EINVAL;
    if (extra_len > LOGSTORE_HARD_STATE_EXTRA_MAX)
        return TC_ETOOBIG;
    if (ls->failed)
        return TC_EIO;
    uint8_t buf[HARD_STATE_FIXED + LOGSTORE_HARD_STATE_EXTRA_MAX + 4];
    put_le32(buf, HARD_STATE_MAGIC);
    buf[4] = FORMAT_VERSION;
    buf[5] = buf[6] = buf[7] = 0;
    put_le32(buf + 8, (uint32_t)extra_len);
    put_le32(buf + 12, 0);
    put_le64(buf + 16, term);
    put_le64(buf + 24, vote);
    if (extra_len)
        memcpy(buf + HARD_STATE_FIXED, extra, extra_len);
    size_t len = HARD_STATE_FIXED + extra_len;
    put_le32(buf + len, logstore_crc32c(0, buf, len));
    int rc = write_atomically(ls, HARD_STATE_NAME, HARD_STATE_TMP, buf, len + 4);
    if (rc != TC_OK)
        return rc;
    ls->has_hard_state = true;
    ls->hs_term = term;
    ls->hs_vote = vote;
    ls->hs_extra_len = extra_len;
    if (extra_len)
        memcpy(ls->hs_extra, extra, extra_len);
    return TC_OK;
}

int logstore_load_hard_state(const struct logstore *ls, uint64_t *term, uint64_t *vote, void *extra,
                             size_t extra_cap, size_t *extra_len)
{
    if (!ls || !term || !vote || !extra_len || (extra_cap && !extra))
        return TC_EINVAL;
    if (!ls->has_hard_state)
        return TC_ENOTFOUND;
    *term = ls->hs_term;
    *vote = ls->hs_vote;
    *extra_len = ls->hs_extra_len;
    if (ls->hs_extra_len > extra_cap)
        return TC_ETOOBIG;
    if (ls->hs_extra_len)
        memcpy(extra, ls->hs_extra, ls->hs_extra_len);
    return TC_OK;
}

/* ---- in-memory index ---- */

static struct entry_loc *loc_of(const struct logstore *ls, uint64_t index)
{
    assert(index > ls->boundary_index && index <= ls->last_index);
    return &ls->locs[ls->loc_head + (size_t)(index - ls->boundary_index - 1)];
}

static int push_loc(struct logstore *ls, struct entry_loc loc)
{
    if (ls->loc_head + ls->loc_count == ls->loc_cap) {
        if (ls->loc_head > 0 && ls->loc_head >= ls->loc_count) {
            memmove(ls->locs, ls->locs + ls->loc_head, ls->loc_count * sizeof(*ls->locs));
            ls->loc_head = 0;
        } else {
            size_t cap = ls->loc_cap ? ls->loc_cap * 2 : 1024;
            struct entry_loc *p = realloc(ls->locs, cap * sizeof(*p));
            if (!p)
                return TC_ENOMEM;
            ls->locs = p;
            ls->loc_cap = cap;
        }
    }
    ls->locs[ls->loc_head + ls->loc_count++] = loc;
    return TC_OK;
}

static int push_segment(struct logstore *ls, struct segment seg)
{
    if (ls->seg_count == ls->seg_cap) {
        size_t cap = ls->seg_cap ? ls->seg_cap * 2 : 16;
        struct segment *p = realloc(ls->segs, cap * sizeof(*p));
        if (!p)
            return TC_ENOMEM;
        ls->segs = p;
        ls->seg_cap = cap;
    }
    ls->segs[ls->seg_count++] = seg;
    return TC_OK;
}

/* Slot of the segment holding index: the last one whose first_index <= index. */
static size_t segment_of(const struct logstore *ls, uint64_t index)
{
    assert(ls->seg_count > 0 && ls->segs[0].first_index <= index);
    size_t lo = 0, hi = ls->seg_count;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (ls->segs[mid].first_index <= index)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* Closes any fd open on the segment starting at first_index. */
static void forget_fds(struct logstore *ls, uint64_t first_index)
{
    if (ls->write_fd >= 0 && ls->write_first == first_index)
        close_fd(&ls->write_fd);
    if (ls->read_fd >= 0 && ls->read_first == first_index)
        close_fd(&ls->read_fd);
}

/* The read-write fd of segment slot s, created (with a directory fsync) if it
 * is not on disk yet. Only one segment is open for writing at a time. */
static int write_fd_of(struct logstore *ls, size_t s, int *fd)
{
    struct segment *seg = &ls->segs[s];
    if (ls->write_fd >= 0 && ls->write_first == seg->first_index) {
        *fd = ls->write_fd;
        return TC_OK;
    }
    close_fd(&ls->write_fd);
    char name[64];
    segment_name(seg->first_index, name, sizeof(name));
    int flags = seg->on_disk ? O_RDWR : O_RDWR | O_CREAT | O_EXCL;
    int f = open_in_dir(ls, name, flags);
    if (f < 0)
        return fail_io(ls, seg->on_disk ? "open" : "create", name);
    if (!seg->on_disk) {
        if (sync_dir(ls) != 0) {
            close(f);
            return fail_io(ls, "fsync directory after creating", name);
        }
        seg->on_disk = true;
    }
    ls->write_fd = f;
    ls->write_first = seg->first_index;
    *fd = f;
    return TC_OK;
}

static int read_fd_of(struct logstore *ls, size_t s, int *fd)
{
    uint64_t first = ls->segs[s].first_index;
    if (ls->write_fd >= 0 && ls->write_first == first) {
        *fd = ls->write_fd;
        return TC_OK;
    }
    if (ls->read_fd < 0 || ls->read_first != first) {
        close_fd(&ls->read_fd);
        char name[64];
        segment_name(first, name, sizeof(name));
        int f = open_in_dir(ls, name, O_RDONLY);
        if (f < 0) {
            LOG_E(MOD, "open %s/%s failed: %s", ls->dir, name, strerror(errno));
            return TC_EIO;
        }
        ls->read_fd = f;
        ls->read_first = first;
    }
    *fd = ls->read_fd;
    return TC_OK;
}

/* ---- recovery scan ---- */

/* A window over one segment file for the scan on open. */
struct scan {
    int fd;
    uint64_t size;
    uint8_t *buf;
    uint64_t buf_off;
    size_t buf_len;
};

/* Makes [off, off+len) resident in the window; len <= SCAN_BUFFER_BYTES and
 * off + len <= size. Returns a pointer into the window or NULL on I/O error. */
static const uint8_t *scan_at(struct scan *sc, uint64_t off, size_t len)
{
    if (off >= sc->buf_off && off + len <= sc->buf_off + sc->buf_len)
        return sc->buf + (off - sc->buf_off);
    uint64_t left = sc->size - off;
    size_t n = left < SCAN_BUFFER_BYTES ? (size_t)left : SCAN_BUFFER_BYTES;
    if (pread_all(sc->fd, sc->buf, n, off) != 0)
        return NULL;
    sc->buf_off = off;
    sc->buf_len = n;
    return sc->buf;
}

/*
 * Checks the record at off for framing and CRC. TC_OK with *h filled;
 * TC_ECORRUPT with *why when it is damaged; TC_EIO on a read error.
 */
static int scan_record(struct scan *sc, uint64_t off, uint32_t max_len, struct record_header *h,
                       const char **why)
{
    *why = NULL;
    if (sc->size - off < HDR) {
        *why = "short record header";
        return TC_ECORRUPT;
    }
    const uint8_t *hdr = scan_at(sc, off, HDR);
    if (!hdr)
        return TC_EIO;
    if ((*why = decode_header(hdr, max_len, h)) != NULL)
        return TC_ECORRUPT;
    if (sc->size - off - HDR < h->len) {
        *why = "short record payload";
        return TC_ECORRUPT;
    }
    uint32_t crc = header_crc(hdr);
    uint64_t p = off + HDR, end = p + h->len;
    while (p < end) {
        size_t n = end - p < SCAN_BUFFER_BYTES ? (size_t)(end - p) : SCAN_BUFFER_BYTES;
        const uint8_t *chunk = scan_at(sc, p, n);
        if (!chunk)
            return TC_EIO;
        crc = logstore_crc32c(crc, chunk, n);
        p += n;
    }
    if (crc != h->crc) {
        *why = "record CRC mismatch";
        return TC_ECORRUPT;
    }
    return TC_OK;
}

/*
 * After a damaged record at bad_off that should have held index `expected`:
 * is there an intact record of a later sync batch further on? Such a record
 * was written only after the damaged one had been made durable, so the damage
 * is not a torn write. *found_off gets its offset.
 */
static int later_batch_follows(struct scan *sc, uint64_t bad_off, uint64_t expected,
                               uint32_t max_len, bool *found, uint64_t *found_off)
{
    *found = false;
    for (uint64_t off = bad_off + 1; off + HDR <= sc->size; off++) {
        const uint8_t *p = scan_at(sc, off, 4);
        if (!p)
            return TC_EIO;
        if (get_le32(p) != RECORD_MAGIC)
            continue;
        struct record_header h;
        const char *why;
        int rc = scan_record(sc, off, max_len, &h, &why);
        if (rc == TC_EIO)
            return rc;
        if (rc != TC_OK)
            continue;
        if (h.batch_first > expected) {
            *found = true;
            *found_off = off;
            return TC_OK;
        }
        off += HDR + h.len - 1;
    }
    return TC_OK;
}

/* Scan state carried across segments. */
struct scan_state {
    uint64_t expected;  /* index the next record must have */
    uint64_t prev_term; /* term of the previous record */
};

/*
 * Validates segment slot s, appending its live entries to the index. For the
 * last segment a torn tail is truncated. Sets the segment's sizes.
 */
static int scan_segment(struct logstore *ls, size_t s, bool last, struct scan_state *st,
                        uint8_t *buf, char *err, size_t err_len)
{
    struct segment *seg = &ls->segs[s];
    char name[64];
    segment_name(seg->first_index, name, sizeof(name));
    int rc = TC_OK;
    int fd = open_in_dir(ls, name, O_RDONLY);
    if (fd < 0) {
        tc_errorf(err, err_len, "%s/%s: open: %s", ls->dir, name, strerror(errno));
        return TC_EIO;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        tc_errorf(err, err_len, "%s/%s: stat: %s", ls->dir, name, strerror(errno));
        rc = TC_EIO;
        goto out_close;
    }
    struct scan sc = { fd, (uint64_t)sb.st_size, buf, 0, 0 };

    if (seg->first_index != st->expected) {
        tc_errorf(err, err_len,
                  "%s/%s: offset 0: segment starts at index %" PRIu64 " but index %" PRIu64
                  " was expected (a segment is missing or cut short)",
                  ls->dir, name, seg->first_index, st->expected);
        rc = TC_ECORRUPT;
        goto out_close;
    }
    uint64_t off = 0;
    while (off < sc.size) {
        struct record_header h;
        const char *why;
        rc = scan_record(&sc, off, ls->opt.max_record_bytes, &h, &why);
        if (rc == TC_EIO) {
            tc_errorf(err, err_len, "%s/%s: offset %" PRIu64 ": read: %s", ls->dir, name, off,
                      strerror(errno));
            goto out_close;
        }
        if (rc == TC_ECORRUPT) {
            bool later = false;
            uint64_t later_off = 0;
            if (last) {
                rc = later_batch_follows(&sc, off, st->expected, ls->opt.max_record_bytes, &later,
                                         &later_off);
                if (rc != TC_OK) {
                    tc_errorf(err, err_len, "%s/%s: read: %s", ls->dir, name, strerror(errno));
                    goto out_close;
                }
            }
            if (!last || later) {
                tc_errorf(err, err_len,
                          "%s/%s: offset %" PRIu64 ": %s (index %" PRIu64 ") followed by %s",
                          ls->dir, name, off, why, st->expected,
                          last ? "an intact record of a later batch" : "later segments");
                rc = TC_ECORRUPT;
                goto out_close;
            }
            break; /* a torn tail: truncated below */
        }
        const char *bad = NULL;
        if (h.index != st->expected)
            bad = "record index out of sequence";
        else if (h.term < st->prev_term)
            bad = "record term lower than the previous record's";
        else if (h.index > ls->boundary_index && h.term < ls->boundary_term)
            bad = "record term lower than the compaction boundary's";
        else if (h.index == ls->boundary_index && h.term != ls->boundary_term)
            bad = "record term differs from the compaction boundary's";
        else if (h.batch_first > h.index)
            bad = "record batch start after its index";
        if (bad) {
            tc_errorf(err, err_len,
                      "%s/%s: offset %" PRIu64 ": %s (index %" PRIu64 ", term %" PRIu64
                      ", expected index %" PRIu64 ")",
                      ls->dir, name, off, bad, h.index, h.term, st->expected);
            rc = TC_ECORRUPT;
            goto out_close;
        }
        if (h.index > ls->boundary_index) {
            struct entry_loc loc = { h.term, off, h.len, h.type };
            rc = push_loc(ls, loc);
            if (rc != TC_OK) {
                tc_errorf(err, err_len, "out of memory indexing %s", name);
                goto out_close;
            }
            ls->last_index = h.index;
        }
        st->prev_term = h.term;
        st->expected++;
        off += HDR + h.len;
    }
    if (off < sc.size) {
        LOG_W(MOD,
              "%s/%s: torn tail at offset %" PRIu64 " (index %" PRIu64 "): truncating %" PRIu64
              " bytes",
              ls->dir, name, off, st->expected, sc.size - off);
        int wfd = open_in_dir(ls, name, O_RDWR);
        if (wfd < 0 || ftruncate(wfd, (off_t)off) != 0 || sync_data(ls, wfd) != 0) {
            tc_errorf(err, err_len, "%s/%s: truncating the torn tail at offset %" PRIu64 ": %s",
                      ls->dir, name, off, strerror(errno));
            if (wfd >= 0)
                close(wfd);
            rc = TC_EIO;
            goto out_close;
        }
        close(wfd);
    }
    seg->durable_bytes = seg->bytes = off;
    seg->on_disk = true;
    rc = TC_OK;
out_close:
    close(fd);
    return rc;
}

static int compare_segments(const void *a, const void *b)
{
    uint64_t x = ((const struct segment *)a)->first_index;
    uint64_t y = ((const struct segment *)b)->first_index;
    return x < y ? -1 : x > y;
}

/* Parses "seg-<16 hex>.log". */
static bool parse_segment_name(const char *name, uint64_t *first_index)
{
    if (strlen(name) != 24 || memcmp(name, "seg-", 4) != 0 || memcmp(name + 20, ".log", 4) != 0)
        return false;
    uint64_t v = 0;
    for (int i = 4; i < 20; i++) {
        char c = name[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return false;
        v = (v << 4) | (uint64_t)d;
    }
    *first_index = v;
    return true;
}

static int list_segments(struct logstore *ls, char *err, size_t err_len)
{
    DIR *d = opendir(ls->dir);
    if (!d) {
        tc_errorf(err, err_len, "%s: opendir: %s", ls->dir, strerror(errno));
        return TC_EIO;
    }
    int rc = TC_OK;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        uint64_t first;
        if (!parse_segment_name(de->d_name, &first))
            continue;
        struct segment seg = { first, 0, 0, true };
        rc = push_segment(ls, seg);
        if (rc != TC_OK) {
            tc_errorf(err, err_len, "out of memory listing %s", ls->dir);
            break;
        }
    }
    closedir(d);
    if (rc == TC_OK && ls->seg_count > 1)
        qsort(ls->segs, ls->seg_count, sizeof(*ls->segs), compare_segments);
    return rc;
}

/* Unlinks segment slot s and removes it from the array. */
static int drop_segment(struct logstore *ls, size_t s)
{
    char name[64];
    segment_name(ls->segs[s].first_index, name, sizeof(name));
    forget_fds(ls, ls->segs[s].first_index);
    if (ls->segs[s].on_disk && unlink_in_dir(ls, name) != 0 && errno != ENOENT)
        return fail_io(ls, "unlink", name);
    memmove(ls->segs + s, ls->segs + s + 1, (ls->seg_count - s - 1) * sizeof(*ls->segs));
    ls->seg_count--;
    return TC_OK;
}

/* Deletes segments left over wholly below the boundary by an interrupted compaction. */
static int drop_compacted_segments(struct logstore *ls, char *err, size_t err_len)
{
    bool dropped = false;
    while (ls->seg_count > 1 && ls->segs[1].first_index <= ls->boundary_index + 1) {
        if (drop_segment(ls, 0) != TC_OK) {
            tc_errorf(err, err_len, "%s: cannot delete a compacted segment: %s", ls->dir,
                      strerror(errno));
            return TC_EIO;
        }
        dropped = true;
    }
    if (dropped && sync_dir(ls) != 0) {
        tc_errorf(err, err_len, "%s: fsync: %s", ls->dir, strerror(errno));
        return TC_EIO;
    }
    return TC_OK;
}

static int recover(struct logstore *ls, char *err, size_t err_len)
{
    unlink_in_dir(ls, HARD_STATE_TMP);
    unlink_in_dir(ls, META_TMP);
    int rc = load_meta(ls, err, err_len);
    if (rc == TC_OK)
        rc = load_hard_state(ls, err, err_len);
    if (rc == TC_OK)
        rc = list_segments(ls, err, err_len);
    if (rc == TC_OK)
        rc = drop_compacted_segments(ls, err, err_len);
    if (rc != TC_OK)
        return rc;
    ls->last_index = ls->synced_index = ls->boundary_index;
    if (ls->seg_count == 0)
        return TC_OK;

    uint8_t *buf = malloc(SCAN_BUFFER_BYTES);
    if (!buf)
        return TC_ENOMEM;
    struct scan_state st = { ls->segs[0].first_index, 0 };
    if (st.expected > ls->boundary_index + 1) {
        char name[64];
        segment_name(st.expected, name, sizeof(name));
        tc_errorf(err, err_len,
                  "%s/%s: offset 0: log starts at index %" PRIu64
                  " but the compaction boundary is %" PRIu64 " (a segment is missing)",
                  ls->dir, name, st.expected, ls->boundary_index);
        rc = TC_ECORRUPT;
        goto out_free;
    }
    for (size_t s = 0; s < ls->seg_count; s++) {
        rc = scan_segment(ls, s, s + 1 == ls->seg_count, &st, buf, err, err_len);
        if (rc != TC_OK)
            goto out_free;
    }
    /* An interrupted compaction of everything, or a tail cut below the boundary. */
    if (st.expected <= ls->boundary_index + 1) {
        while (ls->seg_count > 0) {
            if (drop_segment(ls, ls->seg_count - 1) != TC_OK) {
                tc_errorf(err, err_len, "%s: cannot delete a compacted segment: %s", ls->dir,
                          strerror(errno));
                rc = TC_EIO;
                goto out_free;
            }
        }
        ls->loc_count = 0;
        ls->last_index = ls->boundary_index;
        if (sync_dir(ls) != 0) {
            tc_errorf(err, err_len, "%s: fsync: %s", ls->dir, strerror(errno));
            rc = TC_EIO;
            goto out_free;
        }
    }
    ls->synced_index = ls->last_index;
out_free:
    free(buf);
    return rc;
}

/* ---- public API ---- */

void logstore_options_default(struct logstore_options *opt)
{
    opt->segment_bytes = 64ull << 20;
    opt->max_record_bytes = 64u << 20;
    opt->max_pending_bytes = 256ull << 20;
    opt->fsync = true;
}

int logstore_open(const char *dir, const struct logstore_options *opt, struct logstore **out,
                  char *err, size_t err_len)
{
    tc_errorf(err, err_len, "%s", "");
    if (!out)
        return TC_EINVAL;
    *out = NULL;
    if (!dir || !*dir) {
        tc_errorf(err, err_len, "log store: empty directory name");
        return TC_EINVAL;
    }
    struct logstore_options o;
    if (opt)
        o = *opt;
    else
        logstore_options_default(&o);
    if (o.segment_bytes < MIN_SEGMENT_BYTES || o.max_record_bytes == 0 ||
        o.max_record_bytes > MAX_RECORD_LIMIT ||
        o.max_pending_bytes < (uint64_t)o.max_record_bytes + HDR) {
        tc_errorf(err, err_len, "%s: invalid log store options", dir);
        return TC_EINVAL;
    }
    if (strlen(dir) + 32 >= PATH_MAX) {
        tc_errorf(err, err_len, "%s: path too long", dir);
        return TC_EINVAL;
    }
    struct logstore *ls = calloc(1, sizeof(*ls));
    if (!ls)
        return TC_ENOMEM;
    snprintf(ls->dir, sizeof(ls->dir), "%s", dir);
    ls->opt = o;
    ls->write_fd = ls->read_fd = -1;
    bytes_init(&ls->pending);

    int rc;
    if (mkdir(dir, 0700) == 0) {
        LOG_I(MOD, "created log directory %s", dir);
        if (o.fsync && sync_parent_dir(dir) != 0) {
            tc_errorf(err, err_len, "%s: fsync of the parent directory: %s", dir, strerror(errno));
            rc = TC_EIO;
            goto out_free;
        }
    } else if (errno != EEXIST) {
        tc_errorf(err, err_len, "%s: mkdir: %s", dir, strerror(errno));
        rc = TC_EIO;
        goto out_free;
    }
    ls->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (ls->dir_fd < 0) {
        tc_errorf(err, err_len, "%s: open: %s", dir, strerror(errno));
        rc = TC_EIO;
        goto out_free;
    }
    rc = recover(ls, err, err_len);
    if (rc != TC_OK)
        goto out_close;
    LOG_I(MOD, "opened %s: entries %" PRIu64 "..%" PRIu64 " in %zu segments", dir,
          ls->boundary_index + 1, ls->last_index, ls->seg_count);
    *out = ls;
    return TC_OK;
out_close:
    if (rc == TC_ENOMEM && err && err_len && !*err)
        tc_errorf(err, err_len, "%s: out of memory", dir);
    logstore_close(ls);
    return rc;
out_free:
    free(ls);
    return rc;
}

void logstore_close(struct logstore *ls)
{
    if (!ls)
        return;
    close_fd(&ls->write_fd);
    close_fd(&ls->read_fd);
    close_fd(&ls->dir_fd);
    bytes_free(&ls->pending);
    free(ls->pend_off);
    free(ls->locs);
    free(ls->segs);
    free(ls);
}

uint64_t logstore_first_index(const struct logstore *ls)
{
    return ls->boundary_index + 1;
}

uint64_t logstore_last_index(const struct logstore *ls)
{
    return ls->last_index;
}

uint64_t logstore_synced_index(const struct logstore *ls)
{
    return ls->synced_index;
}

void logstore_boundary(const struct logstore *ls, uint64_t *index, uint64_t *term)
{
    *index = ls->boundary_index;
    *term = ls->boundary_term;
}

int logstore_append(struct logstore *ls, uint64_t index, uint64_t term, uint8_t type,
                    const void *data, size_t len)
{
    if (!ls || (len && !data))
        return TC_EINVAL;
    if (ls->failed)
        return TC_EIO;
    if (index != ls->last_index + 1)
        return TC_EINVAL;
    uint64_t prev_term =
        ls->last_index > ls->boundary_index ? loc_of(ls, ls->last_index)->term : ls->boundary_term;
    if (term < prev_term)
        return TC_EINVAL;
    if (len > ls->opt.max_record_bytes)
        return TC_ETOOBIG;
    size_t rec = HDR + len;
    if (ls->pending.len + rec > ls->opt.max_pending_bytes)
        return TC_EFULL;

    size_t npend = (size_t)(ls->last_index - ls->synced_index);
    if (npend == ls->pend_cap) {
        size_t cap = ls->pend_cap ? ls->pend_cap * 2 : 256;
        size_t *p = realloc(ls->pend_off, cap * sizeof(*p));
        if (!p)
            return TC_ENOMEM;
        ls->pend_off = p;
        ls->pend_cap = cap;
    }
    if (bytes_reserve(&ls->pending, rec) != TC_OK)
        return TC_ENOMEM;
    struct segment *active = ls->seg_count ? &ls->segs[ls->seg_count - 1] : NULL;
    if (!active || (active->bytes > 0 && active->bytes + rec > ls->opt.segment_bytes)) {
        struct segment seg = { index, 0, 0, false };
        if (push_segment(ls, seg) != TC_OK)
            return TC_ENOMEM;
        active = &ls->segs[ls->seg_count - 1];
    }
    assert(active->bytes > 0 || active->first_index == index);
    struct entry_loc loc = { term, active->bytes, (uint32_t)len, type };
    if (push_loc(ls, loc) != TC_OK) {
        if (!active->on_disk && active->bytes == 0)
            ls->seg_count--;
        return TC_ENOMEM;
    }
    uint8_t *hdr = ls->pending.ptr + ls->pending.len;
    encode_header(hdr, index, term, type, ls->synced_index + 1, data, len);
    if (len)
        memcpy(hdr + HDR, data, len);
    ls->pend_off[npend] = ls->pending.len;
    ls->pending.len += rec;
    active->bytes += rec;
    ls->last_index = index;
    return TC_OK;
}

int logstore_sync(struct logstore *ls)
{
    if (!ls)
        return TC_EINVAL;
    if (ls->failed)
        return TC_EIO;
    if (ls->last_index == ls->synced_index)
        return TC_OK;
    size_t s = segment_of(ls, ls->synced_index + 1);
    size_t pos = 0;
    int fd = -1, rc;
    for (; s < ls->seg_count; s++) {
        struct segment *seg = &ls->segs[s];
        if (fd >= 0 && sync_data(ls, fd) != 0) {
            /* The previous segment must be durable before the next gets any byte. */
            char name[64];
            segment_name(ls->write_first, name, sizeof(name));
            return fail_io(ls, "fdatasync", name);
        }
        rc = write_fd_of(ls, s, &fd);
        if (rc != TC_OK)
            return rc;
        size_t n = (size_t)(seg->bytes - seg->durable_bytes);
        if (pwrite_all(fd, ls->pending.ptr + pos, n, seg->durable_bytes) != 0) {
            char name[64];
            segment_name(seg->first_index, name, sizeof(name));
            return fail_io(ls, "write", name);
        }
        pos += n;
    }
    assert(pos == ls->pending.len);
    if (sync_data(ls, fd) != 0) {
        char name[64];
        segment_name(ls->write_first, name, sizeof(name));
        return fail_io(ls, "fdatasync", name);
    }
    for (size_t i = 0; i < ls->seg_count; i++)
        ls->segs[i].durable_bytes = ls->segs[i].bytes;
    ls->synced_index = ls->last_index;
    bytes_clear(&ls->pending);
    return TC_OK;
}

/* Forgets pending entries >= from (from > synced_index) and the segments planned only for them. */
static void drop_pending_from(struct logstore *ls, uint64_t from)
{
    assert(from > ls->synced_index && from <= ls->last_index);
    size_t s = segment_of(ls, from);
    ls->segs[s].bytes = loc_of(ls, from)->offset;
    ls->seg_count = s + 1;
    if (ls->segs[s].bytes == 0 && !ls->segs[s].on_disk)
        ls->seg_count = s;
    ls->pending.len = ls->pend_off[from - ls->synced_index - 1];
    ls->loc_count -= (size_t)(ls->last_index - from + 1);
    ls->last_index = from - 1;
}

int logstore_truncate_suffix(struct logstore *ls, uint64_t from_index)
{
    if (!ls)
        return TC_EINVAL;
    if (ls->failed)
        return TC_EIO;
    if (from_index <= ls->boundary_index)
        return TC_ERANGE;
    if (from_index > ls->last_index)
        return TC_OK;
    if (from_index > ls->synced_index) {
        drop_pending_from(ls, from_index);
        return TC_OK;
    }
    if (ls->last_index > ls->synced_index)
        drop_pending_from(ls, ls->synced_index + 1);
    uint64_t cut = loc_of(ls, from_index)->offset;
    size_t s = segment_of(ls, from_index);
    /* Newest first, each unlink made durable before the next, so that a crash
     * leaves a contiguous (if longer) log, never one with a hole. */
    while (ls->seg_count > s + 1 || (ls->seg_count == s + 1 && cut == 0)) {
        size_t last = ls->seg_count - 1;
        char name[64];
        segment_name(ls->segs[last].first_index, name, sizeof(name));
        int rc = drop_segment(ls, last);
        if (rc != TC_OK)
            return rc;
        if (sync_dir(ls) != 0)
            return fail_io(ls, "fsync directory after unlinking", name);
    }
    if (cut > 0) {
        int fd;
        int rc = write_fd_of(ls, s, &fd);
        if (rc != TC_OK)
            return rc;
        char name[64];
        segment_name(ls->segs[s].first_index, name, sizeof(name));
        if (ftruncate(fd, (off_t)cut) != 0)
            return fail_io(ls, "ftruncate", name);
        if (sync_data(ls, fd) != 0)
            return fail_io(ls, "fdatasync", name);
        ls->segs[s].bytes = ls->segs[s].durable_bytes = cut;
    }
    ls->loc_count -= (size_t)(ls->last_index - from_index + 1);
    ls->last_index = ls->synced_index = from_index - 1;
    return TC_OK;
}

int logstore_compact(struct logstore *ls, uint64_t below_index)
{
    if (!ls)
        return TC_EINVAL;
    if (ls->failed)
        return TC_EIO;
    uint64_t first = ls->boundary_index + 1;
    if (below_index <= first)
        return TC_OK;
    if (below_index > ls->last_index + 1)
        return TC_ERANGE;
    if (below_index > ls->synced_index + 1)
        return TC_ESTATE;
    uint64_t term = loc_of(ls, below_index - 1)->term;
    int rc = save_meta(ls, below_index - 1, term);
    if (rc != TC_OK)
        return rc;
    size_t dropped_entries = (size_t)(below_index - first);
    ls->boundary_index = below_index - 1;
    ls->boundary_term = term;
    ls->loc_head += dropped_entries;
    ls->loc_count -= dropped_entries;
    if (ls->loc_count == 0)
        ls->loc_head = 0;

    /* The boundary is durable: a crash from here on leaves segments that the
     * next open deletes, in whatever order their unlinks reached the disk. */
    bool dropped = false;
    while (ls->seg_count > 0 && ((ls->seg_count > 1 && ls->segs[1].first_index <= below_index) ||
                                 below_index == ls->last_index + 1)) {
        rc = drop_segment(ls, 0);
        if (rc != TC_OK)
            return rc;
        dropped = true;
    }
    if (dropped && sync_dir(ls) != 0)
        return fail_io(ls, "fsync directory after compaction of", ".");
    return TC_OK;
}

int logstore_reset_to_snapshot(struct logstore *ls, uint64_t snapshot_index, uint64_t snapshot_term)
{
    if (!ls)
        return TC_EINVAL;
    if (ls->failed)
        return TC_EIO;
    if (snapshot_index < ls->boundary_index || snapshot_term < ls->boundary_term)
        return TC_ERANGE;
    if (ls->last_index > ls->synced_index)
        drop_pending_from(ls, ls->synced_index + 1);
    while (ls->seg_count > 0) {
        char name[64];
        segment_name(ls->segs[ls->seg_count - 1].first_index, name, sizeof(name));
        int rc = drop_segment(ls, ls->seg_count - 1);
        if (rc != TC_OK)
            return rc;
        if (sync_dir(ls) != 0)
            return fail_io(ls, "fsync directory after unlinking", name);
    }
    ls->loc_head = ls->loc_count = 0;
    ls->last_index = ls->synced_index = ls->boundary_index;
    int rc = save_meta(ls, snapshot_index, snapshot_term);
    if (rc != TC_OK)
        return rc;
    ls->boundary_index = ls->last_index = ls->synced_index = snapshot_index;
    ls->boundary_term = snapshot_term;
    return TC_OK;
}

int logstore_term_at(const struct logstore *ls, uint64_t index, uint64_t *term)
{
    if (!ls || !term)
        return TC_EINVAL;
    if (index < ls->boundary_index)
        return TC_ERANGE;
    if (index > ls->last_index)
        return TC_ENOTFOUND;
    *term = index == ls->boundary_index ? ls->boundary_term : loc_of(ls, index)->term;
    return TC_OK;
}

int logstore_entry_info(const struct logstore *ls, uint64_t index, uint64_t *term, uint8_t *type,
                        size_t *len)
{
    if (!ls || !term || !type || !len)
        return TC_EINVAL;
    if (index <= ls->boundary_index)
        return TC_ERANGE;
    if (index > ls->last_index)
        return TC_ENOTFOUND;
    const struct entry_loc *loc = loc_of(ls, index);
    *term = loc->term;
    *type = loc->type;
    *len = loc->len;
    return TC_OK;
}

int logstore_read(struct logstore *ls, uint64_t index, uint64_t *term, uint8_t *type,
                  struct bytes *data)
{
    if (!ls || !term || !type || !data)
        return TC_EINVAL;
    if (index <= ls->boundary_index)
        return TC_ERANGE;
    if (index > ls->last_index)
        return TC_ENOTFOUND;
    const struct entry_loc *loc = loc_of(ls, index);
    bytes_clear(data);
    if (index > ls->synced_index) {
        const uint8_t *rec = ls->pending.ptr + ls->pend_off[index - ls->synced_index - 1];
        if (bytes_append(data, rec + HDR, loc->len) != TC_OK)
            return TC_ENOMEM;
        *term = loc->term;
        *type = loc->type;
        return TC_OK;
    }
    size_t s = segment_of(ls, index);
    int fd;
    int rc = read_fd_of(ls, s, &fd);
    if (rc != TC_OK)
        return rc;
    if (bytes_reserve(data, HDR + (size_t)loc->len) != TC_OK)
        return TC_ENOMEM;
    char name[64];
    segment_name(ls->segs[s].first_index, name, sizeof(name));
    if (pread_all(fd, data->ptr, HDR + (size_t)loc->len, loc->offset) != 0) {
        LOG_E(MOD, "read %s/%s offset %" PRIu64 " failed: %s", ls->dir, name, loc->offset,
              strerror(errno));
        return TC_EIO;
    }
    struct record_header h;
    const char *why = decode_header(data->ptr, ls->opt.max_record_bytes, &h);
    if (!why && (h.index != index || h.term != loc->term || h.len != loc->len))
        why = "record does not match the index built at open";
    if (!why && logstore_crc32c(header_crc(data->ptr), data->ptr + HDR, h.len) != h.crc)
        why = "record CRC mismatch";
    if (why) {
        LOG_E(MOD, "%s/%s: offset %" PRIu64 ": %s", ls->dir, name, loc->offset, why);
        return TC_ECORRUPT;
    }
    memmove(data->ptr, data->ptr + HDR, h.len);
    data->len = h.len;
    *term = h.term;
    *type = h.type;
    return TC_OK;
}
