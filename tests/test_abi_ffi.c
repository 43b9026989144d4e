/* test_abi_ffi.c - the library as a foreign binding sees it.
 *
 * The program does not link libbatchudp: it dlopens the built shared
 * object, looks each function up, and calls it only through libffi, with
 * the value types described as libffi structs (budp_addr, budp_datagram,
 * budp_stats) and read or written at the offsets libffi computes, never
 * through the C declarations.  The callback is a libffi closure.  The header
 * is included for its constants and, in one test, to compare libffi's layout
 * with the compiler's. */
#include "config.h"

#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <ffi.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batchudp.h"
#include "testutil.h"

#ifndef BUDP_LIBDIR
#error "BUDP_LIBDIR must name the directory of the built libbatchudp.so.1"
#endif
#define LIBRARY BUDP_LIBDIR "/libbatchudp.so.1"

/* ------------------------------------------------------------------ */
/* Type descriptions, as a binding writes them                         */
/* ------------------------------------------------------------------ */

/* budp_addr { u16 family; u16 port; u32 scope_id; u8 bytes[16]; } */
static ffi_type *addr_elements[3 + 16 + 1];
static ffi_type addr_type;
enum { ADDR_FAMILY, ADDR_PORT, ADDR_SCOPE, ADDR_BYTES, ADDR_NFIELDS = 3 + 16 };
static size_t addr_off[ADDR_NFIELDS];

/* budp_datagram { ptr data; u32 len; u32 flags; budp_addr peer, local;
 *                 u64 time_ns; u16 segment_size; u8 ecn; u8 reserved[21]; } */
#define DG_RESERVED_BYTES 21
static ffi_type *dgram_elements[8 + DG_RESERVED_BYTES + 1];
static ffi_type dgram_type;
enum { DG_DATA, DG_LEN, DG_FLAGS, DG_PEER, DG_LOCAL, DG_TIME, DG_SEGMENT, DG_ECN,
       DG_RESERVED, DG_NFIELDS = 8 + DG_RESERVED_BYTES };
static size_t dgram_off[DG_NFIELDS];

/* budp_stats: 15 u64. */
#define NSTATS 15
static ffi_type *stats_elements[NSTATS + 1];
static ffi_type stats_type;
static size_t stats_off[NSTATS];

static ffi_type *size_type(void)
{
    return sizeof(size_t) == 8 ? &ffi_type_uint64 : &ffi_type_uint32;
}

static void describe_types(void)
{
    size_t k = 0;

    addr_elements[k++] = &ffi_type_uint16;
    addr_elements[k++] = &ffi_type_uint16;
    addr_elements[k++] = &ffi_type_uint32;
    for (int i = 0; i < 16; i++)
        addr_elements[k++] = &ffi_type_uint8;
    addr_elements[k] = NULL;
    memset(&addr_type, 0, sizeof addr_type);
    addr_type.type = FFI_TYPE_STRUCT;
    addr_type.elements = addr_elements;
    ck_assert_int_eq(ffi_get_struct_offsets(FFI_DEFAULT_ABI, &addr_type, addr_off),
                     FFI_OK);

    k = 0;
    dgram_elements[k++] = &ffi_type_pointer;
    dgram_elements[k++] = &ffi_type_uint32;
    dgram_elements[k++] = &ffi_type_uint32;
    dgram_elements[k++] = &addr_type;
    dgram_elements[k++] = &addr_type;
    dgram_elements[k++] = &ffi_type_uint64;
    dgram_elements[k++] = &ffi_type_uint16;
    dgram_elements[k++] = &ffi_type_uint8;
    for (int i = 0; i < DG_RESERVED_BYTES; i++)
        dgram_elements[k++] = &ffi_type_uint8;
    dgram_elements[k] = NULL;
    memset(&dgram_type, 0, sizeof dgram_type);
    dgram_type.type = FFI_TYPE_STRUCT;
    dgram_type.elements = dgram_elements;
    ck_assert_int_eq(ffi_get_struct_offsets(FFI_DEFAULT_ABI, &dgram_type, dgram_off),
                     FFI_OK);

    for (int i = 0; i < NSTATS; i++)
        stats_elements[i] = &ffi_type_uint64;
    stats_elements[NSTATS] = NULL;
    memset(&stats_type, 0, sizeof stats_type);
    stats_type.type = FFI_TYPE_STRUCT;
    stats_type.elements = stats_elements;
    ck_assert_int_eq(ffi_get_struct_offsets(FFI_DEFAULT_ABI, &stats_type, stats_off),
                     FFI_OK);
}

