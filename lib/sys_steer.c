/* sys_steer.c - how a socket group's members share arriving datagrams:
 * the system's support, the classic BPF program that steers by key, by
 * CPU or (once members closed) by source, and the wait for packets
 * already on their way to a member.
 *
 * The program runs for each datagram the kernel delivers to the group,
 * with the packet's data starting at the UDP payload (the kernel pulls
 * the UDP header first), and returns the place in the kernel's group of
 * the socket to deliver to; a place out of range lets the kernel fall
 * back to its own hash. */
#include "build_config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/filter.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#endif

#include "sys.h"

int budp_sys_group_supported(int steering)
{
#if defined(__linux__) && defined(SO_REUSEPORT) && defined(SO_ATTACH_REUSEPORT_CBPF)
    (void)steering;
    return 0;
#elif defined(SO_REUSEPORT_LB)
    return steering == BUDP_STEER_HASH ? 0 : -ENOTSUP;
#else
    /* SO_REUSEPORT alone (Apple's) hands each datagram to one socket. */
    (void)steering;
    return -ENOTSUP;
#endif
}

#if defined(__linux__) && defined(SO_ATTACH_REUSEPORT_CBPF)

/* The longest program: the key's bytes, two tables of up to
 * BUDP_GROUP_MAX_MEMBERS places, the source hash, a few jumps; well under
 * the kernel's BPF_MAXINSNS (4096). */
#define KEY_INSNS(len) (3u + 7u * (len))
#define TABLE_INSNS(n) (2u * (n) + 1u)
#define HASH_INSNS 32u
#define MAX_INSNS (KEY_INSNS(8u) + 2u * TABLE_INSNS(BUDP_GROUP_MAX_MEMBERS) + HASH_INSNS)

/* Where a datagram that finds no member goes: out of the group's range,
 * so the kernel hashes it (no plan needs it: every table covers every
 * value it is given). */
#define NO_PLACE 0xffffffffu

struct program {
    struct sock_filter insn[MAX_INSNS];
    unsigned len;
};

static void emit(struct program *p, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
    struct sock_filter f = { code, jt, jf, k };

    p->insn[p->len++] = f;
}

/* The first open member at or after m, cyclically; m itself when open. */
static int next_open(const struct budp_steer_plan *plan, unsigned m)
{
    for (unsigned step = 0; step < plan->members; step++) {
        unsigned c = (m + step) % plan->members;
        if (plan->position[c] >= 0)
            return plan->position[c];
    }
    return -1;
}

/* A holds a member number (0..members-1): return that member's place, or
 * the next open member's. */
static void emit_member_table(struct program *p, const struct budp_steer_plan *plan)
{
    int identity = 1;

    for (unsigned m = 0; m < plan->members; m++)
        identity &= plan->position[m] == (int)m;
    if (identity) {
        emit(p, BPF_RET | BPF_A, 0, 0, 0);
        return;
    }
    for (unsigned m = 0; m < plan->members; m++) {
        emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, m);
        emit(p, BPF_RET | BPF_K, 0, 0, (uint32_t)next_open(plan, m));
    }
    emit(p, BPF_RET | BPF_K, 0, 0, NO_PLACE);
}

/* A = the key's bytes as a big-endian number, mod members, one byte at a
 * time so that no step overflows 32 bits (members <= 2^24). */
static void emit_key(struct program *p, const struct budp_steer_plan *plan)
{
    emit(p, BPF_LD | BPF_B | BPF_ABS, 0, 0, plan->key_offset);
    emit(p, BPF_ALU | BPF_MOD | BPF_K, 0, 0, plan->members);
    for (uint32_t i = 1; i < plan->key_length; i++) {
        emit(p, BPF_ST, 0, 0, 0);                       /* M[0] = A */
        emit(p, BPF_LD | BPF_B | BPF_ABS, 0, 0, plan->key_offset + i);
        emit(p, BPF_MISC | BPF_TAX, 0, 0, 0);           /* X = byte */
        emit(p, BPF_LD | BPF_MEM, 0, 0, 0);             /* A = M[0] */
        emit(p, BPF_ALU | BPF_LSH | BPF_K, 0, 0, 8);
        emit(p, BPF_ALU | BPF_ADD | BPF_X, 0, 0, 0);
        emit(p, BPF_ALU | BPF_MOD | BPF_K, 0, 0, plan->members);
    }
}

/* Steer by a hash of the source address and port among the open members.
 * The headers are read relative to the network header (SKF_NET_OFF): the
 * IPv4 source at 12 and the UDP header after the IHL's length; the IPv6
 * source at 8..24 and the UDP header at 40. */
