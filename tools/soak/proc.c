/* proc.c - the figures the soak samples from /proc (Linux). */
#include "config.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soak.h"

long soak_rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;

    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kib;
}

int soak_fd_count(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1; /* the directory's own fd */
}

uint64_t soak_udp_noports(void)
{
    FILE *f = fopen("/proc/net/snmp", "r");
    char names[1024], values[1024];
    uint64_t v = 0;

    if (f == NULL)
        return 0;
    /* Two lines per protocol: the field names, then the values. */
    while (fgets(names, sizeof names, f) != NULL &&
           fgets(values, sizeof values, f) != NULL) {
        char *np, *vp, *n, *x;

        if (strncmp(names, "Udp:", 4) != 0)
            continue;
        n = strtok_r(names, " \n", &np);
        x = strtok_r(values, " \n", &vp);
        while (n != NULL && x != NULL) {
            if (strcmp(n, "NoPorts") == 0)
                v = strtoull(x, NULL, 10);
            n = strtok_r(NULL, " \n", &np);
            x = strtok_r(NULL, " \n", &vp);
        }
        break;
    }
    fclose(f);
    return v;
}

uint64_t soak_backlog_drops(void)
{
    FILE *f = fopen("/proc/net/softnet_stat", "r");
    char line[512];
    uint64_t total = 0;

    if (f == NULL)
        return 0;
    /* One line per CPU, hexadecimal; the second field counts the packets
     * dropped for a full backlog. */
    while (fgets(line, sizeof line, f) != NULL) {
        char *end;

        strtoull(line, &end, 16);
        total += strtoull(end, NULL, 16);
    }
    fclose(f);
    return total;
}
