/* The check of an HDF5 file before pdsim opens it: the library reads the
 * file's objects in a child process first (h5probe.h). */
#include "h5probe.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Present only in a build with a sanitizer (and libFuzzer), where a report
 * in the child would otherwise run the parent's death callback. */
extern void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

#if defined(__SANITIZE_ADDRESS__)
#define PROBE_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PROBE_SANITIZED 1
#endif
#endif

/* The most a single read of the walk takes: a block of rows of a dataset,
 * or an attribute. */
#define PROBE_BLOCK ((size_t)16 << 20)

/* Superblock version of the file at fd: the signature is at 0, 512, 1024,
 * 2048, ... (after a user block). -1 when none is found in the file. */
static int superblock_version(int fd, off_t size)
{
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    for (off_t at = 0; at + 9 <= size; at = at ? at * 2 : 512) {
        unsigned char b[9];
        if (pread(fd, b, sizeof b, at) != (ssize_t)sizeof b)
            return -1;
        if (memcmp(b, sig, sizeof sig) == 0)
            return b[8];
        if (at > ((off_t)1 << 40))
            break;
    }
    return -1;
}

/* Give back what the library allocated for the variable-length elements
 * of buf (space in type) when it read them. */
static void reclaim(hid_t type, hid_t space, void *buf)
{
    if (H5Tdetect_class(type, H5T_VLEN) > 0 || H5Tis_variable_str(type) > 0)
        H5Dvlen_reclaim(type, space, H5P_DEFAULT, buf);
}

static hid_t memory_type(hid_t ftype)
{
    hid_t t = H5Tget_native_type(ftype, H5T_DIR_DEFAULT);
    return t >= 0 ? t : H5Tcopy(ftype);
}

/* Close a memory type, a file type and a dataspace, each when open. */
static void close_types(hid_t mt, hid_t ft, hid_t sp)
{
    if (mt >= 0)
        H5Tclose(mt);
    if (ft >= 0)
        H5Tclose(ft);
    if (sp >= 0)
        H5Sclose(sp);
}

static herr_t walk_attr(hid_t loc, const char *name, const H5A_info_t *info, void *data)
{
    (void)info;
    (void)data;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0)
        return 0;
    hid_t ft = H5Aget_type(a), sp = H5Aget_space(a);
    hid_t mt = ft >= 0 ? memory_type(ft) : -1;
    hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    size_t es = mt >= 0 ? H5Tget_size(mt) : 0;
    if (n > 0 && es > 0 && (size_t)n <= PROBE_BLOCK / es) {
        void *buf = calloc((size_t)n, es);
        if (buf && H5Aread(a, mt, buf) >= 0)
            reclaim(mt, sp, buf);
        free(buf);
    }
    close_types(mt, ft, sp);
    H5Aclose(a);
    return 0;
}

/* Whether the dataset's data carry HDF5's Fletcher-32 checksum. */
static int has_checksum(hid_t d)
{
    hid_t p = H5Dget_create_plist(d);
    if (p < 0)
        return 0;
    unsigned flags = 0;
    size_t nv = 0;
    int yes = H5Pget_filter_by_id2(p, H5Z_FILTER_FLETCHER32, &flags, &nv, NULL, 0, NULL, NULL) >= 0;
    H5Pclose(p);
    return yes;
}

/* Read all of d, a block of whole rows (or, when a row is too large, of
 * whole elements along the last dimensions) at a time. */
