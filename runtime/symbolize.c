/* symbolize.c - addresses to source locations with elfutils' libdwfl.
 *
 * The process's own mappings (/proc/self/maps) are reported to one Dwfl
 * session on first use; libdwfl then loads each module's symbol table and
 * DWARF lazily, the first time an address in it is asked about. Nothing
 * here runs unless a report is printed: a program that never panics, dumps
 * or races never pays for debug information.
 *
 * One lock serialises every lookup (libdw's caches are not thread-safe).
 * Modules are only ever added (a dlopen after the first report is picked up
 * by re-reading the mappings when an address falls outside every known
 * module) and never removed, which is what lets the returned strings live
 * as long as the process.
 *
 * Inlined code: the DWARF scope chain of the address lists the inlined
 * subroutine instances around it, innermost first. The innermost function
 * is at the line table's location; each enclosing function is at the call
 * site (DW_AT_call_file/line/column) recorded on the instance inlined into
 * it. So one pc becomes a chain of frames ending in the real function. */
#include "symbolize.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <link.h>
#include <elfutils/libdwfl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt.h"

static rt_lock sym_lock;
static Dwfl *dwfl;
static Dwfl_Module *self_module; /* the module holding this code */
/* Set while this thread is inside the symbolizer: a fault or panic raised
 * from libdw must not wait on sym_lock, which this thread holds. */
static _Thread_local bool sym_busy;

static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
};

/* (Re-)read the process's mappings; sym_lock held. */
static void report_modules(void) {
    if (!dwfl) {
        dwfl = dwfl_begin(&callbacks);
        if (!dwfl) return;
    } else {
        dwfl_report_begin_add(dwfl);
    }
    dwfl_linux_proc_report(dwfl, getpid());
    dwfl_report_end(dwfl, NULL, NULL);
    self_module = dwfl_addrmodule(dwfl, (Dwarf_Addr)(uintptr_t)&rt_symbolize);
}

static const char *base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static const char *die_name(Dwarf_Die *die) {
    Dwarf_Attribute attr;
    /* _integrate follows DW_AT_abstract_origin: an inlined instance or an
     * out-of-line copy carries its name only on the abstract DIE. */
    return dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));
}

static int udata_attr(Dwarf_Die *die, unsigned name) {
    Dwarf_Attribute attr;
    Dwarf_Word v;
    if (dwarf_formudata(dwarf_attr(die, name, &attr), &v) != 0) return -1;
    return (int)v;
}

static bool is_function_scope(Dwarf_Die *die) {
    int tag = dwarf_tag(die);
    return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
           tag == DW_TAG_entry_point;
}

/* The compile unit whose code covers addr. libdwfl finds it through
 * .debug_aranges, which clang does not emit by default; in a binary that
 * mixes gcc and clang objects it may then answer with a neighbouring CU
 * that does not contain addr at all. So its answer is checked, and the
 * CUs' own address ranges are scanned when it is wrong or missing. */
static Dwarf_Die *cu_of(Dwfl_Module *mod, Dwarf_Addr addr, Dwarf_Addr *bias) {
    Dwarf_Die *cu = dwfl_module_addrdie(mod, addr, bias);
    if (cu && dwarf_haspc(cu, addr - *bias) > 0) return cu;
    cu = NULL;
    while ((cu = dwfl_module_nextcu(mod, cu, bias)) != NULL)
        if (dwarf_haspc(cu, addr - *bias) > 0) return cu;
    return NULL;
}

/* The inlined chain at dwarf_addr (an address in the CU's terms) from the
 * CU's scopes; out[0] already holds the line-table location and the module
 * fields, which every entry shares. Returns the number of frames filled,
 * 0 when no function scope covers the address. */
static int inline_chain(Dwarf_Die *cu, Dwarf_Addr dwarf_addr, struct rt_frame *out, int max) {
    Dwarf_Die *scopes = NULL;
    int ns = dwarf_getscopes(cu, dwarf_addr, &scopes);
    if (ns <= 0) {
        free(scopes);
        return 0;
    }
    /* dwarf_getscopes continues from an inlined instance into its abstract
     * definition's scopes; the concrete chain comes from the DIE's real
     * parents, which dwarf_getscopes_die walks. */
    Dwarf_Die innermost = scopes[0];
    free(scopes);
    scopes = NULL;
    ns = dwarf_getscopes_die(&innermost, &scopes);
    if (ns <= 0) {
        free(scopes);
        return 0;
    }
    Dwarf_Files *files = NULL;
    dwarf_getsrcfiles(cu, &files, NULL);

    struct rt_frame where = out[0];
    int n = 0;
    for (int i = 0; i < ns && n < max; i++) {
        Dwarf_Die *die = &scopes[i];
        if (!is_function_scope(die)) continue;
        out[n] = where;
        out[n].func = die_name(die);
        n++;
        if (dwarf_tag(die) != DW_TAG_inlined_subroutine) break;
        /* The enclosing function is at this instance's call site. */
        int file = udata_attr(die, DW_AT_call_file);
        where.file = files && file >= 0 ? dwarf_filesrc(files, (size_t)file, NULL, NULL) : NULL;
        where.line = udata_attr(die, DW_AT_call_line);
        where.col = udata_attr(die, DW_AT_call_column);
        if (where.line < 0) where.line = 0;
        if (where.col < 0) where.col = 0;
    }
    free(scopes);
    return n;
}