/* Field access at libffi's offsets. */
static void put(void *base, size_t off, const void *v, size_t n)
{
    memcpy((uint8_t *)base + off, v, n);
}

static void get(const void *base, size_t off, void *v, size_t n)
{
    memcpy(v, (const uint8_t *)base + off, n);
}

/* ------------------------------------------------------------------ */
/* Calls through libffi                                                */
/* ------------------------------------------------------------------ */

static void *lib;

static void *sym(const char *name)
{
    void *f = dlsym(lib, name);

    ck_assert_msg(f != NULL, "%s not exported: %s", name, dlerror());
    return f;
}

/* Call name(args...) returning an int (or void when ret is &ffi_type_void).
 * types and values have nargs entries. */
static ffi_arg call(const char *name, ffi_type *ret, unsigned nargs,
                    ffi_type **types, void **values)
{
    ffi_cif cif;
    ffi_arg rc = 0;
    void *f = sym(name);
    void (*fn)(void);

    ck_assert_int_eq(ffi_prep_cif(&cif, FFI_DEFAULT_ABI, nargs, ret, types), FFI_OK);
    memcpy(&fn, &f, sizeof f);
    ffi_call(&cif, fn, &rc, values);
    return rc;
}

static int call_int(const char *name, unsigned nargs, ffi_type **types, void **values)
{
    return (int)(ffi_sarg)call(name, &ffi_type_sint, nargs, types, values);
}

static void *call_ptr(const char *name, unsigned nargs, ffi_type **types, void **values)
{
    ffi_arg r = call(name, &ffi_type_pointer, nargs, types, values);
    void *p;

    memcpy(&p, &r, sizeof p);
    return p;
}

