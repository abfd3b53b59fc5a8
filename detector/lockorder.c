/* lockorder.c - lock-order inversions (potential deadlocks), reported in
 * race builds.
 *
 * Each goroutine keeps the mutexes it holds (Mutex, RWMutex write and read
 * locks), most recent last. Acquiring M while holding H is an edge H => M
 * of one global graph, kept once per pair with the goroutine and the stack
 * that first made it. A new edge that closes a cycle (the graph already
 * had a path M => ... => H) is reported with every edge of the cycle: some
 * interleaving of those goroutines deadlocks, even if this run did not.
 * Each edge is added once, so each cycle is reported once, by the edge
 * that closed it.
 *
 * Cost: locking with nothing held costs a push on the goroutine's list;
 * a nested lock looks each held mutex's edge up in a hash table under one
 * spinlock, and only a new edge searches the graph (depth-first), so a
 * program that keeps taking its locks in one order pays a lookup per
 * nested lock.
 *
 * A mutex unlocked by a goroutine other than the one that locked it (Go
 * allows it) stays on the locker's list; where the runtime can tell
 * whether a mutex is still locked (its state word), such stale entries
 * are dropped before they could make an edge. Past HELD_MAX mutexes held
 * at once, the oldest are forgotten (missed edges, never false ones). */
#include "detector.h"

#include <string.h>

enum { EDGE_BUCKETS = 4096, NODE_BUCKETS = 1024, EDGE_FRAMES = 16 };

struct lock_edge;

struct lock_node {
    uintptr_t addr;
    struct lock_node *next;      /* in its hash bucket */
    struct lock_edge *out;       /* edges from this mutex */
    uint64_t visited;            /* search generation */
    struct lock_edge *reached_by;/* edge the current search came in by */
};

struct lock_edge {
    struct lock_node *from, *to;
    struct lock_edge *next;      /* in its hash bucket */
    struct lock_edge *next_out;  /* in from's out list */
    uint64_t goid;
    int depth;
    uintptr_t pcs[EDGE_FRAMES];
};

static race_spinlock graph_lock;
static struct lock_edge *edges[EDGE_BUCKETS];
static struct lock_node *nodes[NODE_BUCKETS];
static uint64_t search_generation;

static size_t hash_addr(uintptr_t a) { return (size_t)((a * 0x9E3779B97F4A7C15ull) >> 40); }

static struct lock_node *node_of(uintptr_t addr) {
    struct lock_node **head = &nodes[hash_addr(addr) % NODE_BUCKETS];
    for (struct lock_node *n = *head; n; n = n->next)
        if (n->addr == addr) return n;
    struct lock_node *n = race_internal_alloc(sizeof *n);
    memset(n, 0, sizeof *n);
    n->addr = addr;
    n->next = *head;
    *head = n;
    return n;
}

static struct lock_edge **edge_bucket(uintptr_t from, uintptr_t to) {
    return &edges[hash_addr(from ^ (to * 31)) % EDGE_BUCKETS];
}

static bool edge_known(uintptr_t from, uintptr_t to) {
    for (struct lock_edge *e = *edge_bucket(from, to); e; e = e->next)
        if (e->from->addr == from && e->to->addr == to) return true;
    return false;
}

static struct lock_edge *edge_add(uintptr_t from, uintptr_t to, uint64_t goid,
                                  const uintptr_t *pcs, int depth) {
    struct lock_edge *e = race_internal_alloc(sizeof *e);
    memset(e, 0, sizeof *e);
    e->from = node_of(from);
    e->to = node_of(to);
    e->goid = goid;
    e->depth = depth < EDGE_FRAMES ? depth : EDGE_FRAMES;
    memcpy(e->pcs, pcs, (size_t)e->depth * sizeof *pcs);
    struct lock_edge **b = edge_bucket(from, to);
    e->next = *b;
    *b = e;
    e->next_out = e->from->out;
    e->from->out = e;
    return e;
}

/* Whether a path start => ... => goal exists; if so, each node on it
 * records the edge it was reached by. Iterative, with an explicit stack
 * of edges still to follow. */
