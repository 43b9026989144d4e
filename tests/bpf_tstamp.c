/* bpf_tstamp.c - the departure-time observer (bpf_tstamp.h): eight eBPF
 * instructions loaded with bpf(2), pinned in a bpf filesystem mounted in
 * this process's own mount namespace, attached with tc. */
#include "config.h"

#include <errno.h>
#include <linux/bpf.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bpf_tstamp.h"
#include "netns.h"

/* Ethernet, IPv4 without options, UDP. */
#define PAYLOAD_OFFSET (14 + 20 + 8)

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
    struct bpf_insn i;

    memset(&i, 0, sizeof i);
    i.code = code;
    i.dst_reg = dst & 0xf;
    i.src_reg = src & 0xf;
    i.off = off;
    i.imm = imm;
    return i;
}

static int load_program(char *why, size_t size)
{
    struct bpf_insn prog[] = {
        /* r6 = skb; r2 = skb->tstamp; *(u64 *)(r10 - 8) = r2 */
        insn(BPF_ALU64 | BPF_MOV | BPF_X, 6, 1, 0, 0),
        insn(BPF_LDX | BPF_MEM | BPF_DW, 2, 1, offsetof(struct __sk_buff, tstamp), 0),
        insn(BPF_STX | BPF_MEM | BPF_DW, 10, 2, -8, 0),
        /* bpf_skb_store_bytes(skb, PAYLOAD_OFFSET, r10 - 8, 8, 0) */
        insn(BPF_ALU64 | BPF_MOV | BPF_X, 1, 6, 0, 0),
        insn(BPF_ALU64 | BPF_MOV | BPF_K, 2, 0, 0, PAYLOAD_OFFSET),
        insn(BPF_ALU64 | BPF_MOV | BPF_X, 3, 10, 0, 0),
        insn(BPF_ALU64 | BPF_ADD | BPF_K, 3, 0, 0, -8),
        insn(BPF_ALU64 | BPF_MOV | BPF_K, 4, 0, 0, 8),
        insn(BPF_ALU64 | BPF_MOV | BPF_K, 5, 0, 0, 0),
        insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_skb_store_bytes),
        /* return TC_ACT_OK */
        insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0),
        insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
    };
    static char log[4096];
    union bpf_attr attr;
    int fd;

    memset(&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_SCHED_CLS;
    attr.insns = (uint64_t)(uintptr_t)prog;
    attr.insn_cnt = sizeof prog / sizeof prog[0];
    attr.license = (uint64_t)(uintptr_t)"GPL";
    attr.log_buf = (uint64_t)(uintptr_t)log;
    attr.log_size = sizeof log;
    attr.log_level = 1;
    fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
    if (fd < 0)
        snprintf(why, size, "the kernel refused the eBPF program (%s): %.200s",
                 strerror(errno), log);
    return fd;
}

static int pin(int fd, const char *path, char *why, size_t size)
{
    union bpf_attr attr;

    memset(&attr, 0, sizeof attr);
    attr.pathname = (uint64_t)(uintptr_t)path;
    attr.bpf_fd = (uint32_t)fd;
    if (syscall(SYS_bpf, BPF_OBJ_PIN, &attr, sizeof attr) < 0) {
        snprintf(why, size, "cannot pin the eBPF program at %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int bpf_tstamp_attach(const char *ns, const char *dev, char *why, size_t size)
{
    char dir[64], path[96];
    int fd, rc;

    /* A bpf filesystem of this process's own: the machine's mounts stay
     * as they are, and tc, run from here, sees it (not under /sys, which
     * `ip netns exec` mounts anew). */
    snprintf(dir, sizeof dir, "/tmp/budp_bpf_%d", (int)getpid());
    if (unshare(CLONE_NEWNS) < 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ||
        (mkdir(dir, 0700) < 0 && errno != EEXIST) || mount("bpf", dir, "bpf", 0, NULL) < 0) {
        snprintf(why, size, "cannot mount a bpf filesystem: %s", strerror(errno));
        return -1;
    }
    if ((fd = load_program(why, size)) < 0)
        return -1;
    snprintf(path, sizeof path, "%s/tstamp", dir);
    if (pin(fd, path, why, size) < 0) {
        close(fd);
        umount(dir);
        rmdir(dir);
        return -1;
    }
    close(fd);
    rc = tn_run("ip netns exec %s tc qdisc replace dev %s clsact", ns, dev) == 0 &&
         tn_run("ip netns exec %s tc filter replace dev %s egress bpf direct-action "
                "object-pinned %s", ns, dev, path) == 0 ? 0 : -1;
    if (rc < 0)
        snprintf(why, size, "tc cannot attach an eBPF classifier to %s", dev);
    /* The attached program holds itself: the pin and its mount go. */
    unlink(path);
    umount(dir);
    rmdir(dir);
    return rc;
}
