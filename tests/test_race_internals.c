/* test_race_internals.c - the detector's building blocks: vector clocks
 * (sharing, chunks, overrides, covers), shadow-word encoding, the event
 * history and stack restoration, slot reuse, and the GORACE option
 * parser. */
#include "harness.h"
#include "detector.h"

#include <string.h>

/* ---- clocks ---- */

static void test_clock_raise_get(void) {
    struct vclock v = {0};
    CU_ASSERT_EQUAL(race_vc_get(&v, 5), 0);
    for (uint32_t s = 1; s <= 10; s++) race_vc_raise(&v, s, s * 10);  /* past the overrides */
    for (uint32_t s = 1; s <= 10; s++) CU_ASSERT_EQUAL(race_vc_get(&v, s), s * 10);
    race_vc_raise(&v, 3, 5);  /* never lowers */
    CU_ASSERT_EQUAL(race_vc_get(&v, 3), 30);
    race_vc_raise(&v, 3, 99);
    CU_ASSERT_EQUAL(race_vc_get(&v, 3), 99);
    race_vc_clear(&v);
}

static void test_clock_copy_is_shared_and_cow(void) {
    struct vclock a = {0}, b = {0};
    for (uint32_t s = 1; s <= 20; s++) race_vc_raise(&a, s, 100 + s);
    race_vc_copy(&b, &a);
    CU_ASSERT_PTR_EQUAL(a.spine, b.spine);
    for (uint32_t s = 1; s <= 20; s++) race_vc_raise(&b, s, 1000 + s); /* must not change a */
    for (uint32_t s = 1; s <= 20; s++) {
        CU_ASSERT_EQUAL(race_vc_get(&a, s), 100 + s);
        CU_ASSERT_EQUAL(race_vc_get(&b, s), 1000 + s);
    }
    race_vc_clear(&a);
    race_vc_clear(&b);
}

static void test_clock_join(void) {
    struct vclock a = {0}, b = {0};
    for (uint32_t s = 1; s <= 12; s++) race_vc_raise(&a, s, s % 2 ? 50 : 5);
    for (uint32_t s = 1; s <= 16; s++) race_vc_raise(&b, s, s % 2 ? 7 : 70);
    race_vc_join(&a, &b);
    for (uint32_t s = 1; s <= 16; s++) {
        uint64_t wa = s <= 12 ? (s % 2 ? 50 : 5) : 0, wb = s % 2 ? 7 : 70;
        CU_ASSERT_EQUAL(race_vc_get(&a, s), wa > wb ? wa : wb);
    }
    race_vc_clear(&a);
    race_vc_clear(&b);
}

/* The SpawnJoin shape: children share the parent's spine; a WaitGroup
 * clock collecting them must end up with every child's epoch. */
static void test_clock_join_shared_children(void) {
    struct vclock parent = {0}, wg = {0};
    for (uint32_t s = 1; s <= 30; s++) race_vc_raise(&parent, s, s);
    enum { CHILDREN = 500 };
    for (uint32_t c = 0; c < CHILDREN; c++) {
        struct vclock child = {0};
        race_vc_copy(&child, &parent);
        race_vc_raise(&child, 1, 1000 + c);          /* parent's epoch at spawn */
        race_vc_raise(&child, 100 + c, 7 + c);       /* the child's own epoch */
        race_vc_join(&wg, &child);
        race_vc_clear(&child);
    }
    for (uint32_t c = 0; c < CHILDREN; c++) CU_ASSERT_EQUAL(race_vc_get(&wg, 100 + c), 7 + c);
    CU_ASSERT_EQUAL(race_vc_get(&wg, 1), 1000 + CHILDREN - 1);
    for (uint32_t s = 2; s <= 30; s++) CU_ASSERT_EQUAL(race_vc_get(&wg, s), s);
    race_vc_clear(&parent);
    race_vc_clear(&wg);
}

/* "covers" must not survive an in-place change of the covered spine. */
static void test_clock_covers_not_stale(void) {
    struct vclock a = {0}, w = {0};
    for (uint32_t s = 1; s <= 10; s++) race_vc_raise(&a, s, 1);
    race_vc_join(&w, &a);
    for (uint32_t s = 11; s <= 20; s++) race_vc_raise(&w, s, 1); /* w private, covers a */
    for (uint32_t s = 1; s <= 10; s++) race_vc_raise(&a, s, 9);  /* a changes its spine */
    race_vc_join(&w, &a);
    for (uint32_t s = 1; s <= 10; s++) CU_ASSERT_EQUAL(race_vc_get(&w, s), 9);
    race_vc_clear(&a);
    race_vc_clear(&w);
}