static void open_library(void)
{
    lib = dlopen(LIBRARY, RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(lib != NULL, "dlopen(%s): %s", LIBRARY, dlerror());
    describe_types();
}

static void close_library(void)
{
    if (lib != NULL)
        dlclose(lib);
    lib = NULL;
}

/* Thin wrappers, one per function, each only building ffi argument lists. */
static void *f_options_new(void)
{
    void *o = NULL, *po = &o;
    ffi_type *t[] = { &ffi_type_pointer };
    void *v[] = { &po };

    ck_assert_int_eq(call_int("budp_options_new", 1, t, v), 0);
    ck_assert_ptr_nonnull(o);
    return o;
}

static int f_options_set(void *o, int key, int64_t value)
{
    ffi_type *t[] = { &ffi_type_pointer, &ffi_type_sint, &ffi_type_sint64 };
    void *v[] = { &o, &key, &value };

    return call_int("budp_options_set", 3, t, v);
}

static int64_t f_options_get(void *o, int key)
{
    int64_t value = -1;
    void *pv = &value;
    ffi_type *t[] = { &ffi_type_pointer, &ffi_type_sint, &ffi_type_pointer };
    void *v[] = { &o, &key, &pv };

    ck_assert_int_eq(call_int("budp_options_get", 3, t, v), 0);
    return value;
}

static void f_options_free(void *o)
{
    ffi_type *t[] = { &ffi_type_pointer };
    void *v[] = { &o };

    call("budp_options_free", &ffi_type_void, 1, t, v);
}

static void *f_bind(const char *host, uint16_t port, void *o)
{
    void *s = NULL, *ps = &s;
    ffi_type *t[] = { &ffi_type_pointer, &ffi_type_pointer, &ffi_type_uint16,
                      &ffi_type_pointer };
    void *v[] = { &ps, &host, &port, &o };
    int rc = call_int("budp_bind", 4, t, v);

    ck_assert_msg(rc == 0, "budp_bind(%s): %d", host, rc);
    return s;
}

static void f_local_addr(void *s, void *addr_buf)
{
    ffi_type *t[] = { &ffi_type_pointer, &ffi_type_pointer };
    void *v[] = { &s, &addr_buf };

    ck_assert_int_eq(call_int("budp_local_addr", 2, t, v), 0);
}

static int f_send(void *s, const void *d, unsigned n)
{
    ffi_type *t[] = { &ffi_type_pointer, &ffi_type_pointer, &ffi_type_uint };
    void *v[] = { &s, &d, &n };

    return call_int("budp_send", 3, t, v);
}

static int f_set_callback(void *s, void *fn, void *user)
{
    ffi_type *t[] = { &ffi_type_pointer, &ffi_type_pointer, &ffi_type_pointer };
    void *v[] = { &s, &fn, &user };

    return call_int("budp_set_callback", 3, t, v);
}

static int f_wait(void *s, int timeout_ms)
{
    ffi_type *t[] = { &ffi_type_pointer, &ffi_type_sint };
    void *v[] = { &s, &timeout_ms };

    return call_int("budp_wait", 2, t, v);
}

static int f_dispatch(void *s, unsigned max)
{
    ffi_type *t[] = { &ffi_type_pointer, &ffi_type_uint };
    void *v[] = { &s, &max };

    return call_int("budp_dispatch", 2, t, v);
}

static int f_recv_packed(void *s, void *buf, size_t size, uint32_t *lens,
                         uint32_t *flags, void *peers, unsigned max)
{
    ffi_type *t[] = { &ffi_type_pointer, &ffi_type_pointer, size_type(),
                      &ffi_type_pointer, &ffi_type_pointer, &ffi_type_pointer,
                      &ffi_type_uint };
    void *v[] = { &s, &buf, &size, &lens, &flags, &peers, &max };

    return call_int("budp_recv_packed", 7, t, v);
}

static int f_get_stats(void *s, void *out, size_t size)
{
    ffi_type *t[] = { &ffi_type_pointer, &ffi_type_pointer, size_type() };
    void *v[] = { &s, &out, &size };

    return call_int("budp_get_stats", 3, t, v);
}

static const char *f_backend_name(void *s)
{
    ffi_type *t[] = { &ffi_type_pointer };
    void *v[] = { &s };

    return call_ptr("budp_backend_name", 1, t, v);
}

static const char *f_strerror(int err)
{
    ffi_type *t[] = { &ffi_type_sint };
    void *v[] = { &err };

    return call_ptr("budp_strerror", 1, t, v);
}

static int f_shutdown(void *s)
{
    ffi_type *t[] = { &ffi_type_pointer };
    void *v[] = { &s };

    return call_int("budp_shutdown", 1, t, v);
}

static void f_close(void *s)
{
    ffi_type *t[] = { &ffi_type_pointer };
    void *v[] = { &s };

    call("budp_close", &ffi_type_void, 1, t, v);
}

/* ------------------------------------------------------------------ */
/* The callback, a libffi closure                                      */
/* ------------------------------------------------------------------ */

enum { N = 12, PAYLOAD = 100 };

struct collector {
    unsigned calls;
    unsigned count;
    unsigned bad;
    uint16_t want_port;      /* the sender's port */
    uint8_t data[N][PAYLOAD];
    uint32_t len[N];
};

/* int cb(void *user, const budp_datagram *d, unsigned n) */
static void closure_handler(ffi_cif *cif, void *ret, void **args, void *userdata)
{
    struct collector *c = userdata;
    void *user = *(void **)args[0];
    const uint8_t *d = *(const uint8_t **)args[1];
    unsigned n = *(unsigned *)args[2];

    (void)cif;
    /* libffi widens an int return value to ffi_arg. */
    *(ffi_arg *)ret = BUDP_CALLBACK_CONTINUE;
    c->calls++;
    if (user != (void *)c)
        c->bad++;
    for (unsigned i = 0; i < n; i++) {
        const uint8_t *one = d + i * dgram_type.size;
        const uint8_t *data;
        uint32_t len, flags;
        uint16_t family, port;

        get(one, dgram_off[DG_DATA], &data, sizeof data);
        get(one, dgram_off[DG_LEN], &len, sizeof len);
        get(one, dgram_off[DG_FLAGS], &flags, sizeof flags);
        get(one, dgram_off[DG_PEER] + addr_off[ADDR_FAMILY], &family, sizeof family);
        get(one, dgram_off[DG_PEER] + addr_off[ADDR_PORT], &port, sizeof port);
        /* BUDP_DGRAM_COALESCED may be set (GRO on by default). */
        if (family != BUDP_AF_INET || port != c->want_port ||
            (flags & BUDP_DGRAM_TRUNCATED) || len > PAYLOAD || c->count >= N) {
            c->bad++;
            c->count++;
            continue;
        }
        memcpy(c->data[c->count], data, len);
        c->len[c->count] = len;
        c->count++;
    }
}

/* ------------------------------------------------------------------ */

static void fill_payload(uint8_t *p, size_t len, unsigned seq)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(seq * 31u + i * 7u);
}