static void walk_data(hid_t d)
{
    hid_t sp = H5Dget_space(d), ft = H5Dget_type(d);
    hid_t mt = ft >= 0 ? memory_type(ft) : -1;
    int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    size_t es = mt >= 0 ? H5Tget_size(mt) : 0;
    hsize_t dims[H5S_MAX_RANK];
    if (rank < 0 || rank > H5S_MAX_RANK || es == 0 || es > PROBE_BLOCK ||
        H5Sget_simple_extent_dims(sp, dims, NULL) != rank)
        goto done;
    /* a dataset far larger than what the file stores of it (chunks never
     * written) is not read: reading it would only produce fill values, and
     * the readers refuse a dataset whose data are not all stored */
    hssize_t points = H5Sget_simple_extent_npoints(sp);
    hsize_t stored = H5Dget_storage_size(d);
    if (points < 0 || (double)points * (double)es > 256.0 * (double)stored + 64e6)
        goto done;
    if (rank == 0) {
        void *buf = calloc(1, es);
        if (buf && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0)
            reclaim(mt, sp, buf);
        free(buf);
        goto done;
    }
    /* the first dimension k whose trailing elements fit a block: blocks
     * along k, one index at a time along the dimensions before it */
    int k = rank - 1;
    hsize_t inner = 1;
    for (int j = rank - 1; j > 0; j--) {
        if (dims[j] && inner > PROBE_BLOCK / es / dims[j])
            break;
        inner *= dims[j];
        k = j - 1;
    }
    if (inner == 0)
        goto done;
    hsize_t per = (PROBE_BLOCK / es) / inner;
    if (per == 0)
        per = 1;
    void *buf = malloc((size_t)(per * inner) * es);
    if (!buf)
        goto done;
    hsize_t start[H5S_MAX_RANK] = {0}, count[H5S_MAX_RANK];
    for (;;) {
        for (int j = 0; j < rank; j++)
            count[j] = j < k ? 1 : dims[j];
        for (hsize_t at = 0; at < dims[k]; at += per) {
            start[k] = at;
            count[k] = dims[k] - at < per ? dims[k] - at : per;
            hid_t ms = H5Screate_simple(rank, count, NULL);
            if (ms < 0 || H5Sselect_hyperslab(sp, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
                H5Dread(d, mt, ms, sp, H5P_DEFAULT, buf) < 0) {
                if (ms >= 0)
                    H5Sclose(ms);
                free(buf);
                goto done;
            }
            reclaim(mt, ms, buf);
            H5Sclose(ms);
        }
        start[k] = 0;
        int j = k - 1;
        while (j >= 0 && ++start[j] >= dims[j])
            start[j--] = 0;
        if (j < 0)
            break;
    }
    free(buf);
done:
    close_types(mt, ft, sp);
}

typedef struct {
    int full;           /* read every dataset's data, not only those without a checksum */
    unsigned depth;     /* of the group being walked */
    unsigned long left; /* objects still to visit: a loop of links ends */
} walk_opts;

static void walk_group(hid_t g, walk_opts *w);

static herr_t walk_link(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    walk_opts *w = data;
    if (info->type != H5L_TYPE_HARD || w->left == 0)
        return 0;
    w->left--;
    hid_t o = H5Oopen(g, name, H5P_DEFAULT);
    if (o < 0)
        return 0;
    H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_NATIVE, NULL, walk_attr, NULL);
    H5I_type_t t = H5Iget_type(o);
    if (t == H5I_DATASET && (w->full || !has_checksum(o)))
        walk_data(o);
    else if (t == H5I_GROUP && w->depth < 64) {
        w->depth++;
        walk_group(o, w);
        w->depth--;
    }
    H5Oclose(o);
    return 0;
}

/* Every link of g, one at a time: a link that cannot be followed (or a
 * damaged part of the group's index) is passed over, not the rest. */
static void walk_group(hid_t g, walk_opts *w)
{
    H5G_info_t gi;
    if (H5Gget_info(g, &gi) < 0)
        return;
    for (hsize_t i = 0; i < gi.nlinks && w->left > 0;) {
        hsize_t at = i;
        if (H5Literate(g, H5_INDEX_NAME, H5_ITER_NATIVE, &at, walk_link, w) >= 0 && at >= gi.nlinks)
            break;
        i = at > i ? at : i + 1;
    }
}

/* Set when the library could not allocate memory (in the child that is
 * the limit on its memory, which no file pdsim wrote needs), or found a
 * checksum that does not match: the file is damaged. */
static int damaged;