/* A spawn or a release into an object just acquired: the copy shares the
 * source's spine, even when the source's overrides were full. */
static void test_clock_publish(void) {
    struct vclock src = {0}, dst = {0};
    for (uint32_t s = 1; s <= 20; s++) race_vc_raise(&src, s, s);
    for (uint32_t s = 30; s < 30 + VC_OVERRIDES; s++) race_vc_raise(&src, s, s);
    CU_ASSERT_EQUAL(src.n_over, VC_OVERRIDES);
    race_vc_raise(&dst, 99, 1);
    race_vc_publish(&dst, &src, 50, 500);
    CU_ASSERT_PTR_EQUAL(dst.spine, src.spine);
    CU_ASSERT_EQUAL(race_vc_get(&dst, 50), 500);
    CU_ASSERT_EQUAL(race_vc_get(&src, 50), 0);
    CU_ASSERT_EQUAL(race_vc_get(&dst, 99), 0);   /* a copy, not a join */
    for (uint32_t s = 1; s <= 20; s++) CU_ASSERT_EQUAL(race_vc_get(&dst, s), s);
    for (uint32_t s = 30; s < 30 + VC_OVERRIDES; s++) CU_ASSERT_EQUAL(race_vc_get(&dst, s), s);
    race_vc_clear(&src);
    race_vc_clear(&dst);
}

/* A clock of many chunks. */
static void fill(struct vclock *v, uint32_t slots, uint64_t base) {
    for (uint32_t s = 0; s < slots; s++) race_vc_raise(v, s, base + s);
    race_vc_compact(v);
}

/* Making a shared clock private copies only the chunks that change. */
static void test_clock_write_copies_one_chunk(void) {
    enum { SLOTS = 20 * VC_CHUNK, CHANGED = 7 };
    struct vclock a = {0}, b = {0};
    fill(&a, SLOTS, 100);
    race_vc_copy(&b, &a);
    for (uint32_t k = 0; k <= VC_OVERRIDES; k++) race_vc_raise(&b, CHANGED * VC_CHUNK + k, 5000);
    CU_ASSERT_EQUAL(b.n_over, 0);
    CU_ASSERT_PTR_NOT_EQUAL(b.spine, a.spine);
    for (uint32_t i = 0; i < SLOTS / VC_CHUNK; i++)
        CU_ASSERT_EQUAL(b.spine->chunk[i] == a.spine->chunk[i], i != CHANGED);
    for (uint32_t s = 0; s < SLOTS; s++) {
        bool changed = s >= CHANGED * VC_CHUNK && s <= CHANGED * VC_CHUNK + VC_OVERRIDES;
        CU_ASSERT_EQUAL(race_vc_get(&a, s), 100 + s);
        CU_ASSERT_EQUAL(race_vc_get(&b, s), changed ? 5000 : 100 + s);
    }
    race_vc_clear(&a);
    race_vc_clear(&b);
}

/* A join takes over the source's chunks that cover its own, so the two
 * clocks share them afterwards, and merges a chunk where each is ahead. */
static void test_clock_join_takes_covering_chunks(void) {
    enum { SLOTS = 8 * VC_CHUNK };
    struct vclock base = {0}, a = {0}, b = {0};
    fill(&base, SLOTS, 10);
    race_vc_copy(&a, &base);
    race_vc_copy(&b, &base);
    for (uint32_t k = 0; k <= VC_OVERRIDES; k++) race_vc_raise(&b, 2 * VC_CHUNK + k, 900);
    for (uint32_t k = 0; k <= VC_OVERRIDES; k++) race_vc_raise(&a, 5 * VC_CHUNK + k, 700);
    race_vc_raise(&b, 5 * VC_CHUNK + VC_CHUNK - 1, 800);
    race_vc_compact(&b);
    race_vc_join(&a, &b);
    CU_ASSERT_PTR_EQUAL(a.spine->chunk[2], b.spine->chunk[2]);
    CU_ASSERT_PTR_EQUAL(a.spine->chunk[0], base.spine->chunk[0]);
    CU_ASSERT_PTR_NOT_EQUAL(a.spine->chunk[5], b.spine->chunk[5]);
    for (uint32_t s = 0; s < SLOTS; s++) {
        uint64_t want = 10 + s;
        if (s >= 2 * VC_CHUNK && s <= 2 * VC_CHUNK + VC_OVERRIDES) want = 900;
        if (s >= 5 * VC_CHUNK && s <= 5 * VC_CHUNK + VC_OVERRIDES) want = 700;
        if (s == 5 * VC_CHUNK + VC_CHUNK - 1) want = 800;
        CU_ASSERT_EQUAL(race_vc_get(&a, s), want);
    }
    race_vc_clear(&base);
    race_vc_clear(&a);
    race_vc_clear(&b);
}

