/* test_context.c - go_ctx: cancellation trees, deadlines, values, lifetime.
 *
 * Trees mix the three kinds of context (cancel, value, deadline), so
 * propagation is checked through value contexts and timer-backed ones too.
 * Every Done channel is checked closed or open with a non-blocking receive;
 * a Done closed twice would panic, and one goroutine per context blocked on
 * its Done counts its wake-ups, so "exactly once" is asserted both ways.
 * Deadline cases assert orderings (a 1 ms deadline has fired by the time a
 * 200 ms one is seen to), never durations. Freeing is checked by ASan's leak
 * checker in the sanitizer build: every case releases what it made.
 * Cases whose outcome is a process exit (a deadlock report, or the absence
 * of one) run in child processes. */
#include <goroutine.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "probes.h"

/* Is the channel closed? (For Done channels, which are never sent on.) */
static bool closed(go_chan *c) {
    go_case rc = {.chan = c, .dir = GO_RECV};
    return go_select_nb(&rc, 1) == 0 && !rc.ok;
}

static bool open(go_chan *c) {
    go_case rc = {.chan = c, .dir = GO_RECV};
    return go_select_nb(&rc, 1) == -1;
}

/* ---- background ---- */

static void test_background(void) {
    go_ctx *bg = go_ctx_background();
    CU_ASSERT_PTR_NOT_NULL_FATAL(bg);
    CU_ASSERT_PTR_EQUAL(bg, go_ctx_background());
    CU_ASSERT_PTR_NULL(go_ctx_done(bg));
    CU_ASSERT_EQUAL(go_ctx_err(bg), 0);
    CU_ASSERT_PTR_NULL(go_ctx_value(bg, "key"));
    go_ctx_cancel(bg);
    go_ctx_release(bg);
    CU_ASSERT_EQUAL(go_ctx_err(bg), 0);

    go_ctx *v = go_ctx_with_value(bg, &bg, "x");
    CU_ASSERT_PTR_NULL(go_ctx_done(v));
    CU_ASSERT_EQUAL(go_ctx_err(v), 0);
    go_ctx_release(v);
}

/* ---- a tree of contexts ---- */

enum { BREADTH = 3, DEPTH = 6, MAX_NODES = 1200 };
enum kind { K_CANCEL, K_VALUE, K_TIMEOUT };

static struct {
    int n;
    go_ctx *ctx[MAX_NODES];
    int parent[MAX_NODES];
    enum kind kind[MAX_NODES];
    atomic_int woke[MAX_NODES];      /* wake-ups of the goroutine on Done */
    atomic_int err_seen[MAX_NODES];  /* go_ctx_err once Done was closed */
    go_waitgroup wg;
} tree;

static int tree_key;

static bool in_subtree(int node, int top) {
    for (; node >= 0; node = tree.parent[node])
        if (node == top)
            return true;
    return false;
}

/* Breadth-first: children of node i come after i. The root is a cancel
 * context; below it the kinds rotate so every kind sits under every
 * other. */
static void tree_build(void) {
    memset(&tree, 0, sizeof tree);
    tree.ctx[0] = go_ctx_with_cancel(go_ctx_background());
    tree.parent[0] = -1;
    tree.kind[0] = K_CANCEL;
    tree.n = 1;
    int level_start = 0, level_end = 1;
    for (int d = 1; d < DEPTH; d++) {
        for (int p = level_start; p < level_end; p++) {
            for (int b = 0; b < BREADTH; b++) {
                int i = tree.n++;
                CU_ASSERT_FATAL(i < MAX_NODES);
                enum kind k = (enum kind)((p + b) % 3);
                go_ctx *parent = tree.ctx[p];
                tree.ctx[i] = k == K_CANCEL ? go_ctx_with_cancel(parent)
                            : k == K_VALUE  ? go_ctx_with_value(parent, &tree_key, (void *)(intptr_t)i)
                                            : go_ctx_with_timeout(parent, 3600 * GO_SECOND);
                tree.parent[i] = p;
                tree.kind[i] = k;
            }
        }
        level_start = level_end;
        level_end = tree.n;
    }
}

