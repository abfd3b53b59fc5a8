/* context.c - Go's context package: cancellation, deadlines and values
 * carried down a tree of contexts.
 *
 * Three kinds of context share one struct. Background is a static singleton
 * that is never cancelled and never freed. A cancel context (with_cancel,
 * with_timeout, with_deadline) owns a Done channel (element size 0, made
 * with the context, closed exactly once when it is cancelled) and an error
 * (0 until then, then GO_ECANCELED or GO_EDEADLINE for good: the first
 * cause wins). A value context only adds a key/value pair; its Done and Err
 * are those of its nearest cancel ancestor.
 *
 * The tree. Every context's `owner` is its nearest strict ancestor that is
 * a cancel context (NULL when there is none: only background and values
 * above it). A cancel context is linked into its owner's children list
 * from creation until it is cancelled or freed, whichever comes first, so
 * cancelling a context reaches every live, not yet cancelled descendant,
 * through value contexts too. Cancellation walks the subtree iteratively,
 * holding the locks of the path from the cancelled context down to the
 * node it is visiting; each child is unlinked as it is visited and gets the
 * root's cause, so the descendants of a context whose deadline expired
 * report GO_EDEADLINE, as in Go.
 *
 * Locks. Each cancel context has an rt_lock guarding its children list,
 * the sibling links of its children and the moment it becomes cancelled.
 * Locks are always taken parent before child. A timer's can_wake runs with
 * the scheduler's timer-heap lock held and takes context locks, so no
 * context lock is ever held while calling into the timer heap: a cancel
 * stops its own timer after dropping every lock, and contexts cancelled
 * through an ancestor leave their timer pending (it finds them cancelled if
 * it fires) until they are released.
 *
 * Lifetime. Contexts are reference counted: the creator holds one
 * reference, and each child holds one on its parent, so an ancestor chain
 * lives as long as any descendant. go_ctx_release cancels and drops the
 * caller's reference, hence a context is always cancelled (its Done closed,
 * nobody able to block on it) before it is freed. Freeing unlinks it from
 * its owner under the owner's lock, which also waits out any walk that is
 * visiting it, then waits for a concurrent timer firing to return. A
 * timer's fire() only cancels, it never drops references, so a context is
 * never freed from inside its own timer.
 *
 * Memory model: a cancellation happens before Done is seen closed and
 * before go_ctx_err returns its cause. mark_cancelled is the single place
 * where that release happens (the err store and the close of Done); the
 * close -> receive edge of the channel and the acquire load in go_ctx_err
 * are its observers. */
#include "rt.h"
#include "../detector/race.h"

#include <stdlib.h>

enum ctx_kind { CTX_BACKGROUND, CTX_CANCEL, CTX_VALUE };

struct go_ctx {
    enum ctx_kind kind;
    _Atomic int64_t refs;
    go_ctx *parent;          /* referenced; NULL only for background */
    go_ctx *owner;           /* nearest cancel ancestor, or NULL */
    int64_t deadline;        /* effective deadline, INT64_MAX for none */

    /* CTX_VALUE */
    const void *key;
    void *value;

    /* CTX_CANCEL */
    rt_lock lock;
    _Atomic int err;
    go_chan *done;
    go_ctx *first_child;                 /* under lock */
    go_ctx *prev_sibling, *next_sibling; /* under owner->lock */
    bool linked;                         /* under owner->lock */
    bool has_timer;
    struct rt_timer timer;
};

static go_ctx background = {.kind = CTX_BACKGROUND, .deadline = INT64_MAX};

go_ctx *go_ctx_background(void) { return &background; }

/* The context whose cancellation c reports: itself, or its owner. */
static go_ctx *canceller(go_ctx *c) {
    return c->kind == CTX_CANCEL ? c : c->owner;
}

/* ---- the children list (owner's lock held) ---- */

static void link_child(go_ctx *owner, go_ctx *c) {
    c->prev_sibling = NULL;
    c->next_sibling = owner->first_child;
    if (owner->first_child)
        owner->first_child->prev_sibling = c;
    owner->first_child = c;
    c->linked = true;
}

