#define _DEFAULT_SOURCE
#include "outfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "inputs.h"

/* ---- the destination's lock ---- */

struct pds_lock {
    int fd;
    char *path;
    pds_fileid id;
};

#define LOCK_MAGIC "pdsim lock "

static char *with_suffix(const char *s, const char *suffix)
{
    return pds_strfmt("%s%s", s, suffix);
}

/* What the holder wrote into the lock file ("pid 123 on node7"). */
static void read_holder(int fd, char *buf, size_t size)
{
    ssize_t n = pread(fd, buf, size - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    size_t m = strlen(LOCK_MAGIC);
    if (strncmp(buf, LOCK_MAGIC, m) == 0)
        memmove(buf, buf + m, strlen(buf + m) + 1);
    buf[strcspn(buf, "\n")] = '\0';
}

/* 0 locked; 1 held by another; -1 this file system has no locks. */
static int try_lock(int fd)
{
    if (flock(fd, LOCK_EX | LOCK_NB) == 0)
        return 0;
    if (errno == EWOULDBLOCK || errno == EAGAIN || errno == EINTR)
        return 1;
    /* some cluster file systems offer POSIX record locks only */
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(fd, F_SETLK, &fl) == 0)
        return 0;
    if (errno == EACCES || errno == EAGAIN)
        return 1;
    return -1;
}

pds_status pds_lock_take(const char *dest, pds_lock **out, pds_diag *diag)
{
    *out = NULL;
    pds_lock *l = calloc(1, sizeof *l);
    if (l) {
        l->fd = -1;
        l->path = with_suffix(dest, ".lock");
    }
    if (!l || !l->path) {
        free(l);
        pds_diag_add(diag, dest, 0, 0, "out of memory");
        return PDS_ERR_RUNTIME;
    }
    /* a holder removes the file before releasing it: a lock won on a file
     * that is no longer at the name is stale, and the name is tried again */
    for (int attempt = 0; attempt < 50; attempt++) {
        int fd = open(l->path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0666);
        if (fd < 0) {
            int e = errno;
            if (e == ELOOP || e == EMLINK || e == ENXIO || e == EISDIR) {
                pds_diag_add(diag, l->path, 0, 0,
                             "the lock file for %s is a link or not a regular file; pdsim does "
                             "not write through links: remove it",
                             dest);
                pds_lock_release(l);
                return PDS_ERR_INPUT;
            }
            pds_diag_add(diag, l->path, 0, 0, "cannot create the lock file for %s (%s)", dest,
                         strerror(e));
            pds_lock_release(l);
            return PDS_ERR_RUNTIME;
        }
        struct stat st;
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            close(fd);
            pds_diag_add(diag, l->path, 0, 0, "the lock file for %s is not a regular file: remove it",
                         dest);
            pds_lock_release(l);
            return PDS_ERR_INPUT;
        }
        int r = try_lock(fd);
        if (r == 1) {
            char who[256];
            read_holder(fd, who, sizeof who);
            close(fd);
            pds_diag_add(diag, dest, 0, 0,
                         "busy: another pdsim (%s) is writing this output (lock %s); nothing was "
                         "done. Wait for it to finish, or choose another output name",
                         who[0] ? who : "process unknown", l->path);
            pds_lock_release(l);
            return PDS_ERR_BUSY;
        }
        if (!pds_out_is_file(l->path, &(pds_fileid){st.st_dev, st.st_ino})) {
            close(fd);
            continue;
        }
        if (st.st_size > 0) {
            char head[sizeof LOCK_MAGIC] = "";
            ssize_t n = pread(fd, head, sizeof head - 1, 0);
            head[n > 0 ? n : 0] = '\0';
            if (strcmp(head, LOCK_MAGIC) != 0) {
                close(fd);
                free(l->path);
                l->path = NULL; /* not ours: never removed */
                pds_diag_add(diag, dest, 0, 0,
                             "%s.lock exists and is not a pdsim lock file; refusing to use it",
                             dest);
                pds_lock_release(l);
                return PDS_ERR_INPUT;
            }
        }
        l->fd = fd;
        l->id = (pds_fileid){st.st_dev, st.st_ino};
        char host[128] = "";
        gethostname(host, sizeof host - 1);
        char text[256];
        int len = snprintf(text, sizeof text, LOCK_MAGIC "pid %ld on %s\n", (long)getpid(),
                           host[0] ? host : "this host");
        if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t)len, 0) != len) {
            /* the lock holds all the same; only the holder's name is missing */
        }
        /* r == -1: no locks here; the inode checks still guard the rename,
         * but nothing left beside dest can be proven stale */
        if (r == 0)
            pds_out_clean_stale(dest);
        *out = l;
        return PDS_OK;
    }
    pds_diag_add(diag, l->path, 0, 0, "cannot take the lock for %s (it keeps being replaced)",
                 dest);
    free(l->path);
    l->path = NULL;
    pds_lock_release(l);
    return PDS_ERR_BUSY;
}

