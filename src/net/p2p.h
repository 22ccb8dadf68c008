/*
 * p2p.h - the P2P layer: authenticated TLS 1.3 connections between the nodes
 * of one chain, typed and bounded frames, heartbeats, reconnection and the
 * peer table (DESIGN.md §7, §8).
 *
 * A struct p2p lives on the node's one libevent loop (a caller-owned
 * struct event_base) and starts no thread: every function here, and every
 * callback it makes, runs on that loop's thread.
 *
 * Authentication. Both sides present their conf/ssl.crt; TLS 1.3 only, and
 * the certificate must chain to the chain CA (conf/ca.crt). After the
 * handshake the peer's node ID is taken from its certificate and the binding
 * signature is checked (net/node_cert.h); the connection is refused when
 * the binding fails, when the node ID is our own, or when it is not in the
 * allowed list (the genesis sealers and observers, p2p_set_allowed). Two
 * connections between the same pair of nodes (both dialled each other) are
 * resolved the same way on both sides: the one dialled by the lower node ID
 * stays; when both were dialled by the same side, the newer one stays.
 *
 * Frames (net/frame.h): an 8-byte header, then the payload. Types below
 * P2P_TYPE_FIRST_USER belong to this layer (heartbeats); upper layers
 * register a handler and a payload bound per type. A peer that sends a bad
 * header, an unregistered type, a payload above the type's bound, or a frame
 * its handler rejects is disconnected, with a log line naming its node ID
 * (hex prefix) and address. Payloads are never logged.
 *
 * Liveness. Every heartbeat_interval_ms each connected peer gets a PING
 * (answered by a PONG, which measures the round trip). A connection on
 * which nothing arrived for dead_peer_timeout_ms is dropped; a connection
 * still not authenticated after handshake_timeout_ms is dropped. Peers to
 * dial (p2p_options.peers, p2p_add_peer) are redialled after a failure or a
 * drop with exponential backoff from reconnect_min_ms to reconnect_max_ms,
 * with jitter from a seeded rng (the delay is uniform in [d/2, d]).
 *
 * Output bound. Frames to a peer are queued (never blocking). When a frame
 * would take the peer's queue beyond max_queue_bytes, the frame is not
 * queued, p2p_send returns TC_EFULL, and the connection is dropped: a peer
 * that cannot keep up is redialled and resynchronised by the upper layer
 * (Raft and PBFT tolerate lost messages), instead of silently losing a
 * message in the middle of a stream that would otherwise stay open.
 * Messages still queued on a dropped connection are lost.
 *
 * Usage:
 *     struct p2p_options o;
 *     p2p_options_defaults(&o);
 *     memcpy(o.node_id, my_id, 64); o.listen_port = 30300;
 *     o.allowed = ids; o.allowed_count = n; o.peers = eps; o.peer_count = m;
 *     o.ca_cert_path = "conf/ca.crt"; ...
 *     struct p2p *p;
 *     if (p2p_new(base, &o, &p, err, sizeof(err)) != 0) log_fatal(...);
 *     p2p_register(p, P2P_TYPE_RAFT, 64u << 20, on_raft, raft);
 *     ... event_base_dispatch(base) ...
 *     p2p_free(p);
 */
#ifndef TC_NET_P2P_H
#define TC_NET_P2P_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;

#define P2P_NODE_ID_BYTES 64
#define P2P_HOST_MAX      256
#define P2P_ADDR_MAX      64 /* "ip:port" text, IPv6 in brackets */
#define P2P_MAX_DIALS     256
#define P2P_MAX_ALLOWED   256

