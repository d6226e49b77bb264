// SPDX-License-Identifier: GPL-2.0
/*
 * cgfence: runs a command inside a cgroup v2 whose egress is fenced by a
 * BPF_PROG_TYPE_CGROUP_SKB program that drops every packet (returns 0),
 * attached BPF_CGROUP_INET_EGRESS. Loaded with the bpf() system call, no
 * libbpf or compiler needed. The attachment lives as long as the cgroup.
 *
 *   cgfence CGROUP_DIR COMMAND [ARG]...
 *
 * Exit status: the command's; 2 if the fence could not be set up, 4 if
 * the kernel has no cgroup BPF programs (no bpf(), or the program type
 * unknown to it).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

int main(int argc, char **argv)
{
	struct bpf_insn prog[] = {
		/* r0 = 0; exit: drop */
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	static char log[4096];
	union bpf_attr attr;
	char path[4096], pid[32];
	int pfd, cfd, fd;

	if (argc < 3) {
		fprintf(stderr, "usage: cgfence CGROUP_DIR COMMAND [ARG]...\n");
		return 2;
	}
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_CGROUP_SKB;
	attr.insns = (unsigned long)prog;
	attr.insn_cnt = sizeof(prog) / sizeof(prog[0]);
	attr.license = (unsigned long)"GPL";
	attr.log_buf = (unsigned long)log;
	attr.log_size = sizeof(log);
	attr.log_level = 1;
	attr.expected_attach_type = BPF_CGROUP_INET_EGRESS;
	pfd = sys_bpf(BPF_PROG_LOAD, &attr);
	if (pfd < 0) {
		fprintf(stderr, "cgfence: BPF_PROG_LOAD: %s\n%s", strerror(errno),
			log);
		return errno == ENOSYS || errno == EINVAL ? 4 : 2;
	}
	cfd = open(argv[1], O_RDONLY | O_DIRECTORY);
	if (cfd < 0) {
		fprintf(stderr, "cgfence: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = cfd;
	attr.attach_bpf_fd = pfd;
	attr.attach_type = BPF_CGROUP_INET_EGRESS;
	if (sys_bpf(BPF_PROG_ATTACH, &attr)) {
		fprintf(stderr, "cgfence: BPF_PROG_ATTACH: %s\n",
			strerror(errno));
		return 2;
	}
	close(pfd);
	close(cfd);

	snprintf(path, sizeof(path), "%s/cgroup.procs", argv[1]);
	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, pid, strlen(pid)) < 0) {
		fprintf(stderr, "cgfence: %s: %s\n", path, strerror(errno));
		return 2;
	}
	close(fd);
	execvp(argv[2], argv + 2);
	fprintf(stderr, "cgfence: %s: %s\n", argv[2], strerror(errno));
	return 2;
}