void pds_lock_release(pds_lock *l)
{
    if (!l)
        return;
    if (l->fd >= 0) {
        /* removed while still held: a waiter that opened it sees it gone */
        if (l->path && pds_out_is_file(l->path, &l->id))
            unlink(l->path);
        close(l->fd);
    }
    free(l->path);
    free(l);
}

/* ---- inputs of a command ---- */

struct pds_inset_item {
    char *canon; /* realpath */
    const char *given;
    pds_fileid id;
    int have_id;
};

void pds_inset_init(pds_inset *s)
{
    memset(s, 0, sizeof *s);
}

void pds_inset_free(pds_inset *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].canon);
        free((char *)s->v[i].given);
    }
    free(s->v);
    memset(s, 0, sizeof *s);
}

static int add_one(pds_inset *s, const char *path, const struct stat *st)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        struct pds_inset_item *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    struct pds_inset_item *it = &s->v[s->n];
    memset(it, 0, sizeof *it);
    it->canon = realpath(path, NULL);
    it->given = strdup(path);
    if (!it->given) {
        free(it->canon);
        return -1;
    }
    if (st) {
        it->id = (pds_fileid){st->st_dev, st->st_ino};
        it->have_id = 1;
    }
    s->n++;
    return 0;
}

static int add_tree(pds_inset *s, const char *path, int depth)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return add_one(s, path, NULL);
    if (!S_ISDIR(st.st_mode))
        return add_one(s, path, &st);
    if (depth <= 0)
        return 0;
    DIR *d = opendir(path);
    if (!d)
        return 0;
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        size_t n = strlen(path) + strlen(e->d_name) + 2;
        char *p = malloc(n);
        if (!p) {
            rc = -1;
            break;
        }
        snprintf(p, n, "%s/%s", path, e->d_name);
        rc = add_tree(s, p, depth - 1);
        free(p);
    }
    closedir(d);
    return rc;
}

int pds_inset_add(pds_inset *s, const char *path)
{
    if (!path || !*path)
        return 0;
    return add_tree(s, path, 3);
}

/* The canonical form of a path that may not exist yet: its folder resolved. */
static char *canonical_out(const char *out)
{
    char *c = realpath(out, NULL);
    if (c)
        return c;
    const char *slash = strrchr(out, '/');
    char *dir = slash ? strndup(out, (size_t)(slash - out) + (slash == out)) : strdup(".");
    if (!dir)
        return NULL;
    char *rd = realpath(dir, NULL);
    free(dir);
    if (!rd)
        return strdup(out);
    const char *base = slash ? slash + 1 : out;
    size_t n = strlen(rd) + strlen(base) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s%s%s", rd, strcmp(rd, "/") ? "/" : "", base);
    free(rd);
    return p;
}

pds_status pds_inset_check(const pds_inset *s, const char *out, pds_diag *diag)
{
    if (!s || !out)
        return PDS_OK;
    struct stat st;
    int exists = stat(out, &st) == 0;
    char *canon = canonical_out(out);
    pds_status rc = PDS_OK;
    for (size_t i = 0; i < s->n && rc == PDS_OK; i++) {
        const struct pds_inset_item *it = &s->v[i];
        int same = exists && it->have_id && it->id.dev == st.st_dev && it->id.ino == st.st_ino;
        same = same || (canon && it->canon && strcmp(canon, it->canon) == 0);
        if (same) {
            pds_diag_add(diag, out, 0, 0,
                         "is an input of this command (%s); an output never replaces an input: "
                         "choose another output name",
                         it->given);
            rc = PDS_ERR_INPUT;
        }
    }
    free(canon);
    return rc;
}

