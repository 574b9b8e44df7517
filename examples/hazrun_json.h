/*
 * examples/hazrun_json.h: JSON for hazrun: a writer (hazrun_jsonw.c) for
 * the --summary and --trace files, and a strict reader (hazrun_jsonr.c)
 * for `hazrun why --summary FILE` and the test checker tests/t_json.c.
 * The reader needs nothing but the C library.
 *
 * Strings are byte strings.  The writer copies valid UTF-8 as it is,
 * escapes '"', '\\' and the control characters (\n, \t ... or \\u00XX,
 * and DEL as \\u007f), and writes each byte that is not part of a valid
 * UTF-8 sequence as \\u00XX, XX being the byte's value (0x80-0xff).  The
 * reader undoes exactly that: \\u0080 to \\u00ff become the single byte of
 * that value, other escapes their UTF-8 encoding, so any byte string
 * written comes back identical.  (A generic JSON reader sees such a byte
 * as the Latin-1 character of the same value.)
 *
 * The reader accepts RFC 8259 JSON only: one value, optional white space
 * around it, no BOM, no comments, no trailing commas, numbers by the
 * grammar, strings of valid UTF-8 without raw control characters, no
 * lone surrogate escapes, no duplicate key in an object, nesting at most
 * JSON_MAX_DEPTH deep.  It never reads outside its input.
 */
#ifndef HAZRUN_JSON_H
#define HAZRUN_JSON_H

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------------
 * Reading.
 * ---------------------------------------------------------------------- */

#define JSON_MAX_DEPTH 128
#define JSON_MAX_FILE (256u * 1024u * 1024u)

typedef enum json_kind {
    JSON_NULL = 0,
    JSON_FALSE,
    JSON_TRUE,
    JSON_NUMBER,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT
} json_kind;

typedef struct json_value json_value;
struct json_value {
    json_kind kind;
    char *s;                /* STRING: the decoded bytes, NUL-terminated
                               (may hold NUL bytes: see len); NUMBER: the
                               literal as written */
    size_t len;
    json_value **items;     /* ARRAY: elements; OBJECT: member values */
    size_t n;
    char **keys;            /* OBJECT: member names, decoded */
    size_t *key_lens;
};

/* Results of json_parse and json_read_file. */
#define JSON_OK 0
#define JSON_EMALFORMED (-1)    /* err: "line L, column C: what" */
#define JSON_EIO (-2)           /* err: the system's reason */
#define JSON_ENOMEM (-3)

/*
 * json_parse: parse the `len` bytes at `text`.  On success *out receives
 * the tree (free with json_free).  On failure *out is NULL and `err`
 * (errlen bytes, may be 0) says why.
 */
int json_parse(const char *text, size_t len, json_value **out, char *err,
               size_t errlen);

/* json_read_file: read and parse a file of at most JSON_MAX_FILE bytes. */
int json_read_file(const char *path, json_value **out, char *err,
                   size_t errlen);

void json_free(json_value *v);

/* The value of member `key` of an object, or NULL (also when v is not an
 * object). */
const json_value *json_member(const json_value *v, const char *key);

/* The bytes of a string value, or NULL when v is not a string. */
const char *json_string(const json_value *v);

/* A non-negative integer literal (no fraction, no exponent) that fits.
 * Returns 0 or -1. */
int json_uint(const json_value *v, uint64_t *out);

/* The length of the valid UTF-8 sequence at s (n bytes available): 1 to
 * 4, or 0 when none starts there (overlong forms, surrogates and code
 * points above U+10FFFF are invalid). */
size_t json_utf8_seq(const unsigned char *s, size_t n);

/* ------------------------------------------------------------------------
 * Writing (hazrun_jsonw.c).
 * ---------------------------------------------------------------------- */

#define JW_MAX_DEPTH 32

typedef struct jw {
    char *p;
    size_t len;
    size_t cap;
    int oom;                /* an allocation failed: the text is cut */
    int pretty;             /* newline and indent before elements and keys
                               at depth <= pretty */
    int depth;
    int after_key;
    unsigned char first[JW_MAX_DEPTH + 1];
} jw;

void jw_init(jw *w, int pretty);
void jw_free(jw *w);
void jw_object(jw *w);
void jw_end_object(jw *w);
void jw_array(jw *w);
void jw_end_array(jw *w);
void jw_key(jw *w, const char *key);
void jw_string(jw *w, const char *s);           /* NULL: null */
void jw_null(jw *w);
void jw_bool(jw *w, int b);
void jw_uint(jw *w, uint64_t v);
void jw_int(jw *w, int64_t v);
/* Nanoseconds as microseconds with three decimals: 1234.567. */
void jw_micros(jw *w, uint64_t ns);
void jw_hex(jw *w, const unsigned char *d, size_t n);   /* a hex string */
/* Append the raw text of the top level (a newline at the end). */
void jw_newline(jw *w);

/*
 * write_file_atomic: write `len` bytes to `path` through a temporary file
 * in the same directory (PATH.tmpXXXXXX, mode 0666 less the umask),
 * fsync'ed and renamed over `path`.  Returns 0 or an errno value (the
 * temporary is removed).
 */
int write_file_atomic(const char *path, const char *data, size_t len);

#endif /* HAZRUN_JSON_H */
