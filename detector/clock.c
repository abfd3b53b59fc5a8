/* clock.c - copy-on-write vector clocks; see clock.h for the design. */
#include "detector.h"

#include <string.h>

static uint64_t fresh_id(void) {
    return (uint64_t)rt_fastrand() << 32 | rt_fastrand() | 1;
}

/* A private array of len entries, the first from copies of those of from
 * (if any), the rest zero. */
static struct vc_array *array_new(uint32_t len, uint32_t cap, const struct vc_array *from) {
    if (cap < len) cap = len;
    if (cap < 8) cap = 8;
    struct vc_array *a = race_internal_alloc(sizeof *a + (size_t)cap * sizeof(uint64_t));
    atomic_store_explicit(&a->refs, 1, memory_order_relaxed);
    a->len = len;
    a->cap = cap;
    a->id = fresh_id();
    a->covers = from ? from->id : 0;
    uint32_t copied = from ? from->len : 0;
    if (from) memcpy(a->c, from->c, (size_t)copied * sizeof(uint64_t));
    memset(a->c + copied, 0, (size_t)(len - copied) * sizeof(uint64_t));
    return a;
}

static void array_unref(struct vc_array *a) {
    if (a && atomic_fetch_sub_explicit(&a->refs, 1, memory_order_acq_rel) == 1)
        race_internal_free(a);
}

/* Make v's array private and at least len long, with the overrides folded
 * in; it gets a new id since it is about to change. */
static void materialize(struct vclock *v, uint32_t len) {
    struct vc_array *old = v->arr;
    uint32_t need = old ? old->len : 0;
    for (uint32_t i = 0; i < v->n_over; i++)
        if (v->over_slot[i] + 1 > need) need = v->over_slot[i] + 1;
    if (len > need) need = len;
    struct vc_array *a;
    if (old && atomic_load_explicit(&old->refs, memory_order_acquire) == 1 && need <= old->cap) {
        a = old;
        a->id = fresh_id();
        if (need > a->len) {
            memset(a->c + a->len, 0, (size_t)(need - a->len) * sizeof(uint64_t));
            a->len = need;
        }
    } else {
        a = array_new(need, old && need > old->len ? 2 * need : need, old);
        array_unref(old);
    }
    for (uint32_t i = 0; i < v->n_over; i++)
        if (v->over_val[i] > a->c[v->over_slot[i]]) a->c[v->over_slot[i]] = v->over_val[i];
    v->n_over = 0;
    v->arr = a;
}

void vc_raise_spill(struct vclock *v, uint32_t slot, uint64_t val) {
    materialize(v, slot + 1);
    if (val > v->arr->c[slot]) v->arr->c[slot] = val;
}

void vc_join(struct vclock *dst, const struct vclock *src) {
    struct vc_array *s = src->arr;
    if (s && s != dst->arr) {
        if (!dst->arr && dst->n_over == 0) {
            atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
            dst->arr = s;
        } else if (!(dst->arr && dst->arr->covers == s->id)) {
            materialize(dst, s->len);
            uint64_t *d = dst->arr->c;
            for (uint32_t i = 0; i < s->len; i++)
                if (s->c[i] > d[i]) d[i] = s->c[i];
            dst->arr->covers = s->id;
        }
    }
    for (uint32_t i = 0; i < src->n_over; i++) vc_raise(dst, src->over_slot[i], src->over_val[i]);
}

void vc_compact(struct vclock *v) {
    if (v->n_over) materialize(v, 0);
}

void vc_copy(struct vclock *dst, const struct vclock *src) {
    if (dst == src) return;
    /* Two goroutines handing clocks back and forth usually share the
     * array already: then no reference changes hands. */
    if (src->arr != dst->arr) {
        if (src->arr) atomic_fetch_add_explicit(&src->arr->refs, 1, memory_order_relaxed);
        array_unref(dst->arr);
    }
    *dst = *src;
}

void vc_publish(struct vclock *dst, struct vclock *src, uint32_t slot, uint64_t epoch) {
    if (src->n_over >= VC_OVERRIDES) vc_compact(src);
    vc_copy(dst, src);
    vc_raise(dst, slot, epoch);
}

void vc_clear(struct vclock *v) {
    array_unref(v->arr);
    memset(v, 0, sizeof *v);
}