static herr_t note_damage(unsigned n, const H5E_error2_t *e, void *data)
{
    (void)n;
    (void)data;
    if (e->min_num == H5E_CANTALLOC || e->min_num == H5E_NOSPACE ||
        (e->desc && strstr(e->desc, "checksum")))
        damaged = 1;
    return 0;
}

/* Called by the library whenever one of its functions fails. */
static herr_t on_error(hid_t stack, void *data)
{
    (void)data;
    H5Ewalk2(stack, H5E_WALK_DOWNWARD, note_damage, NULL);
    return 0;
}

/* The child: read everything with the library's error printing off, and
 * exit 0 whatever the library reports, unless it ran out of memory or
 * found a checksum that does not match (3). */
static void child(const char *path, int full, off_t size)
{
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
    }
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE, SIGALRM,
                               SIGXCPU, SIGINT, SIGTERM, SIGHUP, SIGPIPE};
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
        signal(sigs[i], SIG_DFL);
    if (__sanitizer_set_death_callback)
        __sanitizer_set_death_callback(NULL);
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    /* CPU time: a library looping on a damaged heap is stopped; a reading
     * at 4 MB of file per CPU second, and 2 s more, is not */
    rlim_t cpu = 2 + (rlim_t)(size / (4 << 20));
    struct rlimit lim = {cpu, cpu + 1};
    setrlimit(RLIMIT_CPU, &lim);
    alarm((unsigned)(cpu * 20 + 60 < 86400 ? cpu * 20 + 60 : 86400));
#ifndef PROBE_SANITIZED
    /* memory: what the process holds now and 4 GiB more */
    long pages = 0;
    FILE *st = fopen("/proc/self/statm", "re");
    if (st) {
        if (fscanf(st, "%ld", &pages) != 1)
            pages = 0;
        fclose(st);
    }
    if (pages > 0) {
        rlim_t as = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + ((rlim_t)4 << 30);
        struct rlimit mem = {as, as};
        setrlimit(RLIMIT_AS, &mem);
    }
#endif
    H5Eset_auto2(H5E_DEFAULT, on_error, NULL);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f >= 0) {
        walk_opts w = {full, 0, 100000};
        H5Aiterate2(f, H5_INDEX_NAME, H5_ITER_NATIVE, NULL, walk_attr, NULL);
        walk_group(f, &w);
    }
    _exit(damaged ? 3 : 0);
}

/* The file last found safe, so that a command opening it again (a check
 * of its kind, then its reader) does not read it again: the same inode,
 * size and modification time. */
static struct {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
} last_ok;

static int same_file(const struct stat *st)
{
    return last_ok.ino == st->st_ino && last_ok.dev == st->st_dev && last_ok.size == st->st_size &&
           last_ok.mtime.tv_sec == st->st_mtim.tv_sec &&
           last_ok.mtime.tv_nsec == st->st_mtim.tv_nsec;
}

pds_h5probe_result pds_h5_probe(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return PDS_H5PROBE_ABSENT;
    struct stat st;
    int sb = -1;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        sb = superblock_version(fd, st.st_size);
    close(fd);
    if (sb < 0)
        return PDS_H5PROBE_NOT_HDF5;
    if (same_file(&st))
        return PDS_H5PROBE_OK;
    /* superblock 0 and 1: no checksum on any metadata, every dataset read;
     * 2 and later: metadata checksummed, datasets read unless their data
     * carry a checksum as well */
    int full = sb < 2;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return PDS_H5PROBE_FAILED;
    if (pid == 0)
        child(path, full, st.st_size);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return PDS_H5PROBE_FAILED;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return PDS_H5PROBE_DAMAGED;
    last_ok.dev = st.st_dev;
    last_ok.ino = st.st_ino;
    last_ok.size = st.st_size;
    last_ok.mtime = st.st_mtim;
    return PDS_H5PROBE_OK;
}

hid_t pds_h5_open_ro(const char *path)
{
    pds_h5probe_result r = pds_h5_probe(path);
    if (r != PDS_H5PROBE_OK)
        return -1;
    return H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
}
