// SPDX-License-Identifier: GPL-2.0
/*
 * tcgprof: a QEMU TCG plugin that counts the guest kernel's instructions,
 * for scripts/profile.sh.
 *
 * perf inside a TCG guest samples only where the guest re-enables
 * interrupts, so it cannot profile the kernel there; QEMU itself can count
 * what the guest executes.  For every translated block that starts in the
 * kernel (guest virtual address at or above 0xffffffff80000000: the kernel
 * image and the module area), this plugin adds the block's instruction
 * count to a counter each time the block runs.  The counters are keyed by
 * the block's start address: a block translated again (after a TB flush,
 * or with other flags) adds to the same counter.  The additions are inline
 * TCG ops, not atomic: two vCPUs may lose an update to each other now and
 * then, which a profile can live with.
 *
 * The counters run from the first instruction to QEMU's exit.  A profile of
 * a benchmark wants less: under TCG, the boot alone (unpacking the
 * initramfs, checking module signatures) executes billions of the kernel's
 * instructions.  With the argument mark=VADDR, a kernel address the guest
 * can make the kernel execute at will (scripts/profile.sh takes the entry
 * of vmstat_refresh(), which a read of /proc/sys/vm/stat_refresh calls),
 * the profile is a window: the first execution of the block at VADDR takes
 * a snapshot of every counter, the second one another, and the profile is
 * their difference; later executions change nothing.  Without mark=, or
 * when the guest never reached the mark, the profile is all that ran.
 *
 * When QEMU exits, the plugin writes one line per address that ran in the
 * window, "VADDR_HEX INSNS", to the file named by its argument out=PATH
 * (QEMU 7.2: -plugin file=tcgprof.so,out=PATH[,mark=VADDR]), and a line on
 * QEMU's log (-d plugin) saying what it counted.
 *
 * Build: cc -shared -fPIC -O2 -o build/tcgprof.so scripts/tcgprof.c
 *
 * QEMU packages without qemu-plugin.h (Debian's) still export the plugin
 * API from the emulator binary, so the few declarations used here are
 * written out below, as QEMU 7.2's header has them (plugin API version 1).
 * A QEMU whose API differs (9.0 and later dropped the inline op used here)
 * needs them brought in line with its header.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- The part of QEMU's include/qemu/qemu-plugin.h used here ---- */

#define QEMU_PLUGIN_EXPORT __attribute__((visibility("default")))
#define QEMU_PLUGIN_VERSION 1

typedef uint64_t qemu_plugin_id_t;

typedef struct qemu_info_t {
	const char *target_name;
	struct {
		int min;
		int cur;
	} version;
	bool system_emulation;
	union {
		struct {
			int smp_vcpus;
			int max_vcpus;
		} system;
	};
} qemu_info_t;

struct qemu_plugin_tb;		/* opaque: a block being translated */

enum qemu_plugin_op {
	QEMU_PLUGIN_INLINE_ADD_U64,
};

/* Whether a callback reads or writes the vCPU's registers. */
enum qemu_plugin_cb_flags {
	QEMU_PLUGIN_CB_NO_REGS,
	QEMU_PLUGIN_CB_R_REGS,
	QEMU_PLUGIN_CB_RW_REGS,
};

typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index,
					    void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id,
					       struct qemu_plugin_tb *tb);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
					   qemu_plugin_vcpu_tb_trans_cb_t cb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb,
					  qemu_plugin_vcpu_udata_cb_t cb,
					  enum qemu_plugin_cb_flags flags,
					  void *userdata);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb,
					      enum qemu_plugin_op op,
					      void *ptr, uint64_t imm);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id,
				    qemu_plugin_udata_cb_t cb, void *userdata);
void qemu_plugin_outs(const char *string);

/* QEMU refuses a plugin that does not say which API it was built for. */
QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

/* ---- The profile ---- */

/* Where the x86-64 kernel's text (and its modules') begins. */
#define KERNEL_START 0xffffffff80000000ULL

/*
 * One counter per block start address.  The inline ops hold pointers to
 * the counters in translated code, so an entry never moves once made: the
 * table chains entries that are allocated one by one and never freed.  It
 * is looked up only when a block is translated, so a fixed bucket count
 * does: the kernel has some tens of thousands of hot blocks.
 */
struct block {
	uint64_t vaddr;
	uint64_t insns;		/* instructions executed from this address */
	uint64_t opened;	/* insns when the window opened */
	uint64_t closed;	/* insns when the window closed */
	struct block *next;
};

#define HASH_BITS 16
#define HASH_SIZE (1U << HASH_BITS)

static struct block *table[HASH_SIZE];
static size_t nblocks;
/* Translations may run on several vCPU threads at once. */
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static char *out_path;

/* The window: mark=VADDR, and how far the guest got through it. */
static bool have_mark;
static uint64_t mark;
static enum { BEFORE, OPEN, CLOSED } window = BEFORE;

static unsigned int hash(uint64_t vaddr)
{
	/* Fibonacci hashing: the top bits of the product spread well. */
	return (unsigned int)((vaddr * 0x9e3779b97f4a7c15ULL) >>
			      (64 - HASH_BITS));
}

/* The counter for vaddr, made on first use; NULL when out of memory. */
static struct block *block_get(uint64_t vaddr)
{
	unsigned int h = hash(vaddr);
	struct block *b;