START_TEST(layout_matches_header)
{
    open_library();
    /* What a binding computes agrees with the C compiler. */
    ck_assert_uint_eq(addr_type.size, sizeof(budp_addr));
    ck_assert_uint_eq(addr_type.size, 24);
    ck_assert_uint_eq(addr_off[ADDR_PORT], offsetof(budp_addr, port));
    ck_assert_uint_eq(addr_off[ADDR_SCOPE], offsetof(budp_addr, scope_id));
    ck_assert_uint_eq(addr_off[ADDR_BYTES], offsetof(budp_addr, bytes));
    ck_assert_uint_eq(dgram_type.size, sizeof(budp_datagram));
    if (sizeof(void *) == 8)
        ck_assert_uint_eq(dgram_type.size, 96);
    ck_assert_uint_eq(dgram_off[DG_LEN], offsetof(budp_datagram, len));
    ck_assert_uint_eq(dgram_off[DG_FLAGS], offsetof(budp_datagram, flags));
    ck_assert_uint_eq(dgram_off[DG_PEER], offsetof(budp_datagram, peer));
    ck_assert_uint_eq(dgram_off[DG_LOCAL], offsetof(budp_datagram, local));
    ck_assert_uint_eq(dgram_off[DG_TIME], offsetof(budp_datagram, time_ns));
    if (sizeof(void *) == 8)
        ck_assert_uint_eq(dgram_off[DG_TIME], 64);
    ck_assert_uint_eq(dgram_off[DG_SEGMENT], offsetof(budp_datagram, segment_size));
    ck_assert_uint_eq(dgram_off[DG_ECN], offsetof(budp_datagram, ecn));
    ck_assert_uint_eq(dgram_off[DG_RESERVED], offsetof(budp_datagram, reserved));
    /* A binding written for these 15 counters stays valid as fields are
     * appended. */
    ck_assert_uint_eq(stats_type.size, 15 * sizeof(uint64_t));
    ck_assert_uint_le(stats_type.size, sizeof(budp_stats));
    close_library();
}
END_TEST

/* Internal functions stay hidden: only the public API is exported. */
START_TEST(only_public_symbols)
{
    static const char *const hidden[] = {
        "budp_socket_free", "budp_call_enter", "budp_run_callback",
        "budp_backend_select", "budp_options_defaults",
        "budp_opt", "budp_msg_prep_recv", "budp_views_fill", "budp_ring_init",
        "budp_addr_parse", "budp_backend_mmsg", "budp_backend_loop",
        "budp_receiver_start", "budp_slots_alloc",
    };
    static const char *const public_api[] = {
        "budp_version", "budp_version_string", "budp_strerror",
        "budp_options_new", "budp_options_set", "budp_options_get",
        "budp_options_bounds", "budp_options_free", "budp_bind", "budp_open",
        "budp_connect", "budp_local_addr", "budp_socket_fd", "budp_poll_fd",
        "budp_backend_name", "budp_addr_from_string", "budp_addr_to_string",
        "budp_shutdown", "budp_close", "budp_recv", "budp_recv_packed", "budp_wait",
        "budp_set_callback", "budp_dispatch", "budp_send", "budp_get_stats",
    };

    open_library();
    for (size_t i = 0; i < sizeof public_api / sizeof public_api[0]; i++)
        ck_assert_msg(dlsym(lib, public_api[i]) != NULL, "%s missing", public_api[i]);
    for (size_t i = 0; i < sizeof hidden / sizeof hidden[0]; i++)
        ck_assert_msg(dlsym(lib, hidden[i]) == NULL, "%s exported", hidden[i]);
    close_library();
}
END_TEST

