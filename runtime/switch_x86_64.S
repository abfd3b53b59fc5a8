/* switch_x86_64.S - goroutine context switch for x86-64 (System V ABI).
 *
 * rt_switch(void **save_sp, void *new_sp) saves the callee-saved registers,
 * MXCSR and the x87 control word on the current stack, stores the stack
 * pointer in *save_sp, loads new_sp and restores the same frame from it.
 * Everything else is caller-saved, so the C compiler has already spilled it.
 * Frame at a saved sp (traceback.c reads it):
 *   +0 MXCSR (4 bytes) and x87 control word (2 bytes)
 *   +8 r15  +16 r14  +24 r13  +32 r12  +40 rbx  +48 rbp  +56 return address
 * A new goroutine's frame "returns" into go_goroutine_start with its G in
 * r12; the trampoline marks the return address undefined so unwinders stop
 * there cleanly. One file per architecture keeps a port to one file. */

    .text
    .globl rt_switch
    .hidden rt_switch
    .type rt_switch, @function
    .p2align 4
rt_switch:
    .cfi_startproc
    pushq %rbp
    .cfi_adjust_cfa_offset 8
    pushq %rbx
    .cfi_adjust_cfa_offset 8
    pushq %r12
    .cfi_adjust_cfa_offset 8
    pushq %r13
    .cfi_adjust_cfa_offset 8
    pushq %r14
    .cfi_adjust_cfa_offset 8
    pushq %r15
    .cfi_adjust_cfa_offset 8
    subq $8, %rsp
    .cfi_adjust_cfa_offset 8
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .cfi_endproc
    .size rt_switch, .-rt_switch

    .globl go_goroutine_start
    .type go_goroutine_start, @function
    .p2align 4
go_goroutine_start:
    .cfi_startproc
    .cfi_undefined rip
    xorl %ebp, %ebp
    movq %r12, %rdi
    call rt_goroutine_main
    ud2
    .cfi_endproc
    .size go_goroutine_start, .-go_goroutine_start

    .section .note.GNU-stack, "", @progbits