static void emit_source_hash(struct program *p, const struct budp_steer_plan *plan)
{
    unsigned open = 0, v6_at, mix_at;

    for (unsigned m = 0; m < plan->members; m++)
        open += plan->position[m] >= 0;

    emit(p, BPF_LD | BPF_B | BPF_ABS, 0, 0, (uint32_t)SKF_NET_OFF);
    emit(p, BPF_ALU | BPF_RSH | BPF_K, 0, 0, 4);
    v6_at = p->len;
    emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 6); /* jt patched below */
    /* IPv4 */
    emit(p, BPF_LDX | BPF_B | BPF_MSH, 0, 0, (uint32_t)SKF_NET_OFF);
    emit(p, BPF_LD | BPF_H | BPF_IND, 0, 0, (uint32_t)SKF_NET_OFF);
    emit(p, BPF_ST, 0, 0, 1);
    emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)SKF_NET_OFF + 12);
    mix_at = p->len;
    emit(p, BPF_JMP | BPF_JA, 0, 0, 0);         /* k patched below */
    p->insn[v6_at].jt = (uint8_t)(p->len - v6_at - 1);
    /* IPv6 */
    emit(p, BPF_LD | BPF_H | BPF_ABS, 0, 0, (uint32_t)SKF_NET_OFF + 40);
    emit(p, BPF_ST, 0, 0, 1);
    emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)SKF_NET_OFF + 8);
    for (uint32_t off = 12; off <= 20; off += 4) {
        emit(p, BPF_MISC | BPF_TAX, 0, 0, 0);
        emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)SKF_NET_OFF + off);
        emit(p, BPF_ALU | BPF_XOR | BPF_X, 0, 0, 0);
    }
    p->insn[mix_at].k = p->len - mix_at - 1;
    /* A = address words; mix in the port, then multiply (Fibonacci
     * hashing) and keep the well-mixed upper bits. */
    emit(p, BPF_MISC | BPF_TAX, 0, 0, 0);
    emit(p, BPF_LD | BPF_MEM, 0, 0, 1);
    emit(p, BPF_ALU | BPF_XOR | BPF_X, 0, 0, 0);
    emit(p, BPF_ALU | BPF_MUL | BPF_K, 0, 0, 0x9E3779B1u);
    emit(p, BPF_ALU | BPF_RSH | BPF_K, 0, 0, 16);
    emit(p, BPF_ALU | BPF_MOD | BPF_K, 0, 0, open);
    for (unsigned m = 0, j = 0; m < plan->members; m++) {
        if (plan->position[m] < 0)
            continue;
        emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, j++);
        emit(p, BPF_RET | BPF_K, 0, 0, (uint32_t)plan->position[m]);
    }
    emit(p, BPF_RET | BPF_K, 0, 0, NO_PLACE);
}

static void build(struct program *p, const struct budp_steer_plan *plan)
{
    p->len = 0;
    switch (plan->steering) {
    case BUDP_STEER_KEY: {
        unsigned short_at;

        /* A datagram too short for its key goes by its source. */
        emit(p, BPF_LD | BPF_W | BPF_LEN, 0, 0, 0);
        emit(p, BPF_JMP | BPF_JGE | BPF_K, 1, 0, plan->key_offset + plan->key_length);
        short_at = p->len;
        emit(p, BPF_JMP | BPF_JA, 0, 0, 0);     /* k patched below */
        emit_key(p, plan);
        emit_member_table(p, plan);
        p->insn[short_at].k = p->len - short_at - 1;
        emit_source_hash(p, plan);
        break;
    }
    case BUDP_STEER_CPU:
        emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)(SKF_AD_OFF + SKF_AD_CPU));
        emit(p, BPF_ALU | BPF_MOD | BPF_K, 0, 0, plan->members);
        emit_member_table(p, plan);
        break;
    default:
        emit_source_hash(p, plan);
        break;
    }
}

int budp_sys_steer_attach(int fd, const struct budp_steer_plan *plan)
{
    struct program p; /* 9 KiB, on a path taken when membership changes */
    struct sock_fprog fprog;

    build(&p, plan);
    memset(&fprog, 0, sizeof fprog); /* its padding goes to the kernel too */
    fprog.len = (unsigned short)p.len;
    fprog.filter = p.insn;
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &fprog, sizeof fprog) < 0)
        return budp_sys_error();
    return 0;
}

void budp_sys_steer_barrier(void)
{
#if defined(SYS_membarrier)
    /* MEMBARRIER_CMD_GLOBAL waits for an RCU grace period: every packet
     * whose socket was chosen under the old program (the receive path
     * looks it up and queues to it inside one RCU read section) is queued
     * by then. */
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) == 0)
        return;
#endif
    /* Refused (nohz_full CPUs, a seccomp filter): a packet is queued
     * microseconds after its socket is chosen. */
    budp_sys_sleep_us(10000);
}

#else

int budp_sys_steer_attach(int fd, const struct budp_steer_plan *plan)
{
    (void)fd;
    (void)plan;
    return -ENOTSUP;
}

void budp_sys_steer_barrier(void)
{
}

#endif
