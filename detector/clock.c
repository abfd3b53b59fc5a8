/* clock.c - copy-on-write vector clocks; see clock.h for the design. */
#include "detector.h"

#include <string.h>

enum { MIN_CHUNK_CAP = 8 };

/* Stands for every chunk nobody wrote; read-only, so a stray write faults. */
static const struct vc_chunk zero_chunk = {.cap = VC_CHUNK, .c = {[VC_CHUNK - 1] = 0}};
#define ZERO_CHUNK ((struct vc_chunk *)&zero_chunk)

static uint64_t fresh_id(void) {
    return (uint64_t)rt_fastrand() << 32 | rt_fastrand() | 1;
}

static uint32_t chunks_for(uint32_t len) { return (len + VC_CHUNK - 1) >> VC_CHUNK_SHIFT; }

/* How many of a spine's len entries fall in its chunk i. */
static uint32_t entries_in(uint32_t len, uint32_t i) {
    uint32_t rest = len - (i << VC_CHUNK_SHIFT);
    return rest < VC_CHUNK ? rest : VC_CHUNK;
}

static void chunk_ref(struct vc_chunk *c) {
    if (c != ZERO_CHUNK) atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
}

static void chunk_unref(struct vc_chunk *c) {
    if (c != ZERO_CHUNK && atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
        race_internal_free(c);
}

static void spine_unref(struct vc_spine *s) {
    if (!s || atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1) return;
    for (uint32_t i = 0, n = chunks_for(s->len); i < n; i++) {
        chunk_unref(s->chunk[i]);
        if (s->covered && s->covered[i]) chunk_unref(s->covered[i]);
    }
    race_internal_free(s->covered);
    race_internal_free(s);
}

/* An array of cap covered pointers, the first n from old (if any). */
static struct vc_chunk **covered_new(uint32_t cap, struct vc_chunk **old, uint32_t n) {
    struct vc_chunk **c = race_internal_alloc((size_t)cap * sizeof *c);
    if (old) memcpy(c, old, (size_t)n * sizeof *c);
    else n = 0;
    memset(c + n, 0, (size_t)(cap - n) * sizeof *c);
    return c;
}

static bool chunk_private(struct vc_chunk *c) {
    return c != ZERO_CHUNK && atomic_load_explicit(&c->refs, memory_order_acquire) == 1;
}

/* Replaces chunk i of the private spine s, which is shared or too short
 * for the need entries s keeps in it, with a private copy. A last chunk
 * that must grow doubles, so a clock learning one slot after another
 * copies O(1) entries per slot. */
static struct vc_chunk *copy_chunk(struct vc_spine *s, uint32_t i, uint32_t need) {
    struct vc_chunk *c = s->chunk[i];
    bool fits = c != ZERO_CHUNK && c->cap >= need;
    uint32_t cap = fits ? c->cap : need > VC_CHUNK / 2 ? VC_CHUNK : 2 * need;
    if (cap < MIN_CHUNK_CAP) cap = MIN_CHUNK_CAP;
    struct vc_chunk *p = race_internal_alloc(sizeof *p + (size_t)cap * sizeof(uint64_t));
    atomic_store_explicit(&p->refs, 1, memory_order_relaxed);
    p->cap = cap;
    uint32_t copied = c->cap < cap ? c->cap : cap;
    memcpy(p->c, c->c, (size_t)copied * sizeof(uint64_t));
    memset(p->c + copied, 0, (size_t)(cap - copied) * sizeof(uint64_t));
    chunk_unref(c);
    s->chunk[i] = p;
    return p;
}

/* Chunk i of the private spine s, made private and big enough for the
 * entries s keeps in it. */
static inline struct vc_chunk *own_chunk(struct vc_spine *s, uint32_t i) {
    struct vc_chunk *c = s->chunk[i];
    uint32_t need = entries_in(s->len, i);
    if (RT_LIKELY(c->cap >= need && chunk_private(c))) return c;
    return copy_chunk(s, i, need);
}

/* A spine holding old's chunks (taking over old's references when old is
 * private, adding its own otherwise), with room for cap pointers. */
static struct vc_spine *spine_copy(struct vc_spine *old, bool old_private, uint32_t cap) {
    struct vc_spine *s = race_internal_alloc(sizeof *s + (size_t)cap * sizeof(struct vc_chunk *));
    atomic_store_explicit(&s->refs, 1, memory_order_relaxed);
    s->cap = cap;
    s->len = old ? old->len : 0;
    s->covered = NULL;
    /* A private old goes away: what it covered, the copy covers. */
    s->covers = !old ? 0 : old_private ? old->covers : old->id;
    uint32_t n = old ? chunks_for(old->len) : 0;
    if (n) memcpy(s->chunk, old->chunk, (size_t)n * sizeof(struct vc_chunk *));
    if (old_private) {
        if (old->covered) s->covered = covered_new(cap, old->covered, n);
        race_internal_free(old->covered);
        race_internal_free(old);
    } else {
        for (uint32_t i = 0; i < n; i++) chunk_ref(s->chunk[i]);
        spine_unref(old);
    }
    return s;
}

/* Make v's spine private and at least len long, with the overrides folded
 * in; it gets a new id since it is about to change. O(chunks) pointer
 * copies when the spine was shared; only the chunks the overrides land in
 * are copied. */
static void materialize(struct vclock *v, uint32_t len) {
    struct vc_spine *s = v->spine;
    uint32_t old_len = s ? s->len : 0, need = old_len;
    for (uint32_t i = 0; i < v->n_over; i++)
        if (v->over_slot[i] + 1 > need) need = v->over_slot[i] + 1;
    if (len > need) need = len;
    uint32_t old_chunks = chunks_for(old_len), new_chunks = chunks_for(need);
    bool private = s && atomic_load_explicit(&s->refs, memory_order_acquire) == 1;
    if (!private || new_chunks > s->cap)
        s = spine_copy(s, private, new_chunks > old_chunks ? 2 * new_chunks : new_chunks);
    s->id = fresh_id();
    for (uint32_t i = old_chunks; i < new_chunks; i++) s->chunk[i] = ZERO_CHUNK;
    s->len = need;
    /* The old last chunk may be too short for the entries it now holds. */
    if (old_chunks && entries_in(need, old_chunks - 1) > s->chunk[old_chunks - 1]->cap)
        own_chunk(s, old_chunks - 1);
    for (uint32_t i = 0; i < v->n_over; i++) {
        uint32_t slot = v->over_slot[i];
        struct vc_chunk *c = own_chunk(s, slot >> VC_CHUNK_SHIFT);
        uint64_t *e = &c->c[slot & (VC_CHUNK - 1)];
        if (v->over_val[i] > *e) *e = v->over_val[i];
    }
    v->n_over = 0;
    v->spine = s;
}

void race_vc_raise_spill(struct vclock *v, uint32_t slot, uint64_t val) {
    materialize(v, slot + 1);
    uint64_t *e = &own_chunk(v->spine, slot >> VC_CHUNK_SHIFT)->c[slot & (VC_CHUNK - 1)];
    if (val > *e) *e = val;
}

static void set_covered(struct vc_chunk **slot, struct vc_chunk *c) {
    if (c) chunk_ref(c);
    if (*slot) chunk_unref(*slot);
    *slot = c;
}

static void merge_entries(uint64_t *d, const uint64_t *s, uint32_t n) {
    for (uint32_t j = 0; j < n; j++)
        if (s[j] > d[j]) d[j] = s[j];
}

/* d = max(d, s), d private and at least as long as s. Chunks both hold,
 * or that d remembers covering, cost nothing. A private chunk of d's is
 * merged into in place, in one pass: the clocks of goroutines taking turns
 * at a mutex never copy a chunk. A source chunk that covers one d shares
 * (or never wrote) replaces it, so d needs no copy; otherwise d copies it
 * to merge. */
static void join_chunks(struct vc_spine *d, const struct vc_spine *s) {
    uint32_t n = chunks_for(s->len);
    /* A one-chunk source costs no more to compare than to remember. */
    if (!d->covered && n > 1) d->covered = covered_new(d->cap, NULL, 0);
    for (uint32_t i = 0; i < n; i++) {
        struct vc_chunk *sc = s->chunk[i], *dc = d->chunk[i];
        if (sc == dc || sc == ZERO_CHUNK || (d->covered && sc == d->covered[i])) continue;
        uint32_t need = entries_in(d->len, i);
        uint32_t common = sc->cap < need ? sc->cap : need;
        if (chunk_private(dc)) {
            merge_entries(dc->c, sc->c, common);
        } else {
            bool src_ahead = false, dst_ahead = false;
            for (uint32_t j = 0; j < common; j++) {
                src_ahead |= sc->c[j] > dc->c[j];
                dst_ahead |= dc->c[j] > sc->c[j];
            }
            if (src_ahead && !dst_ahead && sc->cap >= need) {
                chunk_ref(sc);
                chunk_unref(dc);
                d->chunk[i] = sc;
                if (d->covered) set_covered(&d->covered[i], NULL);
                continue;
            }
            if (src_ahead) merge_entries(own_chunk(d, i)->c, sc->c, common);
        }
        if (d->covered) set_covered(&d->covered[i], sc);
    }
}

void race_vc_join(struct vclock *dst, const struct vclock *src) {
    struct vc_spine *s = src->spine;
    if (s && s != dst->spine) {
        if (!dst->spine && dst->n_over == 0) {
            atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
            dst->spine = s;
        } else if (!(dst->spine && dst->spine->covers == s->id)) {
            materialize(dst, s->len);
            join_chunks(dst->spine, s);
            dst->spine->covers = s->id;
        }
    }
    for (uint32_t i = 0; i < src->n_over; i++)
        race_vc_raise(dst, src->over_slot[i], src->over_val[i]);
}

void race_vc_compact(struct vclock *v) {
    if (v->n_over) materialize(v, 0);
}

static inline void copy_override(struct vclock *dst, const struct vclock *src, uint32_t i) {
    dst->over_slot[i] = src->over_slot[i];
    dst->over_val[i] = src->over_val[i];
}

_Static_assert(VC_OVERRIDES == 4, "race_vc_copy copies up to four overrides");

void race_vc_copy(struct vclock *dst, const struct vclock *src) {
    if (dst == src) return;
    /* Two goroutines handing clocks back and forth usually share the
     * spine already: then no reference changes hands. */
    if (src->spine != dst->spine) {
        if (src->spine) atomic_fetch_add_explicit(&src->spine->refs, 1, memory_order_relaxed);
        spine_unref(dst->spine);
    }
    /* Entry by entry, and only the overrides in use: src's were usually
     * just raised by 8-byte stores, which a 16-byte load of a struct copy
     * cannot take from the store buffer (a stall of a dozen cycles on
     * every hand-off), and dst's are read right after by 8-byte loads. */
    dst->spine = src->spine;
    dst->n_over = src->n_over;
    switch (src->n_over) { /* (a loop would become two memcpy calls) */
    case 4: copy_override(dst, src, 3); /* fall through */
    case 3: copy_override(dst, src, 2); /* fall through */
    case 2: copy_override(dst, src, 1); /* fall through */
    case 1: copy_override(dst, src, 0);
    }
}

void race_vc_publish(struct vclock *dst, struct vclock *src, uint32_t slot, uint64_t epoch) {
    if (src->n_over >= VC_OVERRIDES) race_vc_compact(src);
    race_vc_copy(dst, src);
    race_vc_raise(dst, slot, epoch);
}

void race_vc_exchange(struct vclock *a, uint32_t a_slot, uint64_t a_epoch, struct vclock *b,
                      uint32_t b_slot, uint64_t b_epoch) {
    if (a->spine == b->spine) {
        /* b's entries are raised into a, except a's own: that entry may
         * lag (a's epoch is the truth), so b's word on it would only take
         * an override. */
        for (uint32_t j = 0; j < b->n_over; j++)
            if (b->over_slot[j] != a_slot) race_vc_raise(a, b->over_slot[j], b->over_val[j]);
        race_vc_raise(a, b_slot, b_epoch);
        /* Entry by entry, as race_vc_copy explains; the spine is shared
         * already, so no reference count changes. */
        race_vc_copy(b, a);
        race_vc_raise(b, a_slot, a_epoch);
        return;
    }
    race_vc_join(a, b);
    race_vc_raise(a, b_slot, b_epoch);
    race_vc_publish(b, a, a_slot, a_epoch);
}

void race_vc_clear(struct vclock *v) {
    spine_unref(v->spine);
    memset(v, 0, sizeof *v);
}
