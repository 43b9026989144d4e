/* test_backend_choice.c - how a socket's backend is chosen, and what
 * budp_backend_reason says: the check of Apple release numbers against the
 * first with XNU's recvmsg_x lock fix, the system's version read through
 * the emulated sysctlbyname (msgx_shim_sys.c), and the choice over lists
 * of backends, real and made up. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "msgx_gate.h"
#include "msgx_shim.h"
#include "testutil.h"

extern const struct budp_backend budp_backend_msgx;
extern const struct budp_backend budp_backend_loop;
#ifdef HAVE_RECVMMSG
extern const struct budp_backend budp_backend_mmsg;
#endif

static void setup(void)
{
    msgx_shim_reset();
}

struct version_case {
    enum budp_apple_os os;
    const char *version;
    int fixed;
};

static const struct version_case versions[] = {
    { BUDP_OS_MACOS, "15.6", 1 },
    { BUDP_OS_MACOS, "15.6.1", 1 },
    { BUDP_OS_MACOS, "15.7", 1 },
    { BUDP_OS_MACOS, "15.10", 1 },   /* numbers, not text: 10 > 6 */
    { BUDP_OS_MACOS, "16.0", 1 },
    { BUDP_OS_MACOS, "26", 1 },
    { BUDP_OS_MACOS, "26.1", 1 },
    { BUDP_OS_MACOS, "15.5", 0 },
    { BUDP_OS_MACOS, "15.5.9", 0 },
    { BUDP_OS_MACOS, "15", 0 },
    { BUDP_OS_MACOS, "15.0", 0 },
    { BUDP_OS_MACOS, "14.7.6", 0 },
    { BUDP_OS_MACOS, "10.15.7", 0 },
    { BUDP_OS_MACOS, "11.0", 0 },
    { BUDP_OS_IOS, "18.6", 1 },
    { BUDP_OS_IOS, "18.6.2", 1 },
    { BUDP_OS_IOS, "26.0", 1 },
    { BUDP_OS_IOS, "18.5", 0 },
    { BUDP_OS_IOS, "17.7.10", 0 },
    { BUDP_OS_IOS, "15.6", 0 },      /* macOS's number means nothing here */
    { BUDP_OS_TVOS, "18.6", 1 },
    { BUDP_OS_TVOS, "18.4", 0 },
    { BUDP_OS_WATCHOS, "11.6", 1 },
    { BUDP_OS_WATCHOS, "11.5", 0 },
    { BUDP_OS_WATCHOS, "26.0", 1 },
    { BUDP_OS_VISIONOS, "2.6", 1 },
    { BUDP_OS_VISIONOS, "2.5", 0 },
    { BUDP_OS_VISIONOS, "26.0", 1 },
    { BUDP_OS_DARWIN, "24.6.0", 1 },
    { BUDP_OS_DARWIN, "25.0.0", 1 },
    { BUDP_OS_DARWIN, "24.5.0", 0 },
    { BUDP_OS_DARWIN, "19.6.0", 0 },
    /* Not versions. */
    { BUDP_OS_MACOS, "", -1 },
    { BUDP_OS_MACOS, "15.", -1 },
    { BUDP_OS_MACOS, ".6", -1 },
    { BUDP_OS_MACOS, "15..6", -1 },
    { BUDP_OS_MACOS, "15.6a", -1 },
    { BUDP_OS_MACOS, "15.6 ", -1 },
    { BUDP_OS_MACOS, " 15.6", -1 },
    { BUDP_OS_MACOS, "-15.6", -1 },
    { BUDP_OS_MACOS, "x", -1 },
    { BUDP_OS_MACOS, "123456.1", -1 },
    { BUDP_OS_MACOS, "15.999999", -1 },
    { BUDP_OS_MACOS, NULL, -1 },
};

START_TEST(version_strings)
{
    const struct version_case *c = &versions[_i];

    ck_assert_msg(budp_msgx_version_fixed(c->os, c->version) == c->fixed,
                  "%s \"%s\": %d, expected %d", budp_apple_os_name(c->os),
                  c->version ? c->version : "(null)",
                  budp_msgx_version_fixed(c->os, c->version), c->fixed);
}
END_TEST