static int lookup(uintptr_t pc, struct rt_frame *out, int max) {
    Dwarf_Addr addr = pc - 1;
    out[0] = (struct rt_frame){.addr = (uintptr_t)addr};
    if (!dwfl) report_modules();
    if (!dwfl) return 1;
    Dwfl_Module *mod = dwfl_addrmodule(dwfl, addr);
    if (!mod) {
        report_modules();
        mod = dwfl_addrmodule(dwfl, addr);
    }
    if (!mod) return 1;

    const char *mod_name = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    GElf_Addr elf_bias = 0;
    dwfl_module_getelf(mod, &elf_bias);
    out[0].module = mod_name ? base_name(mod_name) : NULL;
    out[0].module_off = (uintptr_t)(addr - elf_bias);
    out[0].runtime_module = mod == self_module && out[0].module &&
                            strncmp(out[0].module, "libgoroutine", 12) == 0;

    GElf_Off sym_off;
    GElf_Sym sym;
    const char *sym_name = dwfl_module_addrinfo(mod, addr, &sym_off, &sym, NULL, NULL, NULL);

    Dwarf_Addr dwarf_bias = 0;
    Dwarf_Die *cu = cu_of(mod, addr, &dwarf_bias);
    Dwarf_Line *line = cu ? dwarf_getsrc_die(cu, addr - dwarf_bias) : NULL;
    if (line) {
        out[0].file = dwarf_linesrc(line, NULL, NULL);
        if (out[0].file) {
            dwarf_lineno(line, &out[0].line);
            dwarf_linecol(line, &out[0].col);
        }
    }

    int n = cu ? inline_chain(cu, addr - dwarf_bias, out, max) : 0;
    if (n == 0) {
        out[0].func = sym_name;
        return 1;
    }
    /* DWARF without a name for the real function (rare: artificial code)
     * still has the ELF symbol. */
    if (!out[n - 1].func) out[n - 1].func = sym_name;
    return n;
}

int rt_symbolize(uintptr_t pc, struct rt_frame *out, int max) {
    if (max <= 0) return 0;
    if (sym_busy) {
        out[0] = (struct rt_frame){.addr = pc - 1};
        return 1;
    }
    sym_busy = true;
    rt_lock_acquire(&sym_lock);
    int n = lookup(pc, out, max);
    rt_lock_release(&sym_lock);
    sym_busy = false;
    return n;
}

struct segment_query {
    uintptr_t addr;
    uintptr_t segment_start;
};

static int find_segment(struct dl_phdr_info *info, size_t size, void *arg) {
    struct segment_query *q = arg;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t start = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && q->addr - start < ph->p_memsz) {
            q->segment_start = start;
            return 1;
        }
    }
    return 0;
}

/* The module whose data segment holds addr. The zero-filled tail of a
 * segment (the .bss beyond the file's last page) is an anonymous mapping
 * that /proc/self/maps does not attribute to any file, so large
 * uninitialised globals are found through the segment's start, which is
 * mapped from the file. */
static Dwfl_Module *data_module(uintptr_t addr) {
    Dwfl_Module *mod = dwfl_addrmodule(dwfl, addr);
    if (mod) return mod;
    struct segment_query q = {addr, 0};
    if (!dl_iterate_phdr(find_segment, &q)) return NULL;
    return dwfl_addrmodule(dwfl, q.segment_start);
}

bool rt_symbolize_data(uintptr_t addr, struct rt_data_symbol *out) {
    if (sym_busy) return false;
    sym_busy = true;
    rt_lock_acquire(&sym_lock);
    bool found = false;
    if (!dwfl) report_modules();
    Dwfl_Module *mod = dwfl ? data_module(addr) : NULL;
    if (mod) {
        GElf_Off off;
        GElf_Sym sym;
        const char *name = dwfl_module_addrinfo(mod, addr, &off, &sym, NULL, NULL, NULL);
        if (name && GELF_ST_TYPE(sym.st_info) == STT_OBJECT && off < sym.st_size) {
            const char *mod_name = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
            GElf_Addr bias = 0;
            dwfl_module_getelf(mod, &bias);
            *out = (struct rt_data_symbol){
                .name = name, .start = addr - off, .size = sym.st_size,
                .module = mod_name ? base_name(mod_name) : NULL,
                .module_off = addr - bias,
            };
            found = true;
        }
    }
    rt_lock_release(&sym_lock);
    sym_busy = false;
    return found;
}