static void unlink_child(go_ctx *owner, go_ctx *c) {
    if (c->prev_sibling)
        c->prev_sibling->next_sibling = c->next_sibling;
    else
        owner->first_child = c->next_sibling;
    if (c->next_sibling)
        c->next_sibling->prev_sibling = c->prev_sibling;
    c->prev_sibling = c->next_sibling = NULL;
    c->linked = false;
}

/* Unlink c from its owner if it is still linked. Taking the owner's lock
 * even when c was unlinked already is what makes freeing safe: it waits
 * for a walk that holds the owner's lock and may still be visiting c. */
static void detach(go_ctx *c) {
    go_ctx *owner = c->owner;
    if (!owner)
        return;
    rt_lock_acquire(&owner->lock);
    if (c->linked)
        unlink_child(owner, c);
    rt_lock_release(&owner->lock);
}

/* ---- cancellation ---- */

/* c->lock held, c not cancelled yet. */
static void mark_cancelled(go_ctx *c, int err) {
    /* Released before err is visible: go_ctx_err may see err and acquire
     * before the close below releases. */
    RACE(race_release(c->done));
    atomic_store_explicit(&c->err, err, memory_order_release);
    go_chan_close(c->done);
}

/* Cancel root and its whole subtree with cause err; false if root was
 * cancelled already. Depth-first, iteratively: `node` is locked along with
 * every context on the path up to root (each one the owner of the next),
 * and each child is unlinked from node before it is visited, so node's
 * list empties and the walk climbs back through the owner links. */
static bool cancel_tree(go_ctx *root, int err) {
    rt_lock_acquire(&root->lock);
    if (atomic_load_explicit(&root->err, memory_order_relaxed) != 0) {
        rt_lock_release(&root->lock);
        return false;
    }
    mark_cancelled(root, err);
    go_ctx *node = root;
    for (;;) {
        go_ctx *child = node->first_child;
        if (child) {
            unlink_child(node, child);
            rt_lock_acquire(&child->lock);
            if (atomic_load_explicit(&child->err, memory_order_relaxed) == 0) {
                mark_cancelled(child, err);
                node = child;
            } else {
                /* Cancelled on its own and about to unlink itself. */
                rt_lock_release(&child->lock);
            }
            continue;
        }
        go_ctx *up = node->owner;
        rt_lock_release(&node->lock);
        if (node == root)
            return true;
        node = up;
    }
}

/* Cancel c (a cancel context) with cause err, then, with no lock held,
 * leave its owner's list and stop its timer. */
static void cancel_ctx(go_ctx *c, int err) {
    if (cancel_tree(c, err))
        detach(c);
    if (c->has_timer)
        rt_timer_stop(&c->timer);
}

void go_ctx_cancel(go_ctx *c) {
    if (c && c->kind == CTX_CANCEL)
        cancel_ctx(c, GO_ECANCELED);
}

/* ---- deadline timers ---- */

static void deadline_fire(struct rt_timer *t, int64_t now) {
    (void)now;
    cancel_ctx(t->arg, GO_EDEADLINE);
}

/* Would cancelling this context wake anyone? Only a goroutine blocked
 * receiving on the Done channel of the context or of a descendant (a
 * select waiting on it included); value contexts share their owner's
 * channel, so cancel contexts are all there is to look at. Same walk as
 * cancel_tree, holding the locks of the path, but reading only: `next`
 * is the sibling to visit after node's subtree. */
static bool deadline_can_wake(struct rt_timer *t) {
    go_ctx *root = t->arg;
    rt_lock_acquire(&root->lock);
    bool wake = rt_chan_has_receivers(root->done);
    go_ctx *node = root, *child = root->first_child;
    while (!wake) {
        if (child) {
            rt_lock_acquire(&child->lock);
            if (rt_chan_has_receivers(child->done)) {
                rt_lock_release(&child->lock);
                wake = true;
            } else if (child->first_child) {
                node = child;
                child = child->first_child;
            } else {
                go_ctx *next = child->next_sibling;
                rt_lock_release(&child->lock);
                child = next;
            }
            continue;
        }
        if (node == root)
            break;
        child = node->next_sibling;
        go_ctx *up = node->owner;
        rt_lock_release(&node->lock);
        node = up;
    }
    /* Release whatever part of the path is still held. */
    while (node != root) {
        go_ctx *up = node->owner;
        rt_lock_release(&node->lock);
        node = up;
    }
    rt_lock_release(&root->lock);
    return wake;
}

