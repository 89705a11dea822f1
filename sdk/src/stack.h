/* SPDX-License-Identifier: MIT */
/* Stack capture for error events and crash reports: raw instruction
 * addresses, innermost frame first, from libunwind's local unwinder. Nothing
 * is symbolicated here; the addresses go out with the module list (modules.h)
 * and the server symbolicates them.
 *
 * Address convention: frame 0 of a signal context is the interrupted (or
 * faulting) instruction itself; every later frame, and every frame of
 * plume_stack_capture(), is a return address, i.e. the instruction AFTER the
 * call. Addresses are kept raw (no -1 adjustment): a symbolicator that wants
 * the call instruction subtracts 1 from return addresses itself.
 *
 * Every walk stops at `max` frames, when libunwind cannot step further, at an
 * address of 0 (except the faulting pc of a signal context, which is reported
 * as it is) and when a (ip, sp) pair repeats (a corrupt stack that loops).
 *
 * Call plume_stack_warmup() once at init, outside any signal handler: it runs
 * libunwind's one-time setup (which takes a mutex) and fills its caches, and
 * prepares the memory probe the signal path uses. */
#ifndef PLUME_SDK_STACK_H
#define PLUME_SDK_STACK_H

#include <stddef.h>
#include <stdint.h>

/* Not signal-safe; any thread, idempotent. Sets libunwind's caching policy
 * for local unwinding, walks the calling thread's stack once, and prepares
 * the readability probe (a non-blocking pipe, unless process_vm_readv works on
 * this process). Returns 0, or -1 when libunwind cannot unwind here (captures
 * will then return 0 frames, or only the signal context's own pc). */
int plume_stack_warmup(void);

/* Any thread (not from a signal handler: use plume_stack_capture_context
 * there). Writes up to `max` return addresses of the calling thread's stack
 * into ips, innermost first, starting at the function that called
 * plume_stack_capture() and leaving out `skip` more frames of the caller's
 * own. Returns the number written (0 when libunwind fails). Never inlined, so
 * its own frame is a known one to drop. */
size_t plume_stack_capture(uintptr_t *ips, size_t max, size_t skip) __attribute__((noinline));

/* Async-signal-safe (after plume_stack_warmup()): the stack of the thread a
 * signal interrupted, from the handler's third argument (a ucontext_t *).
 * Frame 0 is the interrupted instruction. When that pc is not readable memory
 * (a jump or call through a bad pointer) or libunwind cannot step from it,
 * frame 0 is still the pc, and the walk goes on from the return address at
 * the top of the stack (x86-64: *(sp), read only after a probe shows it is
 * mapped) when that looks like code. Writes up to `max` addresses into ips;
 * returns the number written (0 only for max == 0 or a NULL argument). */
size_t plume_stack_capture_context(void *ucontext, uintptr_t *ips, size_t max);

/* For tests: the fallback of plume_stack_capture_context() on its own (frame
 * 0 is the pc, then the walk from the return address at *(sp)), as if
 * libunwind had failed on the first step. Async-signal-safe. */
size_t plume_stack_capture_context_fallback(void *ucontext, uintptr_t *ips, size_t max);

#endif
