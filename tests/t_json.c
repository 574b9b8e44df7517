/*
 * tests/t_json.c: a JSON checker for the shell tests (python may not be
 * on a fresh CI machine).  It parses with hazrun's strict reader
 * (examples/hazrun_jsonr.c) and prints values picked by path.
 *
 *   t_json FILE                 exit 0 when FILE is valid JSON, else 1
 *                               with "FILE: line L, column C: what" on
 *                               stderr
 *   t_json FILE PATH...         print the value at each PATH, one a line
 *   t_json FILE -e PATH FIELD...
 *                               for each element of the array at PATH,
 *                               print its FIELDs (paths relative to the
 *                               element) on one line, separated by a space
 *   t_json -s STRING            parse STRING instead of a file (exit as
 *                               for FILE; for testing the reader itself)
 *
 * A PATH is segments separated by '/': a number indexes an array, "K=V"
 * picks the first element of an array whose member K is the string V, "#"
 * gives the number of elements or members, anything else names an object
 * member.  An empty PATH is the whole document.  Values print as: strings
 * as their bytes, numbers as written, true, false, null, "[N]" for an
 * array and "{N}" for an object of N entries; a path that leads nowhere
 * prints "<missing>".  Exit status 2: usage or an unreadable file.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hazrun_json.h"

static void put(const char *s, size_t n)
{
    if (n > 0 && fwrite(s, 1, n, stdout) != n)
        exit(2);
}

static void print_value(const json_value *v)
{
    char num[32];

    if (v == NULL) {
        put("<missing>", 9);
        return;
    }
    switch (v->kind) {
    case JSON_NULL:
        put("null", 4);
        break;
    case JSON_FALSE:
        put("false", 5);
        break;
    case JSON_TRUE:
        put("true", 4);
        break;
    case JSON_NUMBER:
    case JSON_STRING:
        put(v->s, v->len);
        break;
    case JSON_ARRAY:
    case JSON_OBJECT:
        (void)snprintf(num, sizeof num, v->kind == JSON_ARRAY ? "[%lu]"
                                                               : "{%lu}",
                       (unsigned long)v->n);
        put(num, strlen(num));
        break;
    }
}

/* Follow `path` from v.  A "#" segment makes *count the size wanted. */
static const json_value *follow(const json_value *v, const char *path,
                                int *count)
{
    char *copy = strdup(path), *seg, *next;

    *count = 0;
    if (copy == NULL)
        exit(2);
    for (seg = copy; v != NULL && *seg != '\0'; seg = next) {
        char *eq, *end;
        unsigned long idx;

        next = strchr(seg, '/');
        if (next != NULL)
            *next++ = '\0';
        else
            next = seg + strlen(seg);
        if (strcmp(seg, "#") == 0) {
            if (v->kind != JSON_ARRAY && v->kind != JSON_OBJECT)
                v = NULL;
            else
                *count = 1;
            break;
        }
        if (v->kind == JSON_ARRAY && (eq = strchr(seg, '=')) != NULL) {
            size_t i;
            const json_value *found = NULL;

            *eq = '\0';
            for (i = 0; i < v->n && found == NULL; i++) {
                const char *s = json_string(json_member(v->items[i], seg));

                if (s != NULL && strcmp(s, eq + 1) == 0)
                    found = v->items[i];
            }
            v = found;
        } else if (v->kind == JSON_ARRAY) {
            idx = strtoul(seg, &end, 10);
            v = *seg != '\0' && *end == '\0' && idx < v->n ? v->items[idx]
                                                           : NULL;
        } else {
            v = json_member(v, seg);
        }
    }
    free(copy);
    return v;
}

static void print_path(const json_value *doc, const char *path)
{
    int count;
    const json_value *v = follow(doc, path, &count);

    if (v != NULL && count) {
        char num[32];

        (void)snprintf(num, sizeof num, "%lu", (unsigned long)v->n);
        put(num, strlen(num));
    } else {
        print_value(v);
    }
}

int main(int argc, char **argv)
{
    json_value *doc = NULL;
    char err[256];
    int rc, i;

    if (argc < 2 || (strcmp(argv[1], "-s") == 0 && argc != 3)) {
        fprintf(stderr, "usage: t_json FILE [PATH... | -e PATH FIELD...]\n"
                        "       t_json -s STRING\n");
        return 2;
    }
    if (strcmp(argv[1], "-s") == 0)
        rc = json_parse(argv[2], strlen(argv[2]), &doc, err, sizeof err);
    else
        rc = json_read_file(argv[1], &doc, err, sizeof err);
    if (rc != JSON_OK) {
        fprintf(stderr, "%s: %s\n", argv[1][0] == '-' ? "string" : argv[1],
                err);
        return rc == JSON_EMALFORMED ? 1 : 2;
    }
    if (argc > 3 && strcmp(argv[2], "-e") == 0) {
        int count;
        const json_value *arr = follow(doc, argv[3], &count);
        size_t k;

        for (k = 0; arr != NULL && arr->kind == JSON_ARRAY && k < arr->n;
             k++) {
            for (i = 4; i < argc; i++) {
                if (i > 4)
                    put(" ", 1);
                print_path(arr->items[k], argv[i]);
            }
            put("\n", 1);
        }
    } else if (strcmp(argv[1], "-s") != 0) {
        for (i = 2; i < argc; i++) {
            print_path(doc, argv[i]);
            put("\n", 1);
        }
    }
    json_free(doc);
    if (fflush(stdout) != 0)
        return 2;
    return 0;
}