/* ---- creation ---- */

static go_ctx *ctx_new(go_ctx *parent, enum ctx_kind kind) {
    if (!parent)
        rt_panic("cannot create context from nil parent");
    go_ctx *c = calloc(1, sizeof *c);
    if (!c)
        rt_fatal("out of memory allocating a context");
    c->kind = kind;
    atomic_init(&c->refs, 1);
    c->parent = parent;
    if (parent != &background)
        atomic_fetch_add_explicit(&parent->refs, 1, memory_order_relaxed);
    c->owner = canceller(parent);
    c->deadline = parent->deadline;
    return c;
}

/* A new cancel context under parent, linked into its owner's children, or
 * born cancelled with the owner's cause if the owner is cancelled already. */
static go_ctx *cancel_ctx_new(go_ctx *parent) {
    go_ctx *c = ctx_new(parent, CTX_CANCEL);
    c->done = go_chan_make(0, 0);
    c->timer.index = -1;
    go_ctx *owner = c->owner;
    if (!owner)
        return c;
    rt_lock_acquire(&owner->lock);
    int err = atomic_load_explicit(&owner->err, memory_order_relaxed);
    if (err == 0)
        link_child(owner, c);
    rt_lock_release(&owner->lock);
    if (err != 0)
        cancel_tree(c, err);
    return c;
}

go_ctx *go_ctx_with_cancel(go_ctx *parent) { return cancel_ctx_new(parent); }

go_ctx *go_ctx_with_deadline(go_ctx *parent, int64_t deadline) {
    /* The parent gives up no later than this: its cancellation alone will
     * reach the child in time, with its own cause. */
    if (parent && parent->deadline <= deadline)
        return cancel_ctx_new(parent);
    rt_init();
    go_ctx *c = cancel_ctx_new(parent);
    c->deadline = deadline;
    if (go_ctx_err(c) != 0)
        return c;
    if (deadline <= rt_nanotime()) {
        cancel_ctx(c, GO_EDEADLINE);
        return c;
    }
    c->timer.fire = deadline_fire;
    c->timer.can_wake = deadline_can_wake;
    c->timer.arg = c;
    c->has_timer = true;
    rt_timer_start(&c->timer, deadline);
    return c;
}

go_ctx *go_ctx_with_timeout(go_ctx *parent, int64_t ns) {
    int64_t now = go_nanotime();
    int64_t deadline = ns > INT64_MAX - now ? INT64_MAX : now + ns;
    return go_ctx_with_deadline(parent, deadline);
}

go_ctx *go_ctx_with_value(go_ctx *parent, const void *key, void *value) {
    if (!key)
        rt_panic("nil key");
    go_ctx *c = ctx_new(parent, CTX_VALUE);
    c->key = key;
    c->value = value;
    return c;
}

/* ---- release ---- */

/* Drop one reference to c; free it, and then its ancestors, as their
 * counts reach zero. */
static void unref(go_ctx *c) {
    while (c != &background &&
           atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1) {
        go_ctx *parent = c->parent;
        if (c->kind == CTX_CANCEL) {
            detach(c);
            if (c->has_timer)
                rt_timer_stop_sync(&c->timer);
            go_chan_free(c->done);
        }
        free(c);
        c = parent;
    }
}

void go_ctx_release(go_ctx *c) {
    if (!c || c == &background)
        return;
    go_ctx_cancel(c);
    unref(c);
}

/* ---- queries ---- */

go_chan *go_ctx_done(go_ctx *c) {
    go_ctx *cc = canceller(c);
    return cc ? cc->done : NULL;
}

int go_ctx_err(go_ctx *c) {
    go_ctx *cc = canceller(c);
    int err = cc ? atomic_load_explicit(&cc->err, memory_order_acquire) : 0;
    /* Seeing the cause orders after the cancellation, as seeing Done
     * closed does (the close released on the channel). */
    if (err) RACE(race_acquire(cc->done));
    return err;
}

void *go_ctx_value(go_ctx *c, const void *key) {
    for (; c; c = c->parent)
        if (c->kind == CTX_VALUE && c->key == key)
            return c->value;
    return NULL;
}