/* ---- temporary names and installing ---- */

static uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

char *pds_out_tmp_name(const char *dest, unsigned k)
{
    size_t n = strlen(dest) + 64;
    char *p = malloc(n);
    if (!p)
        return NULL;
    if (k == 0) {
        snprintf(p, n, "%s.tmp.%ld", dest, (long)getpid());
    } else {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        uint64_t r = mix64((uint64_t)t.tv_nsec ^ ((uint64_t)t.tv_sec << 30) ^
                           ((uint64_t)getpid() << 12) ^ k);
        snprintf(p, n, "%s.tmp.%ld.%06llx", dest, (long)getpid(),
                 (unsigned long long)(r & 0xffffff));
    }
    return p;
}

/* The process id in a temporary name's tail: "tmp.PID" or "tmp.PID.HEX6"
 * (pds_out_tmp_name). 0 when tail is not of that form. */
static long c_tmp_pid(const char *tail)
{
    if (strncmp(tail, "tmp.", 4) != 0)
        return 0;
    const char *p = tail + 4, *q = p;
    while (*q >= '0' && *q <= '9')
        q++;
    if (q == p || q - p > 10 || *p == '0')
        return 0;
    if (*q == '.') {
        const char *h = q + 1;
        size_t n = strspn(h, "0123456789abcdef");
        if (n != 6 || h[n] != '\0')
            return 0;
    } else if (*q != '\0') {
        return 0;
    }
    return strtol(p, NULL, 10);
}

/* The process id in the name of a temporary file of scripts/plot_common.py
 * (mkstemp: ".BASE.PID.XXXXXXXX.tmp"); 0 when name is not of that form. */
static long py_tmp_pid(const char *name)
{
    size_t n = strlen(name);
    if (name[0] != '.' || n < 1 + 1 + 1 + 1 + 1 + 8 + 4 || strcmp(name + n - 4, ".tmp") != 0)
        return 0;
    const char *rnd = name + n - 4 - 8;
    if (rnd[-1] != '.' || strspn(rnd, "abcdefghijklmnopqrstuvwxyz0123456789_") < 8)
        return 0;
    const char *end = rnd - 1, *p = end;
    while (p > name + 1 && p[-1] >= '0' && p[-1] <= '9')
        p--;
    if (p == end || end - p > 10 || *p == '0' || p[-1] != '.' || p - 1 <= name + 1)
        return 0;
    return strtol(p, NULL, 10);
}

/* A leftover: a regular file (not a link) of this user, named by a process
 * of this host that no longer exists. */
static int stale_file(int dirfd, const char *name, long pid)
{
    struct stat st;
    if (pid <= 0 || pid == (long)getpid())
        return 0;
    if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
        return 0;
    return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
           st.st_uid == geteuid();
}

/* Remove the stale temporary files in dir: those of dest's base name only
 * (base not NULL), or every pdsim and plot_common.py temporary name. */
static size_t clean_stale(const char *dir, const char *base)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t removed = 0, nb = base ? strlen(base) : 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        long pid = 0;
        if (base) {
            if (strncmp(name, base, nb) == 0 && name[nb] == '.')
                pid = c_tmp_pid(name + nb + 1);
        } else {
            const char *t = strstr(name, ".tmp.");
            while (t && !pid) {
                pid = t > name ? c_tmp_pid(t + 1) : 0;
                t = strstr(t + 1, ".tmp.");
            }
            if (!pid)
                pid = py_tmp_pid(name);
        }
        if (pid && stale_file(dirfd(d), name, pid) && unlinkat(dirfd(d), name, 0) == 0)
            removed++;
    }
    closedir(d);
    return removed;
}

size_t pds_out_clean_stale(const char *dest)
{
    const char *slash = strrchr(dest, '/');
    char *dir = slash ? strndup(dest, (size_t)(slash - dest) + (slash == dest)) : strdup(".");
    size_t n = dir ? clean_stale(dir, slash ? slash + 1 : dest) : 0;
    free(dir);
    return n;
}

size_t pds_out_clean_stale_in(const char *dir)
{
    return clean_stale(dir, NULL);
}

