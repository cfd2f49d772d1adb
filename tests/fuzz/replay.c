/* Runs a fuzz harness once on each file given, or on each file of each
 * folder given: the corpus and every past crash replayed as a test in a
 * build without libFuzzer. A crash or sanitizer report fails the test. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    size_t k;
    while (buf && (k = fread(buf + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            uint8_t *b = realloc(buf, cap *= 2);
            if (!b) {
                free(buf);
                buf = NULL;
            }
            buf = b;
        }
    }
    fclose(f);
    if (!buf)
        return -1;
    LLVMFuzzerTestOneInput(buf, n);
    free(buf);
    return 0;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    size_t done = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            return 1;
        }
        if (!S_ISDIR(st.st_mode)) {
            if (run_file(argv[i]) != 0)
                return 1;
            done++;
            continue;
        }
        struct dirent **list;
        int n = scandir(argv[i], &list, NULL, NULL);
        if (n < 0) {
            perror(argv[i]);
            return 1;
        }
        char **names = calloc((size_t)n + 1, sizeof(char *));
        int m = 0;
        for (int j = 0; j < n; j++) {
            if (list[j]->d_name[0] != '.')
                names[m++] = strdup(list[j]->d_name);
            free(list[j]);
        }
        free(list);
        qsort(names, (size_t)m, sizeof(char *), cmp);
        for (int j = 0; j < m; j++) {
            char path[8192];
            snprintf(path, sizeof path, "%s/%s", argv[i], names[j]);
            printf("%s\n", path);
            fflush(stdout);
            if (run_file(path) != 0)
                return 1;
            done++;
            free(names[j]);
        }
        free(names);
    }
    printf("%zu inputs replayed without a crash\n", done);
    return done ? 0 : 1;
}