/* A short last chunk shared with a shorter clock: the longer one grows
 * past it without the shorter one seeing its new entries. */
static void test_clock_growth_past_shared_short_chunk(void) {
    struct vclock a = {0}, b = {0};
    fill(&a, 6, 1);
    race_vc_copy(&b, &a);
    for (uint32_t s = 6; s < 3 * VC_CHUNK; s += 5) race_vc_raise(&b, s, 40 + s);
    race_vc_compact(&b);
    race_vc_raise(&a, 3, 77);
    race_vc_compact(&a);
    for (uint32_t s = 0; s < 4 * VC_CHUNK; s++) {
        uint64_t in_b = s < 6 ? 1 + s : (s - 6) % 5 == 0 && s < 3 * VC_CHUNK ? 40 + s : 0;
        CU_ASSERT_EQUAL(race_vc_get(&a, s), s == 3 ? 77 : s < 6 ? 1 + s : 0);
        CU_ASSERT_EQUAL(race_vc_get(&b, s), in_b);
    }
    race_vc_clear(&a);
    race_vc_clear(&b);
}

/* The many_goroutines_parked shape: a parent hands each child a version of
 * its clock, learning the child's slot as it goes, and a WaitGroup clock
 * joins every child's, raised to the child's own later epoch. Joins skip
 * the chunks they have already merged: what they skip must be known. */
static void test_clock_join_successive_versions(void) {
    enum { CHILDREN = 6 * VC_CHUNK };
    struct vclock parent = {0}, wg = {0};
    race_vc_raise(&parent, 0, 1);
    for (uint32_t c = 1; c <= CHILDREN; c++) {
        struct vclock child = {0};
        race_vc_raise(&parent, c, 10 + c);
        race_vc_publish(&child, &parent, 0, 1 + c);
        race_vc_raise(&child, c, 20 + c);
        race_vc_join(&wg, &child);
        race_vc_clear(&child);
    }
    CU_ASSERT_EQUAL(race_vc_get(&wg, 0), 1 + CHILDREN);
    for (uint32_t c = 1; c <= CHILDREN; c++) {
        CU_ASSERT_EQUAL(race_vc_get(&wg, c), 20 + c);
        CU_ASSERT_EQUAL(race_vc_get(&parent, c), 10 + c);
    }
    race_vc_clear(&parent);
    race_vc_clear(&wg);
}

/* Random operations on a few clocks against plain arrays: sharing must
 * never let a change to one clock show in another. */