int pds_out_create_tmp(const char *dest, char **tmp, pds_fileid *id)
{
    *tmp = NULL;
    for (unsigned k = 0; k < 100; k++) {
        char *name = pds_out_tmp_name(dest, k);
        if (!name) {
            errno = ENOMEM;
            return -1;
        }
        int fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd >= 0) {
            struct stat st;
            if (fstat(fd, &st) != 0) {
                int e = errno;
                close(fd);
                unlink(name);
                free(name);
                errno = e;
                return -1;
            }
            id->dev = st.st_dev;
            id->ino = st.st_ino;
            *tmp = name;
            return fd;
        }
        int e = errno;
        free(name);
        if (e != EEXIST) {
            errno = e;
            return -1;
        }
    }
    errno = EEXIST;
    return -1;
}

int pds_out_is_file(const char *path, const pds_fileid *id)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_dev == id->dev &&
           st.st_ino == id->ino;
}

int pds_out_install(const char *tmp, const pds_fileid *id, const char *dest, pds_diag *diag)
{
    if (!pds_out_is_file(tmp, id)) {
        pds_diag_add(diag, tmp, 0, 0,
                     "the temporary file was removed or replaced by another process while it "
                     "was written; %s was not changed",
                     dest);
        return -1;
    }
    if (rename(tmp, dest) != 0) {
        pds_diag_add(diag, dest, 0, 0, "cannot rename %s onto it (%s)", tmp, strerror(errno));
        return -1;
    }
    return 0;
}

void pds_out_discard(const char *tmp, const pds_fileid *id)
{
    if (tmp && pds_out_is_file(tmp, id))
        unlink(tmp);
}

int pds_out_check_fixed(const char *tmp, pds_diag *diag)
{
    struct stat st;
    if (lstat(tmp, &st) != 0)
        return 0;
    if (S_ISREG(st.st_mode))
        return 1;
    pds_diag_add(diag, tmp, 0, 0,
                 "is %s, not a file pdsim wrote; pdsim does not write through links: remove it",
                 S_ISLNK(st.st_mode) ? "a symbolic link" : "not a regular file");
    return -1;
}

pds_status pds_out_clear_fixed(const char *tmp, pds_diag *diag)
{
    int r = pds_out_check_fixed(tmp, diag);
    if (r < 0)
        return PDS_ERR_INPUT;
    if (r == 1 && unlink(tmp) != 0 && errno != ENOENT) {
        pds_diag_add(diag, tmp, 0, 0, "cannot remove the file left by an earlier run (%s)",
                     strerror(errno));
        return PDS_ERR_RUNTIME;
    }
    return PDS_OK;
}

/* ---- text output files ---- */

pds_status pds_outfile_begin(pds_outfile *o, const char *path, const pds_inset *in,
                             unsigned flags, pds_diag *diag)
{
    memset(o, 0, sizeof *o);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        pds_diag_add(diag, path, 0, 0, "is a folder, expected a file name to write");
        return PDS_ERR_INPUT;
    }
    pds_status rc = pds_inset_check(in, path, diag);
    if (rc != PDS_OK)
        return rc;
    if ((flags & PDS_OUT_LOCK) && (rc = pds_lock_take(path, &o->lock, diag)) != PDS_OK)
        return rc;
    o->path = strdup(path);
    if (!o->path) {
        pds_outfile_abort(o);
        pds_diag_add(diag, path, 0, 0, "out of memory");
        return PDS_ERR_RUNTIME;
    }
    int fd = pds_out_create_tmp(path, &o->tmp, &o->id);
    if (fd < 0) {
        pds_diag_add(diag, path, 0, 0, "cannot create a temporary file beside it (%s)",
                     strerror(errno));
        pds_outfile_abort(o);
        return PDS_ERR_RUNTIME;
    }
    o->f = fdopen(fd, "w");
    if (!o->f) {
        close(fd);
        pds_outfile_abort(o);
        pds_diag_add(diag, path, 0, 0, "out of memory");
        return PDS_ERR_RUNTIME;
    }
    return PDS_OK;
}

