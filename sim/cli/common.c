#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../io/outfile.h"
#include "cli.h"

void pds_cli_print_diag(const pds_diag *d)
{
    for (size_t i = 0; i < d->n; i++)
        fprintf(stderr, "pdsim: error: %s\n", d->msgs[i]);
    if (d->dropped)
        fprintf(stderr, "pdsim: error: ... and %zu more\n", d->dropped);
}

int pds_cli_exit(pds_status st)
{
    return st == PDS_OK ? 0 : st == PDS_ERR_INPUT ? 2 : st == PDS_ERR_BUSY ? 4 : 1;
}

void pds_cli_csv_field(FILE *f, const char *s)
{
    pds_csv_text(f, s);
}

int pds_cli_csv_begin(pds_outfile *o, const char *dir, const char *name, int bom,
                      const char *header, const pds_inset *in)
{
    pds_diag d;
    pds_diag_init(&d);
    pds_status st = pds_csvfile_begin(o, dir, name, bom, header, in, &d);
    pds_cli_print_diag(&d);
    pds_diag_free(&d);
    return pds_cli_exit(st);
}

int pds_cli_csv_end(pds_outfile *o)
{
    pds_diag d;
    pds_diag_init(&d);
    pds_status st = pds_outfile_commit(o, &d);
    pds_cli_print_diag(&d);
    pds_diag_free(&d);
    return pds_cli_exit(st);
}

int pds_cli_make_dir(const char *dir)
{
    struct stat st;
    char failed[4096];
    if (pds_mkdirs(dir, failed, sizeof failed) != 0) {
        fprintf(stderr, "pdsim: error: %s: cannot create the folder (%s)\n", failed,
                strerror(errno));
        return 1;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "pdsim: error: %s: not a folder\n", dir);
        return 1;
    }
    return 0;
}

int pds_cli_make_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return 0;
    char *dir = strndup(path, (size_t)(slash - path));
    if (!dir) {
        fprintf(stderr, "pdsim: error: out of memory\n");
        return 1;
    }
    int rc = pds_cli_make_dir(dir);
    free(dir);
    return rc;
}

int pds_cli_getopt_other(int c, const char *verb, char **argv)
{
    if (c == 'h') {
        char *topic[] = {(char *)verb};
        return pds_cmd_help(1, topic);
    }
    if (c == ':')
        fprintf(stderr, "pdsim: error: option '%s' needs a value\n", argv[optind - 1]);
    else
        fprintf(stderr, "pdsim: error: unknown option '%s'; see 'pdsim help %s'\n",
                argv[optind - 1], verb);
    return 2;
}