static void done_waiter(void *arg) {
    int i = (int)(intptr_t)arg;
    bool got = go_chan_recv(go_ctx_done(tree.ctx[i]), NULL);
    CU_ASSERT_FALSE(got);
    atomic_fetch_add(&tree.woke[i], 1);
    atomic_store(&tree.err_seen[i], go_ctx_err(tree.ctx[i]));
    go_wg_done(&tree.wg);
}

/* Release in a scrambled order: parents before, after and between their
 * children, so frees happen from both ends. */
static void tree_release(void) {
    int order[MAX_NODES];
    for (int i = 0; i < tree.n; i++)
        order[i] = i;
    unsigned seed = 12345;
    for (int i = tree.n - 1; i > 0; i--) {
        seed = seed * 1103515245u + 12345u;
        int j = (int)((seed >> 8) % (unsigned)(i + 1));
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (int i = 0; i < tree.n; i++)
        go_ctx_release(tree.ctx[order[i]]);
}

static void tree_propagation_body(void) {
    tree_build();
    go_wg_add(&tree.wg, tree.n);
    for (int i = 0; i < tree.n; i++)
        go_spawn(done_waiter, (void *)(intptr_t)i);

    /* Cancel one cancel context two levels down: exactly its subtree
     * goes. */
    int mid = -1;
    for (int i = 1 + BREADTH; i < tree.n && mid < 0; i++)
        if (tree.kind[i] == K_CANCEL && tree.parent[tree.parent[i]] == 0)
            mid = i;
    CU_ASSERT_FATAL(mid > 0);
    go_ctx_cancel(tree.ctx[mid]);
    for (int i = 0; i < tree.n; i++) {
        bool inside = in_subtree(i, mid);
        CU_ASSERT_EQUAL(go_ctx_err(tree.ctx[i]), inside ? GO_ECANCELED : 0);
        CU_ASSERT_TRUE(inside ? closed(go_ctx_done(tree.ctx[i]))
                              : open(go_ctx_done(tree.ctx[i])));
    }

    go_ctx_cancel(tree.ctx[0]);
    go_ctx_cancel(tree.ctx[0]); /* idempotent */
    for (int i = 0; i < tree.n; i++) {
        CU_ASSERT_EQUAL(go_ctx_err(tree.ctx[i]), GO_ECANCELED);
        CU_ASSERT_TRUE(closed(go_ctx_done(tree.ctx[i])));
        CU_ASSERT_PTR_EQUAL(go_ctx_value(tree.ctx[i], &tree_key),
                            tree.kind[i] == K_VALUE ? (void *)(intptr_t)i
                            : i == 0 ? NULL : go_ctx_value(tree.ctx[tree.parent[i]], &tree_key));
    }
    go_wg_wait(&tree.wg);
    for (int i = 0; i < tree.n; i++) {
        CU_ASSERT_EQUAL(atomic_load(&tree.woke[i]), 1);
        CU_ASSERT_EQUAL(atomic_load(&tree.err_seen[i]), GO_ECANCELED);
    }
    tree_release();
}

static void test_tree_propagation(void) { AT_PROCS(tree_propagation_body, 1, 2, 8); }

/* A child made under a cancelled context is born cancelled with the
 * parent's cause. */
static void test_child_of_cancelled(void) {
    go_ctx *root = go_ctx_with_cancel(go_ctx_background());
    go_ctx_cancel(root);
    go_ctx *v = go_ctx_with_value(root, &tree_key, NULL);
    go_ctx *c = go_ctx_with_cancel(v);
    go_ctx *t = go_ctx_with_timeout(v, 3600 * GO_SECOND);
    CU_ASSERT_EQUAL(go_ctx_err(c), GO_ECANCELED);
    CU_ASSERT_EQUAL(go_ctx_err(t), GO_ECANCELED);
    CU_ASSERT_TRUE(closed(go_ctx_done(c)));
    CU_ASSERT_TRUE(closed(go_ctx_done(t)));
    CU_ASSERT_PTR_EQUAL(go_ctx_done(v), go_ctx_done(root));
    go_ctx_release(t);
    go_ctx_release(c);
    go_ctx_release(v);
    go_ctx_release(root);
}

/* ---- a deep chain, on a goroutine's stack ---- */

enum { CHAIN = 20000 };

struct chain_run {
    bool release_leaf_first;
    go_waitgroup wg;
};

/* Cancellation, lookup and freeing walk the chain without recursion, so
 * a goroutine's stack is enough whatever the depth. */
static void chain_body(void *arg) {
    struct chain_run *run = arg;
    go_ctx **chain = malloc(CHAIN * sizeof *chain);
    CU_ASSERT_PTR_NOT_NULL_FATAL(chain);
    chain[0] = go_ctx_with_cancel(go_ctx_background());
    for (int i = 1; i < CHAIN; i++)
        chain[i] = i % 2 ? go_ctx_with_cancel(chain[i - 1])
                         : go_ctx_with_value(chain[i - 1], &chain[i], &chain[i]);
    go_ctx *leaf = chain[CHAIN - 1];
    CU_ASSERT_EQUAL(go_ctx_err(leaf), 0);
    CU_ASSERT_PTR_EQUAL(go_ctx_value(leaf, &chain[2]), &chain[2]);
    go_ctx_cancel(chain[0]);
    CU_ASSERT_EQUAL(go_ctx_err(leaf), GO_ECANCELED);
    CU_ASSERT_TRUE(closed(go_ctx_done(leaf)));
    for (int i = 0; i < CHAIN; i++)
        go_ctx_release(chain[run->release_leaf_first ? CHAIN - 1 - i : i]);
    free(chain);
    go_wg_done(&run->wg);
}

static void test_deep_chain(void) {
    for (int leaf_first = 0; leaf_first < 2; leaf_first++) {
        struct chain_run run = {.release_leaf_first = leaf_first};
        go_wg_add(&run.wg, 1);
        go_spawn(chain_body, &run);
        go_wg_wait(&run.wg);
    }
}

/* ---- values ---- */

static void test_values(void) {
    static int k1, k2;
    static char same_a[] = "k", same_b[] = "k"; /* equal text, distinct keys */
    go_ctx *a = go_ctx_with_value(go_ctx_background(), &k1, "one");
    go_ctx *c = go_ctx_with_cancel(a);
    go_ctx *b = go_ctx_with_value(c, &k2, "two");
    go_ctx *shadow = go_ctx_with_value(b, &k1, "uno");
    go_ctx *sa = go_ctx_with_value(shadow, same_a, "A");
    go_ctx *sb = go_ctx_with_value(sa, same_b, "B");

    CU_ASSERT_STRING_EQUAL(go_ctx_value(a, &k1), "one");
    CU_ASSERT_STRING_EQUAL(go_ctx_value(c, &k1), "one");
    CU_ASSERT_STRING_EQUAL(go_ctx_value(b, &k1), "one");
    CU_ASSERT_STRING_EQUAL(go_ctx_value(shadow, &k1), "uno");
    CU_ASSERT_STRING_EQUAL(go_ctx_value(shadow, &k2), "two");
    CU_ASSERT_PTR_NULL(go_ctx_value(a, &k2));
    CU_ASSERT_PTR_NULL(go_ctx_value(c, &k2));
    CU_ASSERT_STRING_EQUAL(go_ctx_value(sb, same_a), "A");
    CU_ASSERT_STRING_EQUAL(go_ctx_value(sb, same_b), "B");
    CU_ASSERT_STRING_EQUAL(go_ctx_value(sb, &k1), "uno");
    CU_ASSERT_PTR_NULL(go_ctx_value(sb, "k")); /* compared by pointer */

    /* Value contexts report their nearest cancel ancestor's Done and Err,
     * and have nothing of their own to cancel. */
    CU_ASSERT_PTR_NULL(go_ctx_done(a));
    CU_ASSERT_PTR_NOT_NULL(go_ctx_done(c));
    CU_ASSERT_PTR_EQUAL(go_ctx_done(b), go_ctx_done(c));
    CU_ASSERT_PTR_EQUAL(go_ctx_done(sb), go_ctx_done(c));
    go_ctx_cancel(shadow);
    CU_ASSERT_EQUAL(go_ctx_err(c), 0);
    CU_ASSERT_TRUE(open(go_ctx_done(sb)));

    go_ctx_cancel(c);
    CU_ASSERT_EQUAL(go_ctx_err(sb), GO_ECANCELED);
    CU_ASSERT_EQUAL(go_ctx_err(b), GO_ECANCELED);
    CU_ASSERT_EQUAL(go_ctx_err(a), 0);
    CU_ASSERT_TRUE(closed(go_ctx_done(sb)));

    /* Released ancestors stay alive for their descendants. */
    go_ctx_release(a);
    go_ctx_release(c);
    go_ctx_release(shadow);
    CU_ASSERT_STRING_EQUAL(go_ctx_value(sb, &k1), "uno");
    CU_ASSERT_STRING_EQUAL(go_ctx_value(sb, &k2), "two");
    go_ctx_release(sb);
    go_ctx_release(b);
    go_ctx_release(sa);
}

/* ---- deadlines ---- */

enum { STAGGERED = 4 };
static const int64_t staggered_ns[STAGGERED] = {
    200 * GO_MILLISECOND, 1 * GO_MILLISECOND, 50 * GO_MILLISECOND, 10 * GO_MILLISECOND};

static struct {
    go_ctx *ctx[STAGGERED];
    atomic_int out_of_order;
    go_waitgroup wg;
} stag;

/* Once this context's deadline has passed, every earlier one has too. */
static void staggered_waiter(void *arg) {
    int k = (int)(intptr_t)arg;
    go_chan_recv(go_ctx_done(stag.ctx[k]), NULL);
    if (go_ctx_err(stag.ctx[k]) != GO_EDEADLINE)
        atomic_fetch_add(&stag.out_of_order, 1);
    for (int j = 0; j < STAGGERED; j++)
        if (staggered_ns[j] < staggered_ns[k] && go_ctx_err(stag.ctx[j]) != GO_EDEADLINE)
            atomic_fetch_add(&stag.out_of_order, 1);
    go_wg_done(&stag.wg);
}

static void test_deadlines_fire_in_order(void) {
    memset(&stag, 0, sizeof stag);
    for (int k = 0; k < STAGGERED; k++)
        stag.ctx[k] = go_ctx_with_timeout(go_ctx_background(), staggered_ns[k]);
    go_wg_add(&stag.wg, STAGGERED);
    for (int k = 0; k < STAGGERED; k++)
        go_spawn(staggered_waiter, (void *)(intptr_t)k);
    go_wg_wait(&stag.wg);
    CU_ASSERT_EQUAL(atomic_load(&stag.out_of_order), 0);
    for (int k = 0; k < STAGGERED; k++)
        go_ctx_release(stag.ctx[k]);
}

static void test_deadline_causes(void) {
    go_ctx *bg = go_ctx_background();

    /* Cancelled by hand before its deadline: ECANCELED, for good. */
    go_ctx *manual = go_ctx_with_timeout(bg, 3600 * GO_SECOND);
    CU_ASSERT_TRUE(open(go_ctx_done(manual)));
    go_ctx_cancel(manual);
    CU_ASSERT_EQUAL(go_ctx_err(manual), GO_ECANCELED);
    CU_ASSERT_TRUE(closed(go_ctx_done(manual)));

    /* Deadlines already past cancel at once. */
    go_ctx *past = go_ctx_with_deadline(bg, go_nanotime() - 1);
    go_ctx *zero = go_ctx_with_timeout(bg, 0);
    go_ctx *negative = go_ctx_with_timeout(bg, -GO_SECOND);
    CU_ASSERT_EQUAL(go_ctx_err(past), GO_EDEADLINE);
    CU_ASSERT_EQUAL(go_ctx_err(zero), GO_EDEADLINE);
    CU_ASSERT_EQUAL(go_ctx_err(negative), GO_EDEADLINE);
    CU_ASSERT_TRUE(closed(go_ctx_done(past)));
    go_ctx_cancel(past);
    CU_ASSERT_EQUAL(go_ctx_err(past), GO_EDEADLINE); /* first cause wins */

    /* An expiring parent: its descendants report its cause, except one
     * cancelled by hand first; a child's later deadline does not matter;
     * a child's earlier one fires on its own. */
    go_ctx *parent = go_ctx_with_timeout(bg, 20 * GO_MILLISECOND);
    go_ctx *early = go_ctx_with_timeout(parent, 1 * GO_MILLISECOND);
    go_ctx *late = go_ctx_with_timeout(parent, 3600 * GO_SECOND);
    go_ctx *value = go_ctx_with_value(parent, &parent, NULL);
    go_ctx *plain = go_ctx_with_cancel(value);
    go_ctx *handled = go_ctx_with_cancel(value);
    go_ctx *grandchild = go_ctx_with_cancel(handled);
    go_ctx_cancel(handled);

    go_chan_recv(go_ctx_done(early), NULL);
    CU_ASSERT_EQUAL(go_ctx_err(early), GO_EDEADLINE);
    go_chan_recv(go_ctx_done(late), NULL);
    CU_ASSERT_EQUAL(go_ctx_err(parent), GO_EDEADLINE);
    CU_ASSERT_EQUAL(go_ctx_err(late), GO_EDEADLINE);
    CU_ASSERT_EQUAL(go_ctx_err(value), GO_EDEADLINE);
    CU_ASSERT_EQUAL(go_ctx_err(plain), GO_EDEADLINE);
    CU_ASSERT_EQUAL(go_ctx_err(handled), GO_ECANCELED);
    CU_ASSERT_EQUAL(go_ctx_err(grandchild), GO_ECANCELED);
    CU_ASSERT_TRUE(closed(go_ctx_done(plain)));

    go_ctx *born_late = go_ctx_with_cancel(plain);
    CU_ASSERT_EQUAL(go_ctx_err(born_late), GO_EDEADLINE);
    CU_ASSERT_TRUE(closed(go_ctx_done(born_late)));

    go_ctx *all[] = {manual, past, zero, negative, parent, early, late,
                     value, plain, handled, grandchild, born_late};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        go_ctx_release(all[i]);
}

/* Contexts released before, while and after their timers fire: a timer
 * must never fire on a freed context (ASan), and every Done is closed by
 * its release. */
enum { CHURN_WORKERS = 8, CHURN_ROUNDS = 300 };

static void timer_churn_worker(void *arg) {
    go_waitgroup *wg = arg;
    unsigned seed = (unsigned)go_id() * 2654435761u;
    for (int i = 0; i < CHURN_ROUNDS; i++) {
        seed = seed * 1103515245u + 12345u;
        go_ctx *parent = go_ctx_with_timeout(go_ctx_background(),
                                             (int64_t)(seed >> 16) % (200 * GO_MICROSECOND));
        go_ctx *child = go_ctx_with_timeout(parent, (int64_t)(seed >> 8) % (300 * GO_MICROSECOND));
        go_chan *done = go_ctx_done(child);
        switch (seed % 4) {
        case 0: break;
        case 1: go_yield(); break;
        case 2: go_chan_recv(done, NULL); break;
        case 3: go_ctx_cancel(parent); break;
        }
        if (seed & 16) {
            go_ctx_release(parent);
            CU_ASSERT_TRUE(closed(done));
            go_ctx_release(child);
        } else {
            go_ctx_release(child);
            go_ctx_release(parent);
        }
    }
    go_wg_done(wg);
}

static void timer_churn_body(void) {
    go_waitgroup wg = {0};
    go_wg_add(&wg, CHURN_WORKERS);
    for (int i = 0; i < CHURN_WORKERS; i++)
        go_spawn(timer_churn_worker, &wg);
    go_wg_wait(&wg);
}

static void test_timer_churn(void) { AT_PROCS(timer_churn_body, 1, 2, 8); }

/* ---- select on Done ---- */

struct selector {
    go_ctx *ctx;
    go_chan *other;
    go_chan *result; /* int: chosen case */
    int value;
    bool ok;
};

static void select_on_done(void *arg) {
    struct selector *s = arg;
    go_case cases[2] = {
        {.chan = go_ctx_done(s->ctx), .dir = GO_RECV},
        {.chan = s->other, .dir = GO_RECV, .elem = &s->value},
    };
    int chosen = go_select(cases, 2);
    s->ok = cases[chosen].ok;
    go_chan_send(s->result, &chosen);
}

static int run_selector(struct selector *s, void (*wake)(struct selector *)) {
    s->other = go_chan_make(sizeof(int), 0);
    s->result = go_chan_make(sizeof(int), 0);
    go_spawn(select_on_done, s);
    if (wake)
        wake(s);
    int chosen = -1;
    go_chan_recv(s->result, &chosen);
    go_chan_free(s->other);
    go_chan_free(s->result);
    return chosen;
}

static void wake_by_cancel(struct selector *s) { go_ctx_cancel(s->ctx); }

static void wake_by_send(struct selector *s) {
    int seven = 7;
    go_chan_send(s->other, &seven);
}

static void test_select_on_done(void) {
    struct selector s = {.ctx = go_ctx_with_cancel(go_ctx_background())};
    CU_ASSERT_EQUAL(run_selector(&s, wake_by_cancel), 0);
    CU_ASSERT_FALSE(s.ok);
    CU_ASSERT_EQUAL(go_ctx_err(s.ctx), GO_ECANCELED);
    go_ctx_release(s.ctx);

    s = (struct selector){.ctx = go_ctx_with_timeout(go_ctx_background(), 3600 * GO_SECOND)};
    CU_ASSERT_EQUAL(run_selector(&s, wake_by_send), 1);
    CU_ASSERT_TRUE(s.ok);
    CU_ASSERT_EQUAL(s.value, 7);
    CU_ASSERT_EQUAL(go_ctx_err(s.ctx), 0);
    go_ctx_release(s.ctx);

    /* Woken by a deadline, through a value context. */
    go_ctx *t = go_ctx_with_timeout(go_ctx_background(), 2 * GO_MILLISECOND);
    s = (struct selector){.ctx = go_ctx_with_value(t, &s, NULL)};
    CU_ASSERT_EQUAL(run_selector(&s, NULL), 0);
    CU_ASSERT_FALSE(s.ok);
    CU_ASSERT_EQUAL(go_ctx_err(s.ctx), GO_EDEADLINE);
    go_ctx_release(s.ctx);
    go_ctx_release(t);
}

/* ---- concurrent creation, cancellation and release ---- */

enum { STRESS_WORKERS = 16, STRESS_ROUNDS = 400 };

static struct {
    go_ctx *root;
    atomic_int violations;
    atomic_int progress;
    go_waitgroup wg;
} st;

static void stress_worker(void *arg) {
    unsigned seed = (unsigned)(intptr_t)arg * 2654435761u + 1;
    for (int i = 0; i < STRESS_ROUNDS; i++) {
        seed = seed * 1103515245u + 12345u;
        bool root_cancelled = go_ctx_err(st.root) != 0;
        go_ctx *mid = seed % 3 == 0 ? go_ctx_with_value(st.root, &st, NULL)
                    : seed % 3 == 1 ? go_ctx_with_cancel(st.root)
                                    : go_ctx_with_timeout(st.root, 3600 * GO_SECOND);
        go_ctx *leaf = go_ctx_with_cancel(mid);
        go_ctx *leaf2 = go_ctx_with_value(leaf, &seed, NULL);
        /* Born under a cancelled root: cancelled at birth. */
        if (root_cancelled && (go_ctx_err(leaf2) != GO_ECANCELED || !closed(go_ctx_done(leaf2))))
            atomic_fetch_add(&st.violations, 1);
        if (seed & 8) {
            go_ctx_cancel(seed % 3 == 0 ? leaf : mid); /* a value has no cancel */
            /* Once cancel returns, the whole subtree is cancelled. */
            if (go_ctx_err(leaf) == 0 || !closed(go_ctx_done(leaf2)))
                atomic_fetch_add(&st.violations, 1);
        }
        if (seed & 32)
            go_yield();
        go_ctx *order[3] = {mid, leaf, leaf2};
        int first = (int)(seed >> 10) % 3;
        for (int k = 0; k < 3; k++)
            go_ctx_release(order[(first + k) % 3]);
        atomic_fetch_add(&st.progress, 1);
    }
    go_wg_done(&st.wg);
}

static void stress_body(void) {
    memset(&st, 0, sizeof st);
    st.root = go_ctx_with_cancel(go_ctx_background());
    go_wg_add(&st.wg, STRESS_WORKERS);
    for (intptr_t i = 0; i < STRESS_WORKERS; i++)
        go_spawn(stress_worker, (void *)i);
    while (atomic_load(&st.progress) < STRESS_WORKERS * STRESS_ROUNDS / 2)
        go_yield();
    go_ctx_cancel(st.root);
    go_wg_wait(&st.wg);
    CU_ASSERT_EQUAL(atomic_load(&st.violations), 0);
    go_ctx_release(st.root);
}

static void test_concurrent_stress(void) { AT_PROCS(stress_body, 1, 2, 8); }

/* ---- the deadlock check and context timers, in child processes ---- */

static go_chan *never;

/* main waits on Done of a context whose deadline is pending: not a
 * deadlock, it returns when the deadline fires. */
static void child_wait_for_deadline(void) {
    go_ctx *c = go_ctx_with_timeout(go_ctx_background(), 30 * GO_MILLISECOND);
    go_chan_recv(go_ctx_done(c), NULL);
    printf("woke: %s\n", go_ctx_err(c) == GO_EDEADLINE ? "deadline" : "wrong cause");
    go_ctx_release(c);
}

/* The same through a value and two cancel contexts below the deadline,
 * in a select with a channel nobody sends on. */
static void child_wait_for_ancestor_deadline(void) {
    go_ctx *t = go_ctx_with_timeout(go_ctx_background(), 30 * GO_MILLISECOND);
    go_ctx *v = go_ctx_with_value(t, &never, NULL);
    go_ctx *c = go_ctx_with_cancel(v);
    go_ctx *d = go_ctx_with_cancel(c);
    never = go_chan_make(sizeof(int), 0);
    go_case cases[2] = {{.chan = never, .dir = GO_RECV}, {.chan = go_ctx_done(d), .dir = GO_RECV}};
    int chosen = go_select(cases, 2);
    printf("woke: case %d %s\n", chosen,
           go_ctx_err(d) == GO_EDEADLINE ? "deadline" : "wrong cause");
    go_ctx_release(d);
    go_ctx_release(c);
    go_ctx_release(v);
    go_ctx_release(t);
    go_chan_free(never);
}

/* The deadline's timer finds its waiter by walking the whole subtree:
 * down, across siblings and back up (children are visited newest first,
 * so the waited-on context sits in the subtree visited last). */
static void child_wait_deep_in_tree(void) {
    go_ctx *t = go_ctx_with_timeout(go_ctx_background(), 30 * GO_MILLISECOND);
    go_ctx *a1 = go_ctx_with_cancel(t);
    go_ctx *m = go_ctx_with_cancel(a1);
    go_ctx *b3 = go_ctx_with_value(m, &never, NULL);
    go_ctx *a2 = go_ctx_with_cancel(t);
    go_ctx *b1 = go_ctx_with_cancel(a2);
    go_ctx *b2 = go_ctx_with_cancel(a2);
    go_ctx *c1 = go_ctx_with_cancel(b2);
    go_chan_recv(go_ctx_done(b3), NULL);
    printf("woke: %s\n", go_ctx_err(b3) == GO_EDEADLINE && go_ctx_err(c1) == GO_EDEADLINE
                             ? "deadline" : "wrong cause");
    go_ctx *all[] = {t, a1, m, b3, a2, b1, b2, c1};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        go_ctx_release(all[i]);
}

static void deadline_then_done(void *arg) {
    go_ctx *c = go_ctx_with_timeout(go_ctx_background(), 30 * GO_MILLISECOND);
    go_chan_recv(go_ctx_done(c), NULL);
    go_ctx_release(c);
    go_wg_done(arg);
}

/* main waits on a WaitGroup; the goroutine that will mark it done waits
 * for a deadline. */
static void child_wait_for_deadline_in_goroutine(void) {
    static go_waitgroup wg;
    go_wg_add(&wg, 1);
    go_spawn(deadline_then_done, &wg);
    go_wg_wait(&wg);
    printf("woke: deadline\n");
}

/* A pending deadline nobody waits on does not hide a deadlock. */
static void child_deadline_unwatched(void) {
    go_ctx *t = go_ctx_with_timeout(go_ctx_background(), 3600 * GO_SECOND);
    go_ctx *c = go_ctx_with_cancel(t);
    go_ctx *other = go_ctx_with_cancel(go_ctx_background());
    (void)c;
    go_chan_recv(go_ctx_done(other), NULL);
}

static bool has_line(const char *output, const char *line) {
    size_t n = strlen(line);
    for (const char *p = output; (p = strstr(p, line)) != NULL; p++)
        if ((p == output || p[-1] == '\n') && (p[n] == '\n' || p[n] == 0))
            return true;
    return false;
}

static void expect_child(const char *child, const char *const *env, int status,
                         const char *line) {
    static harness_result r;
    harness_child(child, env, 60, &r);
    CU_ASSERT_FALSE(r.timed_out);
    CU_ASSERT_TRUE(r.exited);
    CU_ASSERT_EQUAL(r.status, status);
    CU_ASSERT_TRUE(has_line(r.output, line));
    if (r.timed_out || !r.exited || r.status != status || !has_line(r.output, line))
        fprintf(stderr, "\n--- child %s output ---\n%s\n---\n", child, r.output);
}

static const char *const procs_env[][2] = {
    {"GOMAXPROCS=1", NULL}, {"GOMAXPROCS=2", NULL}, {"GOMAXPROCS=8", NULL}};

static void test_pending_deadline_is_not_deadlock(void) {
    for (size_t i = 0; i < sizeof procs_env / sizeof *procs_env; i++) {
        expect_child("wait_for_deadline", procs_env[i], 0, "woke: deadline");
        expect_child("wait_for_ancestor_deadline", procs_env[i], 0, "woke: case 1 deadline");
        expect_child("wait_for_deadline_in_goroutine", procs_env[i], 0, "woke: deadline");
        expect_child("wait_deep_in_tree", procs_env[i], 0, "woke: deadline");
    }
}

static void test_unwatched_deadline_deadlock(void) {
    for (size_t i = 0; i < sizeof procs_env / sizeof *procs_env; i++) {
        expect_child("deadline_unwatched", procs_env[i], 2,
                     "fatal error: all goroutines are asleep - deadlock!");
        expect_child("deadline_unwatched", procs_env[i], 2, "goroutine 1 [chan receive]:");
    }
}

int main(int argc, char **argv) {
    static const harness_case tree_cases[] = {
        {"background", test_background},
        {"propagation", test_tree_propagation},
        {"child_of_cancelled", test_child_of_cancelled},
        {"deep_chain", test_deep_chain},
        {"concurrent_stress", test_concurrent_stress},
        {NULL, NULL}};
    static const harness_case value_cases[] = {
        {"lookup_and_shadowing", test_values},
        {NULL, NULL}};
    static const harness_case deadline_cases[] = {
        {"fire_in_order", test_deadlines_fire_in_order},
        {"causes", test_deadline_causes},
        {"timer_churn", test_timer_churn},
        {"select_on_done", test_select_on_done},
        {"pending_deadline_is_not_deadlock", test_pending_deadline_is_not_deadlock},
        {"unwatched_deadline_deadlock", test_unwatched_deadline_deadlock},
        {NULL, NULL}};
    static const harness_suite suites[] = {
        {"tree", tree_cases},
        {"value", value_cases},
        {"deadline", deadline_cases},
        {NULL, NULL}};
    static const harness_child_fn children[] = {
        {"wait_for_deadline", child_wait_for_deadline},
        {"wait_for_ancestor_deadline", child_wait_for_ancestor_deadline},
        {"wait_for_deadline_in_goroutine", child_wait_for_deadline_in_goroutine},
        {"wait_deep_in_tree", child_wait_deep_in_tree},
        {"deadline_unwatched", child_deadline_unwatched},
        {NULL, NULL}};
    return harness_main(argc, argv, suites, children);
}
