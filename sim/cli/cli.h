/* Subcommands of the pdsim command line. Each returns the exit status:
 * 0 success, 1 runtime failure, 2 bad usage or bad input. */
#ifndef PDS_CLI_H
#define PDS_CLI_H

#include "../core/diag.h"
#include "../core/summary.h"
#include "../io/setup.h"

int pds_cmd_run(int argc, char **argv);
int pds_cmd_validate(int argc, char **argv);
int pds_cmd_fit(int argc, char **argv);
int pds_cmd_compare(int argc, char **argv);
int pds_cmd_help(int argc, char **argv);
int pds_cmd_describe(int argc, char **argv);
int pds_cmd_backtest(int argc, char **argv);

/* Print every message of diag to stderr, prefixed "pdsim: error: ". */
void pds_cli_print_diag(const pds_diag *d);
/* The stdout summary of a finished run. */
void pds_cli_print_summary(const pds_setup *s, const pds_summary *sum);
/* Map a status to the exit code. */
int pds_cli_exit(pds_status st);

#endif
