/*
 * hazexec/common.h: error codes, allocator hooks, the library context and
 * diagnostics lists.  Every other public header includes this one.
 *
 * Conventions used throughout the API:
 *   - A function that can fail returns int: 0 (HAZ_OK) on success or one of
 *     the negative HAZ_E* codes below.  Each function's comment lists the
 *     exact codes it may return.
 *   - The caller owns every object it creates with a *_new / *_open call and
 *     releases it with the matching *_free / *_close call.  Memory the
 *     library hands back is freed by the library, never by the caller.
 *   - All memory goes through the haz_mem hooks of the haz_ctx an object was
 *     created from.  No global state; no signal handler is ever installed.
 *   - Strings are NUL-terminated byte strings; names are compared byte-wise.
 */
#ifndef HAZEXEC_COMMON_H
#define HAZEXEC_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Symbol visibility.  The shared library exports only HAZ_API symbols. */
#if defined(HAZ_BUILDING) && defined(__GNUC__) && __GNUC__ >= 4
#define HAZ_API __attribute__((visibility("default")))
#else
#define HAZ_API
#endif

/* ------------------------------------------------------------------------
 * Error codes.
 * ---------------------------------------------------------------------- */
#define HAZ_OK          0    /* success */
#define HAZ_ENOMEM     (-1)  /* an allocation failed; nothing was changed */
#define HAZ_EINVAL     (-2)  /* an argument is invalid (NULL, bad name ...) */
#define HAZ_EEXIST     (-3)  /* the thing to add is already there */
#define HAZ_ENOENT     (-4)  /* the thing named does not exist */
#define HAZ_ESTATE     (-5)  /* the call is not allowed in this state */
#define HAZ_EGRAPH     (-6)  /* graph validation failed; see the diagnostics */
#define HAZ_EPARSE     (-7)  /* input text is malformed; see the diagnostics */
#define HAZ_EIO        (-8)  /* an OS call failed; see haz_ctx_errno() */
#define HAZ_ERANGE     (-9)  /* a number is out of range */
#define HAZ_ENOTSUP    (-10) /* not supported by this backend or build */
#define HAZ_ESPAWN     (-11) /* a child process could not be started */
#define HAZ_ECANCELED  (-12) /* the operation was cancelled */
#define HAZ_ELIMIT     (-13) /* a backend limit was reached (e.g. FD_SETSIZE) */
#define HAZ_ECORRUPT   (-14) /* stored data failed verification */
#define HAZ_EFATAL     (-100)/* codes at or below this leave the object unusable */
#define HAZ_EINTERNAL  (-101)/* an internal invariant broke (a bug) */

/*
 * haz_strerror: a short, constant English description of an error code.
 * Never returns NULL; an unknown code yields "unknown error".
 */
HAZ_API const char *haz_strerror(int code);

/* ------------------------------------------------------------------------
 * Allocator hooks (per context, with user data; nghttp2 style).
 * ---------------------------------------------------------------------- */
typedef struct haz_mem {
    void *ud;                                              /* user data */
    void *(*malloc_fn)(size_t size, void *ud);             /* like malloc */
    void (*free_fn)(void *ptr, void *ud);                  /* like free */
    void *(*calloc_fn)(size_t nmemb, size_t size, void *ud); /* like calloc */
    void *(*realloc_fn)(void *ptr, size_t size, void *ud); /* like realloc */
} haz_mem;

/*
 * haz_mem_default: the hooks that wrap the C library's allocator.
 * The returned table is static and never freed.
 */
HAZ_API const haz_mem *haz_mem_default(void);

/* ------------------------------------------------------------------------
 * The library context: allocator plus the last error of any call made
 * through it.  A context is not thread-safe; use one per thread.
 * ---------------------------------------------------------------------- */
typedef struct haz_ctx haz_ctx;

/*
 * haz_ctx_new: create a context that allocates through `mem` (NULL means
 * haz_mem_default()).  The hooks table is copied; `mem->ud` must outlive the
 * context.  On success *out receives the context, owned by the caller.
 * Returns 0 or one of: HAZ_EINVAL (out is NULL, or mem lacks a hook),
 * HAZ_ENOMEM.
 */
HAZ_API int haz_ctx_new(haz_ctx **out, const haz_mem *mem);

/*
 * haz_ctx_free: free a context.  Every object created from it must have been
 * freed first.  NULL is accepted and ignored.
 */
HAZ_API void haz_ctx_free(haz_ctx *ctx);

/*
 * haz_ctx_mem: the allocator hooks of the context (a copy owned by it).
 */