/* Frame types. 0 is never valid; 1..15 belong to the P2P layer. */
enum p2p_frame_type {
    P2P_TYPE_PING = 1, /* payload: uint64 sender's monotonic ms, big-endian */
    P2P_TYPE_PONG = 2, /* payload: the PING's 8 bytes, echoed */
    P2P_TYPE_FIRST_USER = 16,
    P2P_TYPE_RAFT = 16,   /* consensus/raft messages */
    P2P_TYPE_PBFT = 17,   /* consensus/pbft messages */
    P2P_TYPE_TX = 18,     /* transactions forwarded to the leader */
    P2P_TYPE_SYNC = 19,   /* block sync requests and responses */
    P2P_TYPE_SECRET = 20, /* chain-secret hand-over between attested sealers */
};

struct p2p_endpoint {
    char host[P2P_HOST_MAX]; /* IP literal or name, resolved once when added */
    uint16_t port;
};

/*
 * Called for each complete frame of a registered type from an authenticated
 * peer. node_id is the peer's, proved by its certificate. The payload is
 * valid only during the call. Returns 0, or a negative TC_E* code to reject
 * the frame: the peer is then disconnected and logged. The handler may call
 * p2p_send/p2p_broadcast/p2p_disconnect, but not p2p_free.
 */
typedef int (*p2p_frame_fn)(void *ctx, const uint8_t node_id[P2P_NODE_ID_BYTES], uint8_t type,
                            const uint8_t *payload, size_t len);

/* Called when a node becomes connected (up = true: authenticated and in the
 * peer table) and when it leaves the table (up = false). Replacing one
 * connection to a node by another (duplicate resolution) is not reported.
 * The callback may call p2p_send and p2p_broadcast (a node that went down
 * gives TC_EAGAIN), but not p2p_disconnect, p2p_set_allowed or p2p_free. */
typedef void (*p2p_peer_fn)(void *ctx, const uint8_t node_id[P2P_NODE_ID_BYTES], bool up);

struct p2p_options {
    uint8_t node_id[P2P_NODE_ID_BYTES];          /* ours: must match the binding of cert_path */
    char listen_host[P2P_HOST_MAX];              /* default "0.0.0.0" */
    uint16_t listen_port;                        /* 0 = an ephemeral port (p2p_listen_port) */
    const uint8_t (*allowed)[P2P_NODE_ID_BYTES]; /* copied; at most P2P_MAX_ALLOWED */
    size_t allowed_count;
    const struct p2p_endpoint *peers; /* copied; dialled and redialled */
    size_t peer_count;
    const char *ca_cert_path;       /* conf/ca.crt */
    const char *cert_path;          /* conf/ssl.crt */
    const char *key_path;           /* conf/ssl.key */
    uint32_t max_frame_bytes;       /* bound of any payload; default 64 MiB */
    uint64_t max_queue_bytes;       /* per-peer output queue; 0 = two largest frames */
    uint32_t max_connections;       /* authenticated or not; default 128 */
    uint32_t heartbeat_interval_ms; /* default 1000 */
    uint32_t dead_peer_timeout_ms;  /* default 5000 */
    uint32_t handshake_timeout_ms;  /* default 5000 */
    uint32_t reconnect_min_ms;      /* default 200 */
    uint32_t reconnect_max_ms;      /* default 30000 */
    uint64_t rng_seed;              /* reconnect jitter */
    p2p_peer_fn on_peer;            /* optional */
    void *on_peer_ctx;
};

/* A connected peer, as p2p_peers reports it (getPeers, net_peerCount). */
struct p2p_peer_info {
    uint8_t node_id[P2P_NODE_ID_BYTES];
    char address[P2P_ADDR_MAX]; /* remote "ip:port" of the connection */
    bool outbound;              /* we dialled it */
    uint64_t connected_at_ms;   /* wall clock, ms since the epoch */
    uint64_t last_seen_ms;      /* wall clock of the last bytes received */
    uint64_t bytes_in;          /* frame bytes (headers included) */
    uint64_t bytes_out;         /* frame bytes queued to it */
    uint32_t rtt_ms;            /* last PING round trip; 0 before the first PONG */
};

struct p2p;

