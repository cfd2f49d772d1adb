/* The reader of run files used by `pdsim compare`: the input is a result
 * file, compared with itself (so that every check that pairs two files
 * passes and the runs, the sub-units' years, the names and the configs are
 * all read), the table sent to /dev/null. */
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
    char path[4096];
    snprintf(path, sizeof path, "%s", p);
    char *argv[] = {"compare", path, path, NULL};
    optind = 0;
    pds_cmd_compare(3, argv);
    return 0;
}