static uint64_t next_random(uint64_t *x) {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static void test_clock_matches_model(void) {
    enum { CLOCKS = 6, SLOTS = 16 * VC_CHUNK, OPS = 4000 };
    static uint64_t model[CLOCKS][SLOTS];
    struct vclock v[CLOCKS] = {0};
    memset(model, 0, sizeof model);
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int op = 0; op < OPS; op++) {
        uint32_t a = next_random(&x) % CLOCKS, b = next_random(&x) % CLOCKS;
        /* Short clocks too, whose last chunks are short. */
        static const uint32_t ranges[] = {12, 2 * VC_CHUNK, SLOTS};
        uint32_t slot = next_random(&x) % ranges[next_random(&x) % 3];
        uint64_t val = 1 + next_random(&x) % 1000;
        switch (next_random(&x) % 18) {
        case 0:
            race_vc_copy(&v[a], &v[b]);
            memcpy(model[a], model[b], sizeof model[a]);
            break;
        case 1:
        case 2:
            race_vc_join(&v[a], &v[b]);
            for (uint32_t s = 0; s < SLOTS; s++)
                if (model[b][s] > model[a][s]) model[a][s] = model[b][s];
            break;
        case 3:
            if (a == b) break;
            race_vc_publish(&v[a], &v[b], slot, val);
            memcpy(model[a], model[b], sizeof model[a]);
            if (val > model[a][slot]) model[a][slot] = val;
            break;
        case 4:
            race_vc_compact(&v[a]);
            break;
        case 5:
            race_vc_clear(&v[a]);
            memset(model[a], 0, sizeof model[a]);
            break;
        case 6:
        case 7: {
            /* A hand-off: each epoch at least what anybody knows of it. */
            uint32_t b_slot = (slot + 1 + next_random(&x) % 11) % SLOTS;
            if (a == b) break;
            uint64_t a_epoch = 1 + next_random(&x) % 5 +
                               (model[a][slot] > model[b][slot] ? model[a][slot] : model[b][slot]);
            uint64_t b_epoch = next_random(&x) % 5 +
                               (model[a][b_slot] > model[b][b_slot] ? model[a][b_slot] : model[b][b_slot]);
            race_vc_exchange(&v[a], slot, a_epoch, &v[b], b_slot, b_epoch);
            /* a's own entry may keep lagging behind what b knew of it. */
            uint64_t own_before = model[a][slot];
            for (uint32_t s = 0; s < SLOTS; s++)
                if (model[b][s] > model[a][s]) model[a][s] = model[b][s];
            if (b_epoch > model[a][b_slot]) model[a][b_slot] = b_epoch;
            uint64_t own = race_vc_get(&v[a], slot);
            CU_ASSERT(own >= own_before && own <= model[a][slot]);
            model[a][slot] = own;
            memcpy(model[b], model[a], sizeof model[b]);
            model[b][slot] = a_epoch;
            break;
        }
        default:
            race_vc_raise(&v[a], slot, val);
            if (val > model[a][slot]) model[a][slot] = val;
        }
        for (uint32_t c = 0; c < CLOCKS; c++)
            for (uint32_t s = 0; s < SLOTS; s++)
                if (race_vc_get(&v[c], s) != model[c][s]) {
                    CU_FAIL("clock differs from the model");
                    c = CLOCKS;
                    op = OPS;
                    break;
                }
    }
    for (uint32_t c = 0; c < CLOCKS; c++) race_vc_clear(&v[c]);
}

/* ---- shadow words ---- */

static void test_shadow_encoding(void) {
    uint64_t s = sh_make(0x0F, false, 123456, 987654321ull);
    CU_ASSERT_EQUAL(sh_mask(s), 0x0F);
    CU_ASSERT_FALSE(sh_atomic(s));
    CU_ASSERT_EQUAL(sh_slot(s), 123456);
    CU_ASSERT_EQUAL(sh_epoch(s), 987654321ull);
    uint64_t t = sh_make(0x80, true, (1u << SH_SLOT_BITS) - 2, SH_EPOCH_MASK);
    CU_ASSERT_EQUAL(sh_mask(t), 0x80);
    CU_ASSERT_TRUE(sh_atomic(t));
    CU_ASSERT_EQUAL(sh_slot(t), (1u << SH_SLOT_BITS) - 2);
    CU_ASSERT_EQUAL(sh_epoch(t), SH_EPOCH_MASK);
}

/* ---- history ---- */

static void test_history_restore(void) {
    struct race_g *rg = race_cur;   /* main's detector state */
    CU_ASSERT_PTR_NOT_NULL_FATAL(rg);
    int depth0 = rg->depth;
    /* A call, an access inside it, a return, then many accesses so the
     * history spans several parts. */
    rg->epoch++;
    race_history_add(rg, 0x1111, EV_ENTRY);
    uint64_t inside = 0;
    rg->epoch++;
    race_history_add(rg, 0x2222, EV_ACCESS);
    inside = rg->epoch;
    rg->epoch++;
    race_history_add(rg, 0, EV_EXIT);
    uintptr_t pcs[8];
    int n = race_history_restore(rg->slot, inside, 0, pcs, 8);
    CU_ASSERT_TRUE_FATAL(n >= 2);
    CU_ASSERT_EQUAL(pcs[0], 0x2222);
    CU_ASSERT_EQUAL(pcs[1], 0x1111);
    /* A later access recorded at that epoch (a channel's send record)
     * keeps the frames and takes the leaf; at the return, the frame the
     * call pushed is gone. */
    CU_ASSERT_EQUAL(race_history_restore(rg->slot, inside, 0x6666, pcs, 8), n);
    CU_ASSERT_EQUAL(pcs[0], 0x6666);
    CU_ASSERT_EQUAL(pcs[1], 0x1111);
    CU_ASSERT_EQUAL(race_history_restore(rg->slot, inside + 1, 0x7777, pcs, 8), n - 1);
    CU_ASSERT_EQUAL(pcs[0], 0x7777);
    for (int i = 0; i < 10000; i++) {
        rg->epoch++;
        race_history_add(rg, 0x3000 + (uintptr_t)i, EV_ACCESS);
    }
    uint64_t recent = rg->epoch;
    n = race_history_restore(rg->slot, recent, 0, pcs, 8);
    CU_ASSERT_TRUE(n >= 1 && pcs[0] == 0x3000 + 9999);
    CU_ASSERT_EQUAL(rg->depth, depth0);
}

