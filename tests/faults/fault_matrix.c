/* fault_matrix.c - the fault matrix: every scenario of fault_scenario, each
 * in a process of its own with the fault shim preloaded and its rules in
 * BUDP_FAULTS, several at once.
 *
 *   fault_matrix [--only traffic|crafted|setup] [--jobs N] [--list]
 *
 * Traffic: each receive mode, IPv4 and IPv6, the mmsg and loop backends,
 * GSO/GRO on and off, against errors of each receive, send, poll and
 * wake-up call (every few calls, a limited number of times, so that the
 * traffic also recovers), short counts, and a fatal EBADF.  Crafted: the
 * kernel's receive results rewritten.  Setup: the k-th allocation, socket
 * option or thread creation the library makes fails, for k = 1, 2, ...
 * until a run where the k-th never comes.
 *
 * A scenario fails when its checks fail, it crashes, or it runs past
 * SCENARIO_TIMEOUT_S (a hang).  Prints each failure with the command that
 * reproduces it, then a summary; exits 1 when any scenario failed. */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "matrix.h"

#define SCENARIO_TIMEOUT_S 60
#define MAX_JOBS 8

static const char *scenario_path, *preload_path;
static unsigned failed_count, run_count, crash_count;

static double now_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void command_of(const struct job *j, char *buf, size_t size)
{
    snprintf(buf, size, "LD_PRELOAD=%s BUDP_FAULTS='%s' %s %s %s %s %s %s %s",
             preload_path, j->faults, scenario_path, j->kind, j->mode, j->family,
             j->backend, j->gso, j->surfaces);
}

static pid_t start(struct job *j)
{
    char asan[512];
    const char *old = getenv("ASAN_OPTIONS");
    FILE *out = tmpfile();
    pid_t pid;

    if (out == NULL) {
        perror("tmpfile");
        exit(2);
    }
    j->output = out;
    /* Preloading before the sanitizer's runtime is what this test does
     * on purpose. */
    snprintf(asan, sizeof asan, "%s%sverify_asan_link_order=0", old ? old : "",
             old ? ":" : "");
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        dup2(fileno(out), STDOUT_FILENO);
        dup2(fileno(out), STDERR_FILENO);
        setenv("LD_PRELOAD", preload_path, 1);
        setenv("BUDP_FAULTS", j->faults, 1);
        setenv("ASAN_OPTIONS", asan, 1);
        execl(scenario_path, scenario_path, j->kind, j->mode, j->family, j->backend,
              j->gso, j->surfaces, (char *)NULL);
        _exit(127);
    }
    if (pid < 0) {
        perror("fork");
        exit(2);
    }
    j->started = now_s();
    return pid;
}

static void finish(struct job *j, int status, int timed_out)
{
    char line[4096], cmd[1024];
    const char *injected, *why = NULL;
    size_t n;

    rewind(j->output);
    n = fread(line, 1, sizeof line - 1, j->output);
    line[n] = '\0';
    fclose(j->output);
    injected = strstr(line, "injected=");
    j->injected = injected != NULL ? (unsigned)strtoul(injected + 9, NULL, 10) : 0;
    run_count++;
    if (timed_out)
        why = "hung";
    else if (WIFSIGNALED(status))
        why = strsignal(WTERMSIG(status));
    else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        why = "checks";
    /* A fault that never fired tested nothing: the shim lost track of the
     * library, or the scenario never reaches the call. */
    else if (j->injected == 0 && j->must_fire)
        why = "the fault never fired";
    j->passed = why == NULL;
    if (j->passed)
        return;
    failed_count++;
    if (timed_out || WIFSIGNALED(status))
        crash_count++;
    command_of(j, cmd, sizeof cmd);
    printf("FAILED (%s): %s\n%s\n", why, cmd, line);
}