START_TEST(release_names)
{
    ck_assert_str_eq(budp_apple_os_name(BUDP_OS_MACOS), "macOS");
    ck_assert_str_eq(budp_msgx_first_fixed(BUDP_OS_MACOS), "15.6");
    ck_assert_str_eq(budp_apple_os_name(BUDP_OS_IOS), "iOS");
    ck_assert_str_eq(budp_msgx_first_fixed(BUDP_OS_IOS), "18.6");
    ck_assert_str_eq(budp_msgx_first_fixed(BUDP_OS_TVOS), "18.6");
    ck_assert_str_eq(budp_msgx_first_fixed(BUDP_OS_WATCHOS), "11.6");
    ck_assert_str_eq(budp_msgx_first_fixed(BUDP_OS_VISIONOS), "2.6");
    ck_assert_str_eq(budp_msgx_first_fixed(BUDP_OS_DARWIN), "24.6");
}
END_TEST

/* The gate reads the emulated sysctl: the product version first, the
 * kernel's release when that is missing or unreadable. */
START_TEST(gate_reads_the_system)
{
    char why[BUDP_REASON_BYTES];

    msgx_shim_os_version("15.5", "24.5.0");
    ck_assert_int_eq(budp_msgx_gate(why, sizeof why), BUDP_MSGX_GATE_OLD);
    ck_assert_str_eq(why, "recvmsg_x avoided below macOS 15.6 (this is macOS 15.5)");

    msgx_shim_os_version("15.6", "24.6.0");
    ck_assert_int_eq(budp_msgx_gate(why, sizeof why), BUDP_MSGX_GATE_OPEN);
    ck_assert_str_eq(why, "recvmsg_x/sendmsg_x, macOS 15.6");

    msgx_shim_os_version(NULL, "24.5.0");
    ck_assert_int_eq(budp_msgx_gate(why, sizeof why), BUDP_MSGX_GATE_OLD);
    ck_assert_str_eq(why, "recvmsg_x avoided below Darwin 24.6 (this is Darwin 24.5.0)");

    msgx_shim_os_version("not a version", "25.1.0");
    ck_assert_int_eq(budp_msgx_gate(why, sizeof why), BUDP_MSGX_GATE_OPEN);
    ck_assert_str_eq(why, "recvmsg_x/sendmsg_x, Darwin 25.1.0");

    msgx_shim_os_version(NULL, NULL);
    ck_assert_int_eq(budp_msgx_gate(why, sizeof why), BUDP_MSGX_GATE_UNKNOWN);
    ck_assert_str_eq(why, "recvmsg_x avoided: the system's version could not be read");

    /* Too long for the library's buffer: not read, not cut. */
    msgx_shim_os_version("15.6.1.1.1.1.1.1.1.1.1.1.1.1.1.1", NULL);
    ck_assert_int_eq(budp_msgx_gate(why, sizeof why), BUDP_MSGX_GATE_UNKNOWN);
}
END_TEST

static const struct budp_backend *choose(const struct budp_backend *const *list,
                                         size_t n, int id, char *reason, int *err)
{
    return budp_backend_choose(list, n, id, err, reason, BUDP_REASON_BYTES);
}