static void test_history_too_old(void) {
    struct race_g *rg = race_cur;
    uint64_t old = rg->epoch + 1;
    rg->epoch++;
    race_history_add(rg, 0x4444, EV_ACCESS);
    for (int i = 0; i < 200000; i++) {   /* far past the per-slot budget */
        rg->epoch++;
        race_history_add(rg, 0x5555, EV_ACCESS);
    }
    uintptr_t pcs[8];
    CU_ASSERT_EQUAL(race_history_restore(rg->slot, old, 0, pcs, 8), 0);
}

/* ---- options ---- */

static void test_options_good(void) {
    struct race_options o = {.exitcode = 66, .history_size = 1};
    char err[512] = "";
    CU_ASSERT_TRUE(race_parse_options(
        "log_path=/tmp/x exitcode=3 strip_path_prefix=/src/ history_size=4 halt_on_error=1 "
        "atexit_sleep_ms=0 report_format=json", &o, err, sizeof err));
    CU_ASSERT_STRING_EQUAL(o.log_path, "/tmp/x");
    CU_ASSERT_EQUAL(o.exitcode, 3);
    CU_ASSERT_STRING_EQUAL(o.strip_path_prefix, "/src/");
    CU_ASSERT_EQUAL(o.history_size, 4);
    CU_ASSERT_TRUE(o.halt_on_error);
    CU_ASSERT_TRUE(o.json);
    CU_ASSERT_TRUE(race_parse_options("", &o, err, sizeof err));
    CU_ASSERT_TRUE(race_parse_options("   ", &o, err, sizeof err));
    CU_ASSERT_TRUE(race_parse_options(NULL, &o, err, sizeof err));
}

static void test_options_bad(void) {
    struct race_options o = {.exitcode = 66};
    char err[512];
    const char *bad[] = {"exitcode=abc", "exitcode=300", "history_size=9", "halt_on_error=2",
                         "report_format=xml", "nosuchkey=1", "exitcode", "=5",
                         "atexit_sleep_ms=-1", NULL};
    for (int i = 0; bad[i]; i++) {
        err[0] = 0;
        CU_ASSERT_FALSE(race_parse_options(bad[i], &o, err, sizeof err));
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "valid keys"));
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "history_size"));
    }
    CU_ASSERT_EQUAL(o.exitcode, 66);
}

/* ---- slots ---- */

/* A stand-in goroutine: a slot, its history, events. */
static void fake_start(struct race_g *g, struct race_g *parent) {
    g->slot = race_slot_alloc(parent, &g->epoch);
    race_history_start_goroutine(g);
}

static uint64_t fake_event(struct race_g *g, uintptr_t pc, unsigned kind) {
    g->epoch++;
    race_history_add(g, pc, kind);
    return g->epoch;
}