/* Run jobs[0..n) with up to `parallel` at once. */
static void run_jobs(struct job *jobs, unsigned n, unsigned parallel)
{
    pid_t pids[MAX_JOBS];
    struct job *running[MAX_JOBS];
    unsigned next = 0, busy = 0;

    while (next < n || busy > 0) {
        int status;
        pid_t pid;

        while (busy < parallel && next < n) {
            running[busy] = &jobs[next++];
            pids[busy] = start(running[busy]);
            busy++;
        }
        pid = waitpid(-1, &status, WNOHANG);
        if (pid == 0) {
            struct timespec pause = { 0, 2000000 };
            nanosleep(&pause, NULL);
            for (unsigned i = 0; i < busy; i++)
                if (now_s() - running[i]->started > SCENARIO_TIMEOUT_S) {
                    kill(pids[i], SIGKILL);
                    waitpid(pids[i], &status, 0);
                    finish(running[i], status, 1);
                    running[i] = running[--busy];
                    pids[i] = pids[busy];
                    break;
                }
            continue;
        }
        if (pid < 0)
            break;
        for (unsigned i = 0; i < busy; i++)
            if (pids[i] == pid) {
                finish(running[i], status, 0);
                running[i] = running[--busy];
                pids[i] = pids[busy];
                break;
            }
    }
}

/* Setup series: run the k-th step of every series still going, until each
 * has met a k its fault never reaches. */
static unsigned run_series(struct series *s, unsigned n, unsigned parallel)
{
    struct job *jobs = calloc(n, sizeof *jobs);
    unsigned runs = 0;

    for (unsigned k = 1; k <= MAX_SERIES_STEPS; k++) {
        unsigned batch = 0;
        for (unsigned i = 0; i < n; i++)
            if (s[i].going)
                matrix_series_job(&s[i], k, &jobs[batch++]);
        if (batch == 0)
            break;
        run_jobs(jobs, batch, parallel);
        runs += batch;
        for (unsigned i = 0, b = 0; i < n; i++)
            if (s[i].going) {
                /* Keep going while the fault fires; a failure ends the
                 * series too (it has been reported). */
                s[i].going = jobs[b].passed && jobs[b].injected > 0;
                s[i].steps = k;
                b++;
            }
    }
    free(jobs);
    return runs;
}

static const char *built(const char *rel)
{
    const char *top = getenv("abs_top_builddir");
    char *path;

    if (top == NULL)
        top = ".";
    if (asprintf(&path, "%s/%s", top, rel) < 0)
        exit(2);
    if (access(path, R_OK) != 0) {
        fprintf(stderr, "fault_matrix: %s not found (abs_top_builddir=%s)\n", path, top);
        exit(2);
    }
    return path;
}

int main(int argc, char **argv)
{
    const char *only = NULL;
    unsigned parallel = (unsigned)sysconf(_SC_NPROCESSORS_ONLN), listing = 0;
    struct job *jobs;
    struct series *series;
    unsigned njobs, nseries, series_runs = 0;
    double t0 = now_s();

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (strcmp(argv[i], "--jobs") == 0 && i + 1 < argc)
            parallel = (unsigned)atoi(argv[++i]);
        else if (strcmp(argv[i], "--list") == 0)
            listing = 1;
        else {
            fprintf(stderr, "usage: fault_matrix [--only traffic|crafted|setup] "
                            "[--jobs N] [--list]\n");
            return 2;
        }
    }
    if (parallel < 1)
        parallel = 1;
    if (parallel > MAX_JOBS)
        parallel = MAX_JOBS;
    scenario_path = built("tests/faults/fault_scenario");
    preload_path = built("tests/faults/budp_fault.so");
    setvbuf(stdout, NULL, _IOLBF, 0);

    njobs = matrix_jobs(&jobs, only);
    nseries = matrix_series(&series, only);
    if (listing) {
        char cmd[1024];
        for (unsigned i = 0; i < njobs; i++) {
            command_of(&jobs[i], cmd, sizeof cmd);
            puts(cmd);
        }
        printf("%u scenarios, and %u setup series (k = 1, 2, ...)\n", njobs, nseries);
        return 0;
    }
    run_jobs(jobs, njobs, parallel);
    series_runs = run_series(series, nseries, parallel);
    printf("fault matrix: %u scenarios run (%u traffic/crafted, %u setup steps in "
           "%u series), %u failed (%u crashed or hung), %.1f s\n",
           run_count, njobs, series_runs, nseries, failed_count, crash_count,
           now_s() - t0);
    free(jobs);
    free(series);
    return failed_count > 0 ? 1 : 0;
}
