/* sender.c - the soak's payloads and sending threads. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#include "soak.h"

uint32_t soak_payload_len(uint32_t sender, uint64_t seq)
{
    uint64_t h = (seq * 2u + sender) * 0x9e3779b97f4a7c15ull;

    return SOAK_MIN_PAYLOAD +
           (uint32_t)((h >> 40) % (SOAK_MAX_PAYLOAD - SOAK_MIN_PAYLOAD + 1));
}

static uint8_t body_byte(uint32_t sender, uint64_t seq, uint32_t i)
{
    return (uint8_t)(seq * 31u + i * 7u + sender * 101u + (i >> 8));
}

/* FNV-1a over the payload but its checksum field (bytes 16-19). */
static uint32_t checksum(const uint8_t *p, uint32_t len)
{
    uint32_t h = 2166136261u;

    for (uint32_t i = 0; i < len; i++)
        if (i < 16 || i >= 20)
            h = (h ^ p[i]) * 16777619u;
    return h;
}

void soak_payload_fill(uint8_t *buf, uint32_t sender, uint64_t seq)
{
    uint32_t len = soak_payload_len(sender, seq), sum;

    memset(buf, 0, SOAK_MIN_PAYLOAD);
    memcpy(buf, &sender, 4);
    memcpy(buf + 4, &len, 4);
    memcpy(buf + 8, &seq, 8);
    for (uint32_t i = SOAK_MIN_PAYLOAD; i < len; i++)
        buf[i] = body_byte(sender, seq, i);
    sum = checksum(buf, len);
    memcpy(buf + 16, &sum, 4);
}

int soak_payload_check(const uint8_t *data, uint32_t len, uint32_t *sender,
                       uint64_t *seq)
{
    uint32_t snd, l, sum;
    uint64_t sq;

    if (len < SOAK_MIN_PAYLOAD)
        return 0;
    memcpy(&snd, data, 4);
    memcpy(&l, data + 4, 4);
    memcpy(&sq, data + 8, 8);
    memcpy(&sum, data + 16, 4);
    if (snd >= SOAK_SENDERS || l != len || len != soak_payload_len(snd, sq) ||
        sum != checksum(data, len))
        return 0;
    *sender = snd;
    *seq = sq;
    return 1;
}

/* Kept on one CPU, a sender's datagrams go through one per-CPU backlog of
 * the loopback device and reach the socket in the order they were sent. */
static int pin(int cpu)
{
    cpu_set_t set;

    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

static void *sender_main(void *arg)
{
    struct soak_sender *s = arg;
    static _Thread_local uint8_t bufs[SOAK_BATCH][SOAK_MAX_PAYLOAD];
    budp_datagram d[SOAK_BATCH];
    uint64_t next = 0;
    const struct timespec breath = { 0, 50000 };

    s->pinned = s->pinned >= 0 && pin(s->pinned);
    memset(d, 0, sizeof d);
    while (next < s->quota && !atomic_load(&s->stop)) {
        unsigned n = s->quota - next < SOAK_BATCH ? (unsigned)(s->quota - next) : SOAK_BATCH;
        int rc;

        for (unsigned i = 0; i < n; i++) {
            soak_payload_fill(bufs[i], s->id, next + i);
            d[i].data = bufs[i];
            d[i].len = soak_payload_len(s->id, next + i);
            d[i].peer = s->dest;
        }
        atomic_store(&s->issued, next + n);
        rc = budp_send(s->tx, d, n);
        if (rc > 0) {
            next += (uint64_t)rc;
            atomic_store(&s->sent, next);
        } else if (rc == -EAGAIN || rc == -ENOBUFS) {
            nanosleep(&breath, NULL);
        } else if (rc == -ECONNREFUSED) {
            /* An ICMP error from a moment the port had no socket. */
        } else {
            s->error = rc;
            break;
        }
        /* Room for the receiving side on a machine with few cores. */
        sched_yield();
    }
    return NULL;
}

int soak_sender_start(struct soak_sender *s, const char *host, int cpu)
{
    budp_options *o = NULL;
    int rc;

    atomic_init(&s->issued, 0);
    atomic_init(&s->sent, 0);
    atomic_init(&s->stop, 0);
    s->error = 0;
    s->pinned = cpu;
    if ((rc = budp_options_new(&o)) < 0)
        return rc;
    /* No GSO: one packet per datagram, so that the kernel's drop count,
     * which counts packets, counts datagrams. */
    budp_options_set(o, BUDP_OPT_GSO, 0);
    budp_options_set(o, BUDP_OPT_BATCH_SIZE, SOAK_BATCH);
    rc = budp_bind(&s->tx, host, 0, o);
    budp_options_free(o);
    if (rc < 0)
        return rc;
    rc = pthread_create(&s->thread, NULL, sender_main, s);
    if (rc != 0) {
        budp_close(s->tx);
        return -rc;
    }
    return 0;
}

void soak_sender_finish(struct soak_sender *s)
{
    pthread_join(s->thread, NULL);
    budp_close(s->tx);
}
