// Debian's libarchive (libarchive-dev, installed by `make deps`): zip, tar, gzip, bzip2, xz, zstd.
// Every archive svco fetches is read through it; nothing here inflates by hand.
//
// The library is loaded with dlopen when an archive is first opened, not linked: it pulls in libxml2
// and ICU, which the GPU machines need not have and the training and evaluation commands never use.
// The headers are only needed at build time.
#ifndef SVCO_ARCHIVE_SHIM_H
#define SVCO_ARCHIVE_SHIM_H
#include <archive.h>
#include <archive_entry.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

struct svco_archive_api {
    struct archive *(*read_new)(void);
    int (*support_filter_all)(struct archive *);
    int (*support_format_all)(struct archive *);
    int (*open_filename)(struct archive *, const char *, size_t);
    int (*next_header)(struct archive *, struct archive_entry **);
    const char *(*entry_pathname)(struct archive_entry *);
    __LA_MODE_T (*entry_filetype)(struct archive_entry *);
    la_ssize_t (*read_data)(struct archive *, void *, size_t);
    const char *(*error_string)(struct archive *);
    int (*read_free)(struct archive *);
};

// The state lives in a function's static local: Swift emits the header's inline functions but not
// its file-scope statics.
struct svco_archive_state {
    struct svco_archive_api api;
    char error[256];
    int ready;
    pthread_once_t once;
};

static inline struct svco_archive_state *svco_archive_state(void) {
    static struct svco_archive_state state = {.once = PTHREAD_ONCE_INIT};
    return &state;
}

static inline void svco_archive_load_once(void) {
    struct svco_archive_state *st = svco_archive_state();
    void *h = dlopen("libarchive.so.13", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(st->error, sizeof st->error, "cannot load libarchive.so.13 (install libarchive13): %s", dlerror());
        return;
    }
#define SVCO_LOAD(field, name) \
    if (!(*(void **)(&st->api.field) = dlsym(h, name))) { \
        snprintf(st->error, sizeof st->error, "libarchive.so.13 lacks %s", name); return; }
    SVCO_LOAD(read_new, "archive_read_new")
    SVCO_LOAD(support_filter_all, "archive_read_support_filter_all")
    SVCO_LOAD(support_format_all, "archive_read_support_format_all")
    SVCO_LOAD(open_filename, "archive_read_open_filename")
    SVCO_LOAD(next_header, "archive_read_next_header")
    SVCO_LOAD(entry_pathname, "archive_entry_pathname")
    SVCO_LOAD(entry_filetype, "archive_entry_filetype")
    SVCO_LOAD(read_data, "archive_read_data")
    SVCO_LOAD(error_string, "archive_error_string")
    SVCO_LOAD(read_free, "archive_read_free")
#undef SVCO_LOAD
    st->ready = 1;
}

/// Loads libarchive once; NULL on success, else the reason.
static inline const char *svco_archive_load(void) {
    struct svco_archive_state *st = svco_archive_state();
    pthread_once(&st->once, svco_archive_load_once);
    return st->ready ? NULL : st->error;
}

#define svco_archive (svco_archive_state()->api)

// Thin calls through the loaded table (valid only after svco_archive_load() returned NULL).
static inline struct archive *svco_archive_read_new(void) { return svco_archive.read_new(); }
static inline int svco_archive_support_all(struct archive *a) {
    int r = svco_archive.support_filter_all(a);
    return r != ARCHIVE_OK ? r : svco_archive.support_format_all(a);
}
static inline int svco_archive_open(struct archive *a, const char *path) { return svco_archive.open_filename(a, path, 1 << 16); }
static inline int svco_archive_next(struct archive *a, struct archive_entry **e) { return svco_archive.next_header(a, e); }
static inline const char *svco_archive_entry_path(struct archive_entry *e) { return svco_archive.entry_pathname(e); }
static inline unsigned int svco_archive_entry_type(struct archive_entry *e) { return (unsigned int)svco_archive.entry_filetype(e); }
static inline long svco_archive_read(struct archive *a, void *buffer, size_t size) { return (long)svco_archive.read_data(a, buffer, size); }
static inline const char *svco_archive_error_text(struct archive *a) { return svco_archive.error_string(a); }
static inline void svco_archive_free(struct archive *a) { svco_archive.read_free(a); }
#endif