START_TEST(version_and_strings)
{
    ffi_arg v;
    char text[32];

    open_library();
    v = call("budp_version", &ffi_type_uint, 0, NULL, NULL);
    ck_assert_uint_eq((unsigned)v >> 16, BUDP_VERSION_MAJOR);
    ck_assert_uint_eq((unsigned)v, BUDP_VERSION);
    /* The header's numbers, configure's release and the library agree. */
    snprintf(text, sizeof text, "%d.%d.%d", BUDP_VERSION_MAJOR, BUDP_VERSION_MINOR,
             BUDP_VERSION_PATCH);
    ck_assert_str_eq(text, PACKAGE_VERSION);
    ck_assert_str_eq(call_ptr("budp_version_string", 0, NULL, NULL), text);
    ck_assert_str_eq(f_strerror(-EINVAL), "Invalid argument");
    ck_assert_str_eq(f_strerror(-99999), "Unknown error");
    close_library();
}
END_TEST

START_TEST(bind_send_dispatch)
{
    void *o, *rx, *tx, *closure, *code = NULL;
    ffi_cif cb_cif;
    ffi_type *cb_args[] = { &ffi_type_pointer, &ffi_type_pointer, &ffi_type_uint };
    uint8_t *rx_addr, *tx_addr, *dgrams, *stats;
    uint8_t payload[N][PAYLOAD];
    struct collector *c = calloc(1, sizeof *c);
    uint16_t family, tx_port;
    uint64_t rx_datagrams, rx_bytes, tx_datagrams;
    unsigned rounds = 0;
    int rc;

    ck_assert_ptr_nonnull(c);
    open_library();

    o = f_options_new();
    ck_assert_int_eq(f_options_set(o, BUDP_OPT_BATCH_SIZE, 4), 0);
    ck_assert_int_eq(f_options_set(o, BUDP_OPT_BATCH_SIZE, 0), -EINVAL);
    ck_assert_int_eq(f_options_get(o, BUDP_OPT_BATCH_SIZE), 4);
    ck_assert_int_eq(f_options_set(o, BUDP_OPT_MAX_DATAGRAM, 512), 0);
    rx = f_bind("127.0.0.1", 0, o);
    tx = f_bind("127.0.0.1", 0, o);
    f_options_free(o);
    ck_assert_ptr_nonnull(f_backend_name(rx));
    ck_assert_int_gt((int)strlen(f_backend_name(rx)), 0);

    rx_addr = calloc(1, addr_type.size);
    tx_addr = calloc(1, addr_type.size);
    f_local_addr(rx, rx_addr);
    f_local_addr(tx, tx_addr);
    get(rx_addr, addr_off[ADDR_FAMILY], &family, sizeof family);
    ck_assert_uint_eq(family, BUDP_AF_INET);
    get(tx_addr, addr_off[ADDR_PORT], &tx_port, sizeof tx_port);
    ck_assert_uint_ne(tx_port, 0);
    c->want_port = tx_port;

    /* The batch, laid out at libffi's offsets and stride. */
    dgrams = calloc(N, dgram_type.size);
    for (unsigned i = 0; i < N; i++) {
        uint8_t *one = dgrams + i * dgram_type.size;
        const uint8_t *data = payload[i];
        uint32_t len = PAYLOAD - i;

        fill_payload(payload[i], PAYLOAD, i);
        put(one, dgram_off[DG_DATA], &data, sizeof data);
        put(one, dgram_off[DG_LEN], &len, sizeof len);
        put(one, dgram_off[DG_PEER], rx_addr, addr_type.size);
    }
    rc = f_send(tx, dgrams, N);
    ck_assert_msg(rc == N, "budp_send: %d", rc);

    /* The callback: a closure with the C signature of budp_recv_fn. */
    closure = ffi_closure_alloc(sizeof(ffi_closure), &code);
    ck_assert_ptr_nonnull(closure);
    ck_assert_int_eq(ffi_prep_cif(&cb_cif, FFI_DEFAULT_ABI, 3, &ffi_type_sint, cb_args),
                     FFI_OK);
    ck_assert_int_eq(ffi_prep_closure_loc(closure, &cb_cif, closure_handler, c, code),
                     FFI_OK);
    ck_assert_int_eq(f_set_callback(rx, code, c), 0);

    while (c->count < N && rounds++ < 100) {
        rc = f_dispatch(rx, 64);
        ck_assert_int_ge(rc, 0);
        if (rc == 0)
            ck_assert_int_eq(f_wait(rx, 5000), 1);
    }
    ck_assert_uint_eq(c->count, N);
    ck_assert_uint_eq(c->bad, 0);
    /* Batch size 4: more than one callback call (GRO may pack two of the
     * datagrams into one receive slot, so not necessarily three). */
    ck_assert_uint_ge(c->calls, 2);
    ck_assert_uint_le(c->calls, N);
    for (unsigned i = 0; i < N; i++) {
        ck_assert_uint_eq(c->len[i], PAYLOAD - i);
        ck_assert_mem_eq(c->data[i], payload[i], PAYLOAD - i);
    }

    /* The packed receive, as a binding that pays per crossing uses it. */
    {
        uint8_t buf[N * PAYLOAD];
        uint32_t lens[N], flags[N];
        uint8_t *peers = calloc(N, addr_type.size);
        unsigned got = 0;
        size_t off = 0;

        rc = f_send(tx, dgrams, N);
        ck_assert_int_eq(rc, N);
        rounds = 0;
        while (got < N && rounds++ < 100) {
            rc = f_recv_packed(rx, buf + off, sizeof buf - off, lens + got,
                               flags + got, peers + got * addr_type.size, N - got);
            ck_assert_int_ge(rc, 0);
            if (rc == 0) {
                ck_assert_int_eq(f_wait(rx, 5000), 1);
                continue;
            }
            for (int k = 0; k < rc; k++)
                off += lens[got + (unsigned)k];
            got += (unsigned)rc;
        }
        ck_assert_uint_eq(got, N);
        off = 0;
        for (unsigned i = 0; i < N; i++) {
            uint16_t port;
            ck_assert_uint_eq(lens[i], PAYLOAD - i);
            ck_assert_uint_eq(flags[i] & BUDP_DGRAM_TRUNCATED, 0);
            ck_assert_mem_eq(buf + off, payload[i], lens[i]);
            get(peers + i * addr_type.size, addr_off[ADDR_PORT], &port, sizeof port);
            ck_assert_uint_eq(port, tx_port);
            off += lens[i];
        }
        free(peers);
    }

    stats = calloc(1, stats_type.size);
    ck_assert_int_eq(f_get_stats(rx, stats, stats_type.size), (int)stats_type.size);
    get(stats, stats_off[0], &rx_datagrams, sizeof rx_datagrams);
    get(stats, stats_off[1], &rx_bytes, sizeof rx_bytes);
    ck_assert_uint_eq(rx_datagrams, 2 * N);
    ck_assert_uint_eq(rx_bytes, 2 * (N * PAYLOAD - N * (N - 1) / 2));
    ck_assert_int_eq(f_get_stats(tx, stats, stats_type.size), (int)stats_type.size);
    get(stats, stats_off[8], &tx_datagrams, sizeof tx_datagrams);
    ck_assert_uint_eq(tx_datagrams, 2 * N);

    ck_assert_int_eq(f_set_callback(rx, NULL, NULL), 0);
    /* Shut down: the handle stays valid and refuses calls until closed. */
    ck_assert_int_eq(f_shutdown(rx), 0);
    ck_assert_int_eq(f_wait(rx, -1), -EBADF);
    ck_assert_int_eq(f_get_stats(rx, stats, stats_type.size), -EBADF);
    f_close(rx);
    f_close(tx);
    ffi_closure_free(closure);
    free(stats);
    free(dgrams);
    free(rx_addr);
    free(tx_addr);
    free(c);
    close_library();
}
END_TEST

static Suite *abi_suite(void)
{
    Suite *s = suite_create("abi_ffi");
    TCase *tc = tcase_create("ffi");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, layout_matches_header);
    tcase_add_test(tc, only_public_symbols);
    tcase_add_test(tc, version_and_strings);
    tcase_add_test(tc, bind_send_dispatch);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(abi_suite());
}