pds_status pds_outfile_open(pds_outfile *o, const char *path, const char *const *inputs,
                            size_t n_inputs, pds_diag *diag)
{
    pds_inset in;
    pds_inset_init(&in);
    for (size_t i = 0; i < n_inputs; i++)
        if (pds_inset_add(&in, inputs[i]) != 0) {
            pds_inset_free(&in);
            memset(o, 0, sizeof *o);
            pds_diag_add(diag, path, 0, 0, "out of memory");
            return PDS_ERR_RUNTIME;
        }
    pds_status st = pds_outfile_begin(o, path, &in, 0, diag);
    pds_inset_free(&in);
    return st;
}

void pds_outfile_abort(pds_outfile *o)
{
    if (o->f)
        fclose(o->f);
    pds_out_discard(o->tmp, &o->id);
    free(o->tmp);
    free(o->path);
    pds_lock_release(o->lock);
    memset(o, 0, sizeof *o);
}

pds_status pds_outfile_close(pds_outfile *o, pds_diag *diag)
{
    if (!o->f)
        return PDS_OK;
    int bad = fflush(o->f) != 0 || ferror(o->f) != 0;
    int e = errno;
    bad |= fclose(o->f) != 0;
    if (bad && !e)
        e = errno;
    o->f = NULL;
    if (bad) {
        pds_diag_add(diag, o->path, 0, 0, "writing the file failed (%s)",
                     e ? strerror(e) : "disk full?");
        pds_outfile_abort(o);
        return PDS_ERR_RUNTIME;
    }
    return PDS_OK;
}

pds_status pds_outfile_commit(pds_outfile *o, pds_diag *diag)
{
    pds_status st = pds_outfile_close(o, diag);
    if (st != PDS_OK)
        return st;
    if (pds_out_install(o->tmp, &o->id, o->path, diag) != 0) {
        pds_outfile_abort(o);
        return PDS_ERR_RUNTIME;
    }
    free(o->tmp);
    o->tmp = NULL;
    pds_outfile_abort(o); /* frees the rest, releases the lock */
    return PDS_OK;
}

/* ---- CSV ---- */

pds_status pds_csvfile_begin(pds_outfile *o, const char *dir, const char *name, int bom,
                             const char *header, const pds_inset *in, pds_diag *diag)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *path = malloc(n);
    if (!path) {
        memset(o, 0, sizeof *o);
        pds_diag_add(diag, dir, 0, 0, "out of memory");
        return PDS_ERR_RUNTIME;
    }
    snprintf(path, n, "%s/%s", dir, name);
    pds_status st = pds_outfile_begin(o, path, in, 0, diag);
    free(path);
    if (st == PDS_OK) {
        if (bom)
            fputs("\xEF\xBB\xBF", o->f);
        if (header) {
            fputs(header, o->f);
            fputc('\n', o->f);
        }
    }
    return st;
}

static int plain_number(const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    (void)v;
    /* decimal only: strtod also takes hex, inf and nan */
    for (const char *p = s; p < end; p++)
        if (!strchr("0123456789+-.eE", *p))
            return 0;
    return end != s && *end == '\0';
}

void pds_csv_text(FILE *f, const char *s)
{
    int formula = strchr("=+-@\t\r", s[0]) && s[0] && !plain_number(s);
    if (!formula && !strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    if (formula)
        fputc('\'', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

int pds_mkdirs(const char *dir, char *failed, size_t size)
{
    struct stat st;
    char *p = strdup(dir);
    if (!p)
        return -1;
    int rc = 0;
    for (char *q = p + 1; *q && !rc; q++) {
        if (*q != '/')
            continue;
        *q = '\0';
        if (stat(p, &st) != 0 && mkdir(p, 0777) != 0 && errno != EEXIST)
            rc = -1;
        else
            *q = '/';
    }
    if (!rc && mkdir(p, 0777) != 0 && errno != EEXIST)
        rc = -1;
    if (rc && failed && size) {
        int e = errno;
        snprintf(failed, size, "%s", p);
        errno = e;
    }
    free(p);
    return rc;
}

pds_status pds_outfile_commit_set(pds_outfile *v, size_t n, int ok, pds_diag *diag)
{
    pds_status st = PDS_OK;
    for (size_t i = 0; i < n; i++) {
        if (ok && st == PDS_OK)
            st = pds_outfile_commit(&v[i], diag);
        else
            pds_outfile_abort(&v[i]);
    }
    return st;
}