/* The defaults documented in struct p2p_options; no peers, no allowed IDs,
 * no paths. */
void p2p_options_defaults(struct p2p_options *o);

/*
 * Loads the TLS material, checks that our certificate is bound to
 * o->node_id, resolves the peers, and starts listening and dialling on
 * base. Sets SIGPIPE to be ignored, process-wide (OpenSSL writes to sockets
 * with write(): a peer that closed must give EPIPE, not end the process). Returns 0 with *out (free
 * with p2p_free), or TC_EINVAL (options, certificate binding, unresolvable peer), TC_ETOOBIG (more
 * than P2P_MAX_ALLOWED / P2P_MAX_DIALS), TC_EIO (files, bind), TC_ECRYPTO (TLS set-up) or
 * TC_ENOMEM, with the reason in err.
 */
int p2p_new(struct event_base *base, const struct p2p_options *o, struct p2p **out, char *err,
            size_t err_len);

/* Closes every connection (no on_peer callbacks) and frees p. NULL is fine. */
void p2p_free(struct p2p *p);

/* The TCP port the node listens on (useful with listen_port = 0). */
uint16_t p2p_listen_port(const struct p2p *p);

/*
 * Registers the handler of frame type `type` (P2P_TYPE_FIRST_USER..255),
 * accepting payloads up to max_payload_bytes (<= max_frame_bytes). Both the
 * sender and the receiver of a type register it. Returns 0, TC_EINVAL or
 * TC_EEXIST.
 */
int p2p_register(struct p2p *p, uint8_t type, uint32_t max_payload_bytes, p2p_frame_fn fn,
                 void *ctx);

/*
 * Queues one frame to a connected node; never blocks (payload is copied).
 * Returns 0; TC_EINVAL (type not registered, or len above its bound);
 * TC_EPERM (node not allowed); TC_EAGAIN (allowed but not connected now);
 * TC_EFULL (queue bound: the connection is dropped, see above); TC_ENOMEM.
 */
int p2p_send(struct p2p *p, const uint8_t node_id[P2P_NODE_ID_BYTES], uint8_t type,
             const void *payload, size_t len);

/* p2p_send to every connected node. Returns the number of nodes the frame
 * was queued to, or TC_EINVAL for a bad type or length. */
int p2p_broadcast(struct p2p *p, uint8_t type, const void *payload, size_t len);

/* Bytes queued to a connected node and not yet written to its socket (0 if
 * not connected): lets a bulk sender pace itself below max_queue_bytes. */
size_t p2p_queued_bytes(const struct p2p *p, const uint8_t node_id[P2P_NODE_ID_BYTES]);

/* Drops the connection to node_id (logged with reason); it is redialled if
 * it is one of our peers to dial. Returns 0 or TC_ENOTFOUND. */
int p2p_disconnect(struct p2p *p, const uint8_t node_id[P2P_NODE_ID_BYTES], const char *reason);

/* Replaces the allowed node IDs (membership change); connected peers no
 * longer allowed are dropped. Returns 0 or TC_ETOOBIG (> P2P_MAX_ALLOWED). */
int p2p_set_allowed(struct p2p *p, const uint8_t (*ids)[P2P_NODE_ID_BYTES], size_t count);

/* Adds an address to dial (and keep redialling). Returns 0, TC_EINVAL
 * (unresolvable), TC_EEXIST (already a peer) or TC_EFULL (P2P_MAX_DIALS). */
int p2p_add_peer(struct p2p *p, const char *host, uint16_t port);

bool p2p_is_connected(const struct p2p *p, const uint8_t node_id[P2P_NODE_ID_BYTES]);

/* Number of authenticated, connected peers. */
size_t p2p_peer_count(const struct p2p *p);

/* Fills out[0..min(count, cap)) with the connected peers and returns count. */
size_t p2p_peers(const struct p2p *p, struct p2p_peer_info *out, size_t cap);

#endif