HAZ_API const haz_mem *haz_ctx_mem(const haz_ctx *ctx);

/*
 * haz_ctx_errmsg: a message describing the last failure of a call made with
 * this context, naming the file, task or path involved where there is one.
 * Empty string when no call has failed.  Valid until the next call that uses
 * the context.
 */
HAZ_API const char *haz_ctx_errmsg(const haz_ctx *ctx);

/*
 * haz_ctx_errno: the OS errno of the last failure that came from an OS call
 * (HAZ_EIO, HAZ_ESPAWN, ...), else 0.
 */
HAZ_API int haz_ctx_errno(const haz_ctx *ctx);

/*
 * haz_ctx_errcode: the HAZ_E* code of the last failure, else 0.
 */
HAZ_API int haz_ctx_errcode(const haz_ctx *ctx);

/* ------------------------------------------------------------------------
 * Diagnostics: an ordered list of problems found in user input (graph
 * validation, hazfile parsing).  Used when one call can find many errors
 * (DAG-011).  Each entry has a kind, an optional location and a message.
 * ---------------------------------------------------------------------- */
typedef enum haz_diag_kind {
    HAZ_DIAG_SYNTAX = 1,        /* hazfile: malformed line or section */
    HAZ_DIAG_UNKNOWN_KEY,       /* hazfile: unknown key or section kind */
    HAZ_DIAG_DUPLICATE_KEY,     /* hazfile: the same key twice in a section */
    HAZ_DIAG_BAD_VALUE,         /* a value of the wrong form */
    HAZ_DIAG_DUPLICATE,         /* a project, task, tag cap ... defined twice */
    HAZ_DIAG_BAD_NAME,          /* a name breaks ID-001..ID-004 */
    HAZ_DIAG_BAD_PATH,          /* a path breaks PATH-002/003 */
    HAZ_DIAG_BAD_PATTERN,       /* a pattern breaks PATH-008..016 */
    HAZ_DIAG_BAD_REF,           /* a task reference does not parse */
    HAZ_DIAG_UNKNOWN_REF,       /* a task reference names no task */
    HAZ_DIAG_SELF_REF,          /* DAG-012 */
    HAZ_DIAG_DEPS_OVERLAP,      /* DAG-010 */
    HAZ_DIAG_CYCLE,             /* DAG-014 */
    HAZ_DIAG_OUTPUT_COLLISION,  /* DAG-016 */
    HAZ_DIAG_NO_ACTION,         /* a task without a command, or an empty one */
    HAZ_DIAG_BAD_ENV,           /* an invalid environment variable name */
    HAZ_DIAG_UNKNOWN_TARGET     /* a selection target names no task */
} haz_diag_kind;

typedef struct haz_diag {
    haz_diag_kind kind;
    const char *file;     /* source file, or NULL when built through the API */
    unsigned long line;   /* 1-based line in `file`, or 0 */
    const char *project;  /* project concerned, or NULL */
    const char *task;     /* task concerned, or NULL */
    const char *message;  /* the problem alone, without location */
    const char *text;     /* full line: "FILE:LINE: message" or
                             "project:task: message" or "message" */
} haz_diag;

typedef struct haz_diags haz_diags;

/*
 * haz_diags_new: create an empty diagnostics list.
 * Returns 0 or one of: HAZ_EINVAL, HAZ_ENOMEM.
 */
HAZ_API int haz_diags_new(haz_ctx *ctx, haz_diags **out);

/* haz_diags_free: free the list and every entry.  NULL is ignored. */
HAZ_API void haz_diags_free(haz_diags *d);

/* haz_diags_clear: remove every entry, keeping the list. */
HAZ_API void haz_diags_clear(haz_diags *d);

/* haz_diags_count: the number of entries (0 for NULL). */
HAZ_API size_t haz_diags_count(const haz_diags *d);

/*
 * haz_diags_get: entry i (0-based) in the order found, or NULL when i is out
 * of range.  The pointer and its strings stay valid until the list is
 * cleared or freed.
 */
HAZ_API const haz_diag *haz_diags_get(const haz_diags *d, size_t i);

/*
 * haz_diags_write: write every entry's `text` followed by a newline to the
 * file descriptor `fd`, retrying short writes and EINTR.  Returns 0 or
 * HAZ_EIO (errno kept in the list's context).
 */
HAZ_API int haz_diags_write(const haz_diags *d, int fd);

#ifdef __cplusplus
}
#endif
#endif /* HAZEXEC_COMMON_H */