/* The real msgx and loop backends, as an Apple build lists them. */
START_TEST(auto_avoids_msgx_below_15_6)
{
    static const struct budp_backend *const apple[] = { &budp_backend_msgx,
                                                        &budp_backend_loop };
    char reason[BUDP_REASON_BYTES];
    const struct budp_backend *b;
    int err = 1;

    msgx_shim_os_version("15.5", "24.5.0");
    b = choose(apple, 2, BUDP_BACKEND_AUTO, reason, &err);
    ck_assert_ptr_eq(b, &budp_backend_loop);
    ck_assert_int_eq(err, 0);
    ck_assert_str_eq(reason, "loop: recvmsg_x avoided below macOS 15.6 (this is macOS 15.5)");

    /* Asked for by name, it is still there. */
    b = choose(apple, 2, BUDP_BACKEND_MSGX, reason, &err);
    ck_assert_ptr_eq(b, &budp_backend_msgx);
    ck_assert_str_eq(reason, "msgx: asked for by BUDP_OPT_BACKEND (AUTO passes it over: "
                             "recvmsg_x avoided below macOS 15.6 (this is macOS 15.5))");

    msgx_shim_os_version("14.7.6", NULL);
    ck_assert_ptr_eq(choose(apple, 2, BUDP_BACKEND_AUTO, reason, &err), &budp_backend_loop);
    msgx_shim_os_version(NULL, NULL);
    ck_assert_ptr_eq(choose(apple, 2, BUDP_BACKEND_AUTO, reason, &err), &budp_backend_loop);
    ck_assert_str_eq(reason, "loop: recvmsg_x avoided: the system's version could not be read");

    msgx_shim_os_version("15.6", "24.6.0");
    b = choose(apple, 2, BUDP_BACKEND_AUTO, reason, &err);
    ck_assert_ptr_eq(b, &budp_backend_msgx);
    ck_assert_str_eq(reason, "msgx: recvmsg_x/sendmsg_x, macOS 15.6");

    b = choose(apple, 2, BUDP_BACKEND_LOOP, reason, &err);
    ck_assert_ptr_eq(b, &budp_backend_loop);
    ck_assert_str_eq(reason, "loop: asked for by BUDP_OPT_BACKEND (recvmsg/sendmsg, "
                             "one datagram per call)");
}
END_TEST

START_TEST(linux_list)
{
#ifdef HAVE_RECVMMSG
    static const struct budp_backend *const mmsg_first[] = {
        &budp_backend_mmsg, &budp_backend_msgx, &budp_backend_loop
    };
    char reason[BUDP_REASON_BYTES];
    int err = 1;

    msgx_shim_os_version("15.5", NULL);
    ck_assert_ptr_eq(choose(mmsg_first, 3, BUDP_BACKEND_AUTO, reason, &err),
                     &budp_backend_mmsg);
    ck_assert_str_eq(reason, "mmsg: recvmmsg/sendmmsg");
    /* A backend this build does not have, or no such id. */
    ck_assert_ptr_null(choose(mmsg_first + 1, 2, BUDP_BACKEND_MMSG, reason, &err));
    ck_assert_int_eq(err, -ENOTSUP);
    err = 1;
    ck_assert_ptr_null(choose(mmsg_first, 3, 99, reason, &err));
    ck_assert_int_eq(err, -ENOTSUP);
#else
    printf("linux_list: skipped, this system has no recvmmsg\n");
#endif
}
END_TEST

/* Made-up backends: each verdict, in each place of the list. */
static int probe_absent(char *why, size_t size)
{
    snprintf(why, size, "calls missing");
    return BUDP_PROBE_ABSENT;
}

static int probe_asked_only(char *why, size_t size)
{
    snprintf(why, size, "a known bug");
    return BUDP_PROBE_ASKED_ONLY;
}

static int probe_ready(char *why, size_t size)
{
    snprintf(why, size, "fine");
    return BUDP_PROBE_READY;
}

static int probe_forbidden(char *why, size_t size)
{
    snprintf(why, size, "refused by the kernel");
    return -EPERM;
}

static const struct budp_backend forbidden = { .name = "forbidden", .id = 14,
                                               .probe = probe_forbidden };
static const struct budp_backend absent = { .name = "absent", .id = 11, .probe = probe_absent };
static const struct budp_backend buggy = { .name = "buggy", .id = 12, .probe = probe_asked_only };
static const struct budp_backend ready = { .name = "ready", .id = 13, .probe = probe_ready };

