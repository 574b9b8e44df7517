/*
 * hazexec/hazfile.h: the `hazfile` workspace format.
 *
 * A plain-text file, one `key = value` per line, sections in brackets:
 * [workspace], [tag NAME], [project NAME], [task PROJECT:TASK].  A line
 * whose first non-blank character is `#` is a comment; a value runs to the
 * end of its line with surrounding blanks trimmed; lists are separated by
 * blanks.  The full grammar is in docs/hazfile.md.
 *
 * Loading parses the text, builds a haz_graph from it and validates the
 * graph, collecting every problem (syntax and graph alike) as diagnostics
 * that read "FILE:LINE: message".  The text's own problems come in line
 * order; the graph is validated only when the text has none, and its
 * problems then come in the order validation finds them (each still
 * naming the line of the item at fault).  Reading stops after 1000
 * errors.  Any byte sequence is accepted as input:
 * NUL bytes, invalid UTF-8, overlong lines, CR/LF line ends are reported or
 * handled, never crash the parser.
 */
#ifndef HAZEXEC_HAZFILE_H
#define HAZEXEC_HAZFILE_H

#include "common.h"
#include "graph.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Output presentation chosen by the workspace (EXEC-016). */
typedef enum haz_output_mode {
    HAZ_OUTPUT_LIVE = 0,     /* line-prefixed, interleaved (the default) */
    HAZ_OUTPUT_BUFFERED = 1  /* stdout block then stderr block per task */
} haz_output_mode;

#define HAZ_DEFAULT_CANCEL_GRACE_NS UINT64_C(5000000000) /* CFG-031 */

/* A loaded workspace. */
typedef struct haz_hazfile {
    haz_graph *graph;          /* validated; owned by the hazfile object */
    const char *path;          /* the file as given to the loader */
    unsigned concurrency;      /* [workspace] concurrency; 0 means auto */
    uint64_t cancel_grace_ns;  /* [workspace] cancel_grace; default 5 s */
    haz_output_mode output;    /* [workspace] output; default live */
} haz_hazfile;

/*
 * haz_hazfile_parse: load a workspace from the `len` bytes at `text`;
 * `filename` is used in diagnostics and copied.  On success *out receives
 * the workspace, owned by the caller (free with haz_hazfile_free).  Every
 * problem found is appended to `diags` (may be NULL).
 * Returns 0 or one of: HAZ_EINVAL (NULL out or filename, or text NULL with
 * len > 0), HAZ_EPARSE (syntax or value errors), HAZ_EGRAPH (the file
 * parses but the graph is invalid), HAZ_ENOMEM.  On error *out is NULL.
 */
HAZ_API int haz_hazfile_parse(haz_ctx *ctx, const char *filename,
                              const char *text, size_t len,
                              haz_hazfile **out, haz_diags *diags);

/*
 * haz_hazfile_load: read the file at `path` and parse it as above.
 * Returns the codes of haz_hazfile_parse, or HAZ_EIO when the file cannot
 * be opened or read (the context's message names the path and the OS
 * error), or HAZ_ERANGE when it is larger than 64 MiB.
 */
HAZ_API int haz_hazfile_load(haz_ctx *ctx, const char *path,
                             haz_hazfile **out, haz_diags *diags);

/* haz_hazfile_free: free the workspace and its graph.  NULL is ignored. */
HAZ_API void haz_hazfile_free(haz_hazfile *hf);

#ifdef __cplusplus
}
#endif
#endif /* HAZEXEC_HAZFILE_H */