static bool path_exists(struct lock_node *start, struct lock_node *goal) {
    uint64_t gen = ++search_generation;
    size_t cap = 64, n = 0;
    struct lock_edge **to_follow = race_internal_alloc(cap * sizeof *to_follow);
    start->visited = gen;
    start->reached_by = NULL;
    bool found = start == goal;
    for (struct lock_edge *e = start->out; e && !found; e = e->next_out) to_follow[n++] = e;
    while (n && !found) {
        struct lock_edge *e = to_follow[--n];
        if (e->to->visited == gen) continue;
        e->to->visited = gen;
        e->to->reached_by = e;
        if (e->to == goal) {
            found = true;
            break;
        }
        for (struct lock_edge *f = e->to->out; f; f = f->next_out) {
            if (f->to->visited == gen) continue;
            if (n == cap) {
                struct lock_edge **grown = race_internal_alloc(2 * cap * sizeof *grown);
                memcpy(grown, to_follow, cap * sizeof *to_follow);
                race_internal_free(to_follow);
                to_follow = grown;
                cap *= 2;
            }
            to_follow[n++] = f;
        }
    }
    race_internal_free(to_follow);
    return found;
}

/* The new edge closing plus the path to (found by path_exists from its
 * target to its source), in cycle order starting at its target. */
static void report_cycle(struct lock_edge *closing) {
    int n = 0;
    for (struct lock_node *v = closing->from; v->reached_by; v = v->reached_by->from) n++;
    const struct lock_edge **cycle = race_internal_alloc((size_t)(n + 1) * sizeof *cycle);
    int i = n;
    for (struct lock_node *v = closing->from; v->reached_by; v = v->reached_by->from)
        cycle[--i] = v->reached_by;
    cycle[n] = closing;
    struct race_lock_edge_desc descs[n + 1];
    for (int k = 0; k <= n; k++)
        descs[k] = (struct race_lock_edge_desc){
            .held = cycle[k]->from->addr, .acquired = cycle[k]->to->addr,
            .goid = cycle[k]->goid, .pcs = cycle[k]->pcs, .npcs = cycle[k]->depth};
    race_report_lock_cycle(descs, n + 1);
    race_internal_free(cycle);
}

static void forget_held(struct race_g *rg, int i) {
    for (int k = i + 1; k < rg->nheld; k++) rg->held[k - 1] = rg->held[k];
    rg->nheld--;
}

/* Held entries whose mutex is known to be unlocked now (by another
 * goroutine) must not make edges. */
static void drop_stale(struct race_g *rg) {
    for (int i = rg->nheld - 1; i >= 0; i--) {
        const int32_t *state = rg->held[i].state;
        if (state && !(__atomic_load_n(state, __ATOMIC_RELAXED) & rg->held[i].locked_bit))
            forget_held(rg, i);
    }
}

/* A trylock never waits, so it cannot close a deadlock and makes no edge;
 * the mutex it took is held all the same, for the locks after it. */
void race_mutex_locked(const void *m, const int32_t *state, int32_t locked_bit, bool waited,
                       uintptr_t pc) {
    struct race_g *rg = race_cur;
    if (!rg || rg->ignore) return;
    uintptr_t addr = (uintptr_t)m;
    if (rg->nheld) drop_stale(rg);
    if (rg->nheld && waited) {
        uintptr_t pcs[EDGE_FRAMES];
        int depth = -1;
        race_spin_lock(&graph_lock);
        for (int i = 0; i < rg->nheld; i++) {
            uintptr_t held = rg->held[i].addr;
            if (held == addr || edge_known(held, addr)) continue;
            if (depth < 0) depth = race_current_stack(rg, pc, pcs, EDGE_FRAMES);
            struct lock_edge *e = edge_add(held, addr, rg->goid, pcs, depth);
            if (path_exists(e->to, e->from)) {
                race_internal_enter(rg);
                report_cycle(e);
                race_internal_leave(rg);
            }
        }
        race_spin_unlock(&graph_lock);
    }
    if (!rg->held) rg->held = race_internal_alloc(RACE_HELD_MAX * sizeof *rg->held);
    if (rg->nheld == RACE_HELD_MAX) forget_held(rg, 0);
    rg->held[rg->nheld++] = (struct race_held){addr, state, locked_bit};
}

void race_mutex_unlocked(const void *m) {
    struct race_g *rg = race_cur;
    if (!rg) return;
    for (int i = rg->nheld - 1; i >= 0; i--)
        if (rg->held[i].addr == (uintptr_t)m) {
            forget_held(rg, i);
            return;
        }
}
