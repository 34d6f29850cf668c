/*
 * gaitbnn: a QEMU TCG plugin that counts the guest instructions executed, and records the count at
 * each marker system call of the gaitbnn aarch64 runner (runner.cc), so that a run splits into
 * instructions per inference and per op.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 * This file is licensed GPL-2.0-or-later, because it is built against QEMU's qemu-plugin.h, which is
 * GPL-2.0-or-later (QEMU 7.2, the version of Debian 12's qemu-user). It is a separate program from the
 * rest of gaitbnn (Apache-2.0), loaded only by qemu: `qemu-aarch64 -plugin count_instructions.so,out=FILE`.
 *
 * Counting: every translation block adds its instruction count to one counter, inline, when it starts
 * executing. A system call ends a translation block, so at a marker the counter holds exactly the
 * instructions executed up to and including the `svc`. With more than one guest thread the shared
 * counter is only approximate; the runner counts with one thread.
 *
 * Output (out=FILE): one line per marker, `mark KIND A B COUNT`, then `total COUNT` at exit.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

/* The runner's marker: a system call number no Linux aarch64 kernel defines (it returns -ENOSYS). */
#define GAITBNN_MARKER_SYSCALL 4077

static uint64_t executed;
static FILE *out;

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &executed,
                                             qemu_plugin_tb_n_insns(tb));
}

static void on_syscall(qemu_plugin_id_t id, unsigned int vcpu_index, int64_t num, uint64_t a1,
                       uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7,
                       uint64_t a8)
{
    if (num == GAITBNN_MARKER_SYSCALL) {
        fprintf(out, "mark %" PRIu64 " %" PRId64 " %" PRId64 " %" PRIu64 "\n", a1, (int64_t)a2,
                (int64_t)a3, executed);
    }
}

static void on_guest_exit(qemu_plugin_id_t id, void *userdata)
{
    fprintf(out, "total %" PRIu64 "\n", executed);
    if (out != stderr) {
        fclose(out);
    }
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv)
{
    out = stderr;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "out=", 4) == 0) {
            out = fopen(argv[i] + 4, "w");
            if (!out) {
                fprintf(stderr, "count_instructions: cannot write %s\n", argv[i] + 4);
                return -1;
            }
        } else {
            fprintf(stderr, "count_instructions: unknown argument '%s' (it takes out=FILE)\n", argv[i]);
            return -1;
        }
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_vcpu_syscall_cb(id, on_syscall);
    qemu_plugin_register_atexit_cb(id, on_guest_exit, NULL);
    return 0;
}
