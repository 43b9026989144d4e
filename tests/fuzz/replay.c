/* replay.c - runs a fuzz target over stored inputs without libFuzzer, so
 * that make check replays the corpus with any compiler.  Arguments are
 * files or directories (every regular file in them, not recursively);
 * without any, the target's seed corpus under $abs_top_srcdir, which is
 * how make check runs it. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0, got;

    if (f == NULL) {
        perror(path);
        return -1;
    }
    do {
        if (len == cap) {
            uint8_t *grown;
            cap = cap ? cap * 2 : 4096;
            grown = realloc(buf, cap);
            if (grown == NULL) {
                fclose(f);
                free(buf);
                fprintf(stderr, "%s: out of memory\n", path);
                return -1;
            }
            buf = grown;
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
    } while (got > 0);
    if (ferror(f)) {
        perror(path);
        fclose(f);
        free(buf);
        return -1;
    }
    fclose(f);
    /* An input that breaks an invariant aborts here, naming the file
     * printed just before. */
    fprintf(stderr, "replay %s\n", path);
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    return 1;
}

static int run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int count = 0;

    if (d == NULL) {
        perror(dir);
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        size_t n = strlen(dir) + strlen(e->d_name) + 2;
        char *path = malloc(n);
        int rc;

        if (path == NULL) {
            closedir(d);
            return -1;
        }
        snprintf(path, n, "%s/%s", dir, e->d_name);
        rc = 0;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
            rc = run_file(path);
        free(path);
        if (rc < 0) {
            closedir(d);
            return -1;
        }
        count += rc;
    }
    closedir(d);
    return count;
}

static int run_path(const char *path)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        perror(path);
        return -1;
    }
    return S_ISDIR(st.st_mode) ? run_dir(path) : run_file(path);
}

int main(int argc, char **argv)
{
    int total = 0;

#ifdef FUZZ_CORPUS
    const char *top = getenv("abs_top_srcdir");

    if (argc < 2 && top != NULL) {
        char path[4096];
        snprintf(path, sizeof path, "%s/tests/fuzz/corpus/%s", top, FUZZ_CORPUS);
        total = run_path(path);
        if (total < 0)
            return 1;
    }
#endif
    if (argc < 2 && total == 0) {
        fprintf(stderr, "usage: %s FILE-OR-DIRECTORY...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        int n = run_path(argv[i]);
        if (n < 0)
            return 1;
        total += n;
    }
    /* An empty corpus would pass without testing anything. */
    if (total == 0) {
        fprintf(stderr, "%s: no inputs found\n", argv[0]);
        return 1;
    }
    printf("%s: %d inputs replayed\n", argv[0], total);
    return 0;
}