	pthread_mutex_lock(&table_lock);
	for (b = table[h]; b; b = b->next)
		if (b->vaddr == vaddr)
			break;
	if (!b) {
		b = calloc(1, sizeof(*b));
		if (b) {
			b->vaddr = vaddr;
			b->next = table[h];
			table[h] = b;
			nblocks++;
		}
	}
	pthread_mutex_unlock(&table_lock);
	return b;
}

/*
 * The block at the mark runs: open the window, or close it.  A counter made
 * after the window opened had nothing to count before, so its zero
 * "opened" is right; one made after it closed keeps "closed" at zero, and
 * counts nothing in the window either.  Another vCPU may add to a counter
 * while it is copied: a few instructions one way or the other.
 */
static void mark_exec(unsigned int vcpu_index, void *userdata)
{
	unsigned int h;
	struct block *b;

	(void)vcpu_index;
	(void)userdata;
	pthread_mutex_lock(&table_lock);
	if (window != CLOSED) {
		for (h = 0; h < HASH_SIZE; h++)
			for (b = table[h]; b; b = b->next) {
				if (window == BEFORE)
					b->opened = b->insns;
				else
					b->closed = b->insns;
			}
		window = window == BEFORE ? OPEN : CLOSED;
	}
	pthread_mutex_unlock(&table_lock);
}

/*
 * A block is being translated: when it is kernel code, have its every
 * execution add its instruction count to the counter of its address; when
 * it starts at the mark, have its executions move the window on.
 */
static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	uint64_t vaddr = qemu_plugin_tb_vaddr(tb);
	size_t n = qemu_plugin_tb_n_insns(tb);
	struct block *b;

	(void)id;
	if (have_mark && vaddr == mark)
		qemu_plugin_register_vcpu_tb_exec_cb(tb, mark_exec,
				QEMU_PLUGIN_CB_NO_REGS, NULL);
	if (vaddr < KERNEL_START || n == 0)
		return;
	b = block_get(vaddr);
	if (b)
		qemu_plugin_register_vcpu_tb_exec_inline(tb,
				QEMU_PLUGIN_INLINE_ADD_U64, &b->insns, n);
}

/* What the block at b counted in the window (all of it, without one). */
static uint64_t block_count(const struct block *b)
{
	switch (window) {
	case OPEN:
		return b->insns - b->opened;
	case CLOSED:
		return b->closed - b->opened;
	default:
		return b->insns;
	}
}

/* QEMU exits: write the counters that ran, then a line on QEMU's log. */
static void at_exit(qemu_plugin_id_t id, void *userdata)
{
	static const char *const what[] = {
		[BEFORE] = "from boot to exit",
		[OPEN] = "from the mark to exit",
		[CLOSED] = "between the marks",
	};
	uint64_t total = 0, n;
	size_t lines = 0;
	char msg[512];
	unsigned int h;
	struct block *b;
	FILE *f;

	(void)id;
	(void)userdata;
	f = fopen(out_path, "w");
	if (!f) {
		snprintf(msg, sizeof(msg), "tcgprof: cannot write %s\n",
			 out_path);
		qemu_plugin_outs(msg);
		return;
	}
	pthread_mutex_lock(&table_lock);
	for (h = 0; h < HASH_SIZE; h++)
		for (b = table[h]; b; b = b->next) {
			n = block_count(b);
			if (!n)
				continue;
			fprintf(f, "%" PRIx64 " %" PRIu64 "\n", b->vaddr, n);
			total += n;
			lines++;
		}
	pthread_mutex_unlock(&table_lock);
	if (fclose(f) != 0)
		snprintf(msg, sizeof(msg), "tcgprof: error writing %s\n",
			 out_path);
	else
		snprintf(msg, sizeof(msg),
			 "tcgprof: %zu kernel blocks translated, %zu ran "
			 "%s%s, %" PRIu64 " kernel instructions, in %s\n",
			 nblocks, lines, what[window],
			 have_mark && window == BEFORE ?
			 " (the guest never reached the mark)" : "",
			 total, out_path);
	qemu_plugin_outs(msg);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
					   const qemu_info_t *info,
					   int argc, char **argv)
{
	int i;

	if (!info->system_emulation) {
		fprintf(stderr, "tcgprof: only for system emulation\n");
		return -1;
	}
	for (i = 0; i < argc; i++) {
		char *end;

		if (strncmp(argv[i], "out=", 4) == 0 && argv[i][4]) {
			out_path = argv[i] + 4;	/* argv outlives the plugin */
		} else if (strncmp(argv[i], "mark=", 5) == 0 && argv[i][5]) {
			mark = strtoull(argv[i] + 5, &end, 16);
			if (*end) {
				fprintf(stderr, "tcgprof: mark=%s: not a hex "
					"address\n", argv[i] + 5);
				return -1;
			}
			have_mark = true;
		} else {
			fprintf(stderr, "tcgprof: unknown argument '%s' "
				"(expected out=PATH or mark=VADDR)\n",
				argv[i]);
			return -1;
		}
	}
	if (!out_path) {
		fprintf(stderr, "tcgprof: no out=PATH argument\n");
		return -1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
	qemu_plugin_register_atexit_cb(id, at_exit, NULL);
	return 0;
}
