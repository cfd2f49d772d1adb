/* Subcommands of the pdsim command line. Each returns the exit status:
 * 0 success, 1 runtime failure, 2 bad usage or bad input. */
#ifndef PDS_CLI_H
#define PDS_CLI_H

#include <stdio.h>

#include "../core/compare_fc.h"
#include "../core/diag.h"
#include "../core/insample.h"
#include "../core/summary.h"
#include "../io/outfile.h"
#include "../io/setup.h"

int pds_cmd_run(int argc, char **argv);
int pds_cmd_validate(int argc, char **argv);
int pds_cmd_fit(int argc, char **argv);
int pds_cmd_compare(int argc, char **argv);
int pds_cmd_help(int argc, char **argv);
int pds_cmd_describe(int argc, char **argv);
int pds_cmd_summary(int argc, char **argv);
int pds_cmd_report(int argc, char **argv);
int pds_cmd_backtest(int argc, char **argv);
int pds_cmd_sweep(int argc, char **argv);
int pds_cmd_merge(int argc, char **argv);
int pds_cmd_study(int argc, char **argv);
int pds_cmd_calibrate(int argc, char **argv);

/* Print every message of diag to stderr, prefixed "pdsim: error: ". */
void pds_cli_print_diag(const pds_diag *d);
/* Terminal columns of a UTF-8 string (East Asian wide characters take
 * two), and the string padded with spaces to width columns. */
int pds_cli_display_width(const char *s);
void pds_cli_print_padded(const char *s, int width);
/* A year, or ">LAST" for 0 (not adopted by the horizon LAST); and a range
 * of two such years, "2026–2032", ">2035", or one year when both agree. */
void pds_cli_year_text(char *buf, size_t n, int y, int last);
void pds_cli_year_range(char *buf, size_t n, int lo, int hi, int last);

/* The reliability note printed beside a forecast: the in-sample check per
 * period, the dataset's provenance counts, and warnings when the check
 * fails or the forecast carries no parameter uncertainty. */
void pds_cli_print_reliability(const pds_insample *q, const pds_backtest_reliability *bt,
                               const char *provenance, const char *uncertainty, size_t n_models);

/* The stdout summary of a finished run: a line on the model, then
 * pds_cli_print_forecast. */
void pds_cli_print_summary(const pds_setup *s, const pds_summary *sum);
/* What the forecast tables show of the units; all arrays [n_units]. */
typedef struct pds_cli_forecast_view {
    size_t n_units;
    const char *const *codes, *const *names;
    const int *observed; /* observed adoption year, 0 = none */
    long base_year;
    int last_year;
    const long *report_years; /* the years of the P(adopted by) columns */
    size_t n_report_years;
} pds_cli_forecast_view;
/* The forecast tables, the same for run and summary: the units not adopted
 * by the base year (median year, 10-90% range, P(adopted by each report
 * year)) and the national curve. */
void pds_cli_print_forecast(const pds_cli_forecast_view *v, const pds_summary *sum);
/* (result_csv.c) Write the tidy CSV summaries of a run result file into dir (created if
 * needed); with bom a UTF-8 byte-order mark, with runs also runs.csv.
 * Returns the exit status. */
int pds_cli_summary_csv(const char *path, const char *dir, int bom, int runs, int replace);
/* The same from the summaries of an open run file (sim/io/resultread.h). */
struct pds_runtables;
int pds_cli_write_run_csvs(const struct pds_runtables *f, const char *dir, int bom, int runs,
                           int replace);
/* 1 when path is a sweep file (merged or a part). */
int pds_cli_is_sweep(const char *path);
/* pdsim summary of a merged sweep file: a table on stdout unless quiet;
 * with dir, points.csv, point_year.csv and (Sobol) sobol_indices.csv in it.
 * Returns the exit status. */
int pds_cli_sweep_summary(const char *path, const char *dir, int bom, int quiet);
/* A CSV text field (pds_csv_text: quoted when needed, formulas neutralised). */
void pds_cli_csv_field(FILE *f, const char *s);
/* A CSV file written safely (pds_csvfile_begin, pds_outfile_commit), the
 * messages printed: 0, or the exit status. */
int pds_cli_csv_begin(pds_outfile *o, const char *dir, const char *name, int bom,
                      const char *header, const pds_inset *in);
int pds_cli_csv_end(pds_outfile *o);
/* Create the folder dir unless it exists; 0, or 1 with a message. */
int pds_cli_make_dir(const char *dir);
/* Create the folder that will hold the file path (mkdir -p); 0 or 1. */
int pds_cli_make_parent(const char *path);

/* The Sobol index table of a merged sweep file on stdout (nothing when it
 * has none). */
void pds_cli_print_sobol(const char *merged);
/* The cases every subcommand's getopt_long loop (optstring starting with
 * ':', opterr = 0) shares, for c = 'h', ':' or '?': -h/--help prints the
 * verb's help (exit 0); a missing value or an unknown option is a usage
 * error naming the option (exit 2). Returns the exit status. */
int pds_cli_getopt_other(int c, const char *verb, char **argv);
/* Map a status to the exit code. */
int pds_cli_exit(pds_status st);

#endif
