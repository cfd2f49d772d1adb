/* The HDF5 library (1.10) is not safe against a damaged or forged file: in
 * the older file format (superblock 0 or 1) nothing it reads is
 * checksummed, and some damage makes it loop forever, read or write past a
 * buffer or ask for absurd amounts of memory. Before pdsim opens a file it
 * did not just create, the library reads the file's objects in a child
 * process (fork, no new program): every attribute, and the data of every
 * dataset whose data carry no checksum (every dataset of the older
 * format). The child's output goes to /dev/null, it leaves no core file,
 * and it is stopped after 2 s of CPU time and 1 s more per 4 MB of file
 * (and, outside sanitizer builds, held to 4 GiB more memory than the
 * process had). The file is damaged when the child dies or is stopped, or
 * when the library could not allocate memory in it or found a checksum
 * that does not match; other errors the library reports are the parent's
 * to find and report when it reads. A file found safe is not read again
 * while its inode, size and modification time stay the same. */
#ifndef PDS_H5PROBE_H
#define PDS_H5PROBE_H

#include <hdf5.h>

typedef enum {
    PDS_H5PROBE_OK,       /* the library read the file without dying */
    PDS_H5PROBE_ABSENT,   /* cannot be opened for reading */
    PDS_H5PROBE_NOT_HDF5, /* not a regular file holding an HDF5 signature */
    PDS_H5PROBE_DAMAGED,  /* the library died, looped or found damage */
    PDS_H5PROBE_FAILED    /* no child process could be made */
} pds_h5probe_result;

pds_h5probe_result pds_h5_probe(const char *path);

/* H5Fopen(path, read-only) after pds_h5_probe found it safe; -1 otherwise
 * (the caller reports "not an HDF5 file, or a damaged one"). */
hid_t pds_h5_open_ro(const char *path);

#endif