START_TEST(verdicts)
{
    static const struct budp_backend *const list[] = { &absent, &buggy, &ready };
    char reason[BUDP_REASON_BYTES];
    int err = 1;

    /* AUTO: the first backend passed over says why. */
    ck_assert_ptr_eq(choose(list, 3, BUDP_BACKEND_AUTO, reason, &err), &ready);
    ck_assert_str_eq(reason, "ready: calls missing");
    ck_assert_ptr_eq(choose(list + 1, 2, BUDP_BACKEND_AUTO, reason, &err), &ready);
    ck_assert_str_eq(reason, "ready: a known bug");
    ck_assert_ptr_eq(choose(list + 2, 1, BUDP_BACKEND_AUTO, reason, &err), &ready);
    ck_assert_str_eq(reason, "ready: fine");
    /* Nothing ready: AUTO finds none. */
    ck_assert_ptr_null(choose(list, 2, BUDP_BACKEND_AUTO, reason, &err));
    ck_assert_int_eq(err, -ENOTSUP);
    /* By name: absent refused, asked-only taken. */
    ck_assert_ptr_null(choose(list, 3, 11, reason, &err));
    ck_assert_int_eq(err, -ENOTSUP);
    ck_assert_ptr_eq(choose(list, 3, 12, reason, &err), &buggy);
    ck_assert_int_eq(err, 0);
    ck_assert_str_eq(reason, "buggy: asked for by BUDP_OPT_BACKEND (AUTO passes it over: a known bug)");
    /* Forbidden by the system: AUTO goes on, by name its error. */
    {
        static const struct budp_backend *const refusing[] = { &forbidden, &ready };

        ck_assert_ptr_eq(choose(refusing, 2, BUDP_BACKEND_AUTO, reason, &err), &ready);
        ck_assert_int_eq(err, 0);
        ck_assert_str_eq(reason, "ready: refused by the kernel");
        ck_assert_ptr_null(choose(refusing, 2, 14, reason, &err));
        ck_assert_int_eq(err, -EPERM);
    }
    /* A reason longer than the room is cut, and still ends. */
    {
        char small[12];
        ck_assert_ptr_eq(budp_backend_choose(list, 3, 12, &err, small, sizeof small), &buggy);
        ck_assert_str_eq(small, "buggy: aske");
    }
}
END_TEST

/* BATCHUDP_BACKEND makes AUTO take the backend it names, as if asked for
 * by name; anything else leaves AUTO alone, and a name never overrides
 * BUDP_OPT_BACKEND. */
static const char *bound_backend(int id, char *reason, size_t size)
{
    static char name[16];
    budp_options *o = tu_options(BUDP_OPT_BACKEND, (int64_t)id, 0);
    budp_socket *s = NULL;

    ck_assert_int_eq(budp_bind(&s, "127.0.0.1", 0, o), 0);
    snprintf(name, sizeof name, "%s", budp_backend_name(s));
    snprintf(reason, size, "%s", budp_backend_reason(s));
    budp_close(s);
    budp_options_free(o);
    return name;
}

START_TEST(environment_names_the_backend)
{
#ifdef HAVE_RECVMMSG
    char reason[BUDP_REASON_BYTES];

    ck_assert_int_eq(setenv("BATCHUDP_BACKEND", "loop", 1), 0);
    ck_assert_str_eq(bound_backend(BUDP_BACKEND_AUTO, reason, sizeof reason), "loop");
    ck_assert_str_eq(reason, "loop: asked for by BATCHUDP_BACKEND (recvmsg/sendmsg, "
                             "one datagram per call)");
    ck_assert_str_eq(bound_backend(BUDP_BACKEND_MMSG, reason, sizeof reason), "mmsg");
    ck_assert_int_eq(setenv("BATCHUDP_BACKEND", "no-such-backend", 1), 0);
    ck_assert_str_eq(bound_backend(BUDP_BACKEND_AUTO, reason, sizeof reason), "mmsg");
    ck_assert_int_eq(unsetenv("BATCHUDP_BACKEND"), 0);
    ck_assert_str_eq(bound_backend(BUDP_BACKEND_AUTO, reason, sizeof reason), "mmsg");
#else
    printf("environment_names_the_backend: skipped, this system has no recvmmsg\n");
#endif
}
END_TEST

static Suite *choice_suite(void)
{
    Suite *s = suite_create("backend_choice");
    TCase *tc = tcase_create("choice");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_loop_test(tc, version_strings, 0,
                        (int)(sizeof versions / sizeof versions[0]));
    tcase_add_test(tc, release_names);
    tcase_add_test(tc, gate_reads_the_system);
    tcase_add_test(tc, auto_avoids_msgx_below_15_6);
    tcase_add_test(tc, linux_list);
    tcase_add_test(tc, verdicts);
    tcase_add_test(tc, environment_names_the_backend);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(choice_suite());
}
