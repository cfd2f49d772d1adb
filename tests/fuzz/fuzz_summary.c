/* The reader of result files used by `pdsim summary`: the input is a result
 * file, summarised on stdout (sent to /dev/null) and written as the tidy CSV
 * files of `summary --csv` (runs.csv included). */
#include <stdio.h>
#include <unistd.h>

#include "cli/cli.h"
#include "fuzz_common.h"

extern int optind;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        init = 1;
        if (!freopen("/dev/null", "w", stdout))
            return 0;
    }
    const char *p = pds_fuzz_write("result.h5", data, size);
    if (!p)
        return 0;
    char path[4096], dir[4096];
    snprintf(path, sizeof path, "%s", p);
    snprintf(dir, sizeof dir, "%s", pds_fuzz_path("csv"));
    char *argv[] = {"summary", path, NULL};
    optind = 0;
    pds_cmd_summary(2, argv);
    pds_cli_summary_csv(path, dir, 0, 1, 1);
    return 0;
}