static void test_slot_reuse_only_when_known(void) {
    uintptr_t frames[4];
    struct race_g parent = {0};
    struct race_g a = {.stack = frames, .stack_cap = 4, .goid = 101}, b = a, c = a, d = a;
    b.goid = 102;
    c.goid = 103;
    d.goid = 104;
    fake_start(&a, &parent);
    uint32_t slot = a.slot;
    uint64_t access = fake_event(&a, 0x10, EV_ACCESS);
    fake_event(&a, 0x20, EV_ENTRY);
    fake_event(&a, 0, EV_EXIT);
    uint64_t a_final = a.epoch;
    race_slot_free(&a);
    /* The parent has not seen a's access: a fresh slot. */
    fake_start(&b, &parent);
    CU_ASSERT_NOT_EQUAL(b.slot, slot);
    /* Now it has (the call and return after it do not count): the slot is
     * reused, its epochs continuing above the old ones. */
    race_vc_raise(&parent.vc, slot, access);
    fake_start(&c, &parent);
    CU_ASSERT_EQUAL_FATAL(c.slot, slot);
    CU_ASSERT_TRUE(c.epoch > a_final);
    /* c records no access: the slot is free for the parent again at once. */
    fake_event(&c, 0x30, EV_ENTRY);
    race_slot_free(&c);
    fake_start(&d, &parent);
    CU_ASSERT_EQUAL_FATAL(d.slot, slot);
    /* d's events continue a's history; each stack is its own. */
    fake_event(&d, 0x40, EV_ENTRY);
    uint64_t d_access = fake_event(&d, 0x50, EV_ACCESS);
    uintptr_t pcs[8];
    CU_ASSERT_EQUAL_FATAL(race_history_restore(slot, d_access, 0, pcs, 8), 2);
    CU_ASSERT_EQUAL(pcs[0], 0x50);
    CU_ASSERT_EQUAL(pcs[1], 0x40);
    CU_ASSERT_EQUAL_FATAL(race_history_restore(slot, access, 0, pcs, 8), 1);
    CU_ASSERT_EQUAL(pcs[0], 0x10);
    /* Three occupants on, a's access still names a. */
    struct race_occupant occ;
    CU_ASSERT_TRUE_FATAL(race_slot_occupant(slot, d_access, &occ));
    CU_ASSERT_EQUAL(occ.goid, 104);
    CU_ASSERT_TRUE_FATAL(race_slot_occupant(slot, access, &occ));
    CU_ASSERT_EQUAL(occ.goid, 101);
    CU_ASSERT_TRUE(occ.finished);
    /* d's access is the slot's latest now: unknown to the parent. */
    race_slot_free(&b);
    race_slot_free(&d);
    fake_start(&a, &parent);
    CU_ASSERT_NOT_EQUAL(a.slot, slot);
    race_slot_free(&a);
    race_vc_clear(&parent.vc);
}

/* A spawner that has not yet learnt of the goroutines that just ended
 * (each made an access) still reuses a slot freed longer ago. */
static void test_slot_reuse_behind_unknown(void) {
    enum { UNKNOWN = 20 };
    uintptr_t frames[4];
    struct race_g parent = {0}, known = {.stack = frames, .stack_cap = 4}, unknown[UNKNOWN];
    fake_start(&known, &parent);
    uint32_t newest = known.slot;
    for (int i = 0; i < UNKNOWN; i++) {
        unknown[i] = (struct race_g){.stack = frames, .stack_cap = 4};
        fake_start(&unknown[i], &parent);
        fake_event(&unknown[i], 0x10, EV_ACCESS);
        if (unknown[i].slot > newest) newest = unknown[i].slot;
    }
    race_slot_free(&known);
    for (int i = 0; i < UNKNOWN; i++) race_slot_free(&unknown[i]);
    struct race_g child = {.stack = frames, .stack_cap = 4};
    fake_start(&child, &parent);
    CU_ASSERT_TRUE(child.slot <= newest);   /* not a fresh slot */
    for (int i = 0; i < UNKNOWN; i++) CU_ASSERT_NOT_EQUAL(child.slot, unknown[i].slot);
    race_slot_free(&child);
}

static const harness_case clock_cases[] = {
    {"raise and get", test_clock_raise_get},
    {"copy shares, writes copy", test_clock_copy_is_shared_and_cow},
    {"join", test_clock_join},
    {"join of children sharing a spine", test_clock_join_shared_children},
    {"covers is never stale", test_clock_covers_not_stale},
    {"publish shares the spine", test_clock_publish},
    {"a write copies one chunk", test_clock_write_copies_one_chunk},
    {"join takes covering chunks", test_clock_join_takes_covering_chunks},
    {"growth past a shared short chunk", test_clock_growth_past_shared_short_chunk},
    {"join of successive versions", test_clock_join_successive_versions},
    {"random operations match a model", test_clock_matches_model},
    {NULL, NULL},
};
static const harness_case shadow_cases[] = {
    {"encoding", test_shadow_encoding},
    {NULL, NULL},
};
static const harness_case history_cases[] = {
    {"restore a stack", test_history_restore},
    {"too old to restore", test_history_too_old},
    {NULL, NULL},
};
static const harness_case option_cases[] = {
    {"valid options", test_options_good},
    {"malformed options", test_options_bad},
    {NULL, NULL},
};
static const harness_case slot_cases[] = {
    {"reuse only when the spawner knows every access", test_slot_reuse_only_when_known},
    {"unknown slots do not block reuse", test_slot_reuse_behind_unknown},
    {NULL, NULL},
};

int main(int argc, char **argv) {
    static const harness_suite suites[] = {
        {"clock", clock_cases}, {"shadow", shadow_cases}, {"history", history_cases},
        {"options", option_cases}, {"slot", slot_cases}, {NULL, NULL},
    };
    return harness_main(argc, argv, suites, NULL);
}
