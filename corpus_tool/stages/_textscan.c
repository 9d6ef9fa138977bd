/* The characters of a batch of texts that a lookup table marks, found in one pass over the strs: the
 * compiled twin of `table[code_points(texts)]` + `np.flatnonzero` (textstats.table_hits keeps that as the
 * reference and the fallback; tests/test_normalize_identity.py compares them). Normalize's trigger
 * characters and OpenCC's script marks are rare, so the numpy way spent its time on arrays of every code
 * point. `table_counts` is the twin of textstats.class_counts (a bincount of the table's values per text),
 * which langid needs for every document. `char_lines` is perplexity's per-line preparation of a text for
 * a character-level KenLM model. `tidy` is ingest's whitespace clean-up in one pass (extract.tidy_python
 * is its definition and fallback; tests/test_ingest_tidy.py compares them).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int64_t *pos;
    uint8_t *val;
    Py_ssize_t n, cap;
} Hits;

static int add(Hits *h, int64_t pos, uint8_t val) {
    if (h->n == h->cap) {
        Py_ssize_t cap = h->cap ? 2 * h->cap : 1024;
        int64_t *p = realloc(h->pos, (size_t)cap * sizeof(int64_t));
        if (p) h->pos = p;
        uint8_t *v = realloc(h->val, (size_t)cap);
        if (v) h->val = v;
        if (!p || !v) return -1;
        h->cap = cap;
    }
    h->pos[h->n] = pos;
    h->val[h->n++] = val;
    return 0;
}

/* One loop per string kind (1, 2 or 4 bytes a character). */
#define SCAN(type)                                                             \
    do {                                                                       \
        const type *p = (const type *)data;                                    \
        for (Py_ssize_t i = 0; i < len; i++) {                                 \
            uint8_t v = table[p[i]];                                           \
            if (v && add(&hits, offset + i, v) < 0) goto nomem;                \
        }                                                                      \
    } while (0)

/* The lookup table's buffer (one uint8 per code point); -1 with an exception set when it is too short. */
static int get_table(PyObject *table_obj, Py_buffer *view) {
    if (PyObject_GetBuffer(table_obj, view, PyBUF_SIMPLE) < 0) return -1;
    if (view->len < 0x110000) {
        PyBuffer_Release(view);
        PyErr_SetString(PyExc_ValueError, "table: need one byte per code point");
        return -1;
    }
    return 0;
}

static PyObject *table_hits(PyObject *self, PyObject *args) {
    PyObject *texts, *table_obj;
    if (!PyArg_ParseTuple(args, "O!O", &PyList_Type, &texts, &table_obj)) return NULL;
    Py_buffer view;
    if (get_table(table_obj, &view) < 0) return NULL;
    const uint8_t *table = view.buf;
    Py_ssize_t n_docs = PyList_GET_SIZE(texts);
    PyObject *starts = PyBytes_FromStringAndSize(NULL, (n_docs + 1) * (Py_ssize_t)sizeof(int64_t));
    if (!starts) {
        PyBuffer_Release(&view);
        return NULL;
    }
    int64_t *start = (int64_t *)PyBytes_AS_STRING(starts);
    Hits hits = {NULL, NULL, 0, 0};
    int64_t offset = 0;
    for (Py_ssize_t d = 0; d < n_docs; d++) {
        PyObject *text = PyList_GET_ITEM(texts, d);
        start[d] = offset;
        if (text == Py_None) continue; /* a null document is an empty one */
        if (!PyUnicode_Check(text)) {
            PyErr_SetString(PyExc_TypeError, "texts must be str or None");
            goto fail;
        }
        const void *data = PyUnicode_DATA(text);
        Py_ssize_t len = PyUnicode_GET_LENGTH(text);
        switch (PyUnicode_KIND(text)) {
        case PyUnicode_1BYTE_KIND: SCAN(Py_UCS1); break;
        case PyUnicode_2BYTE_KIND: SCAN(Py_UCS2); break;
        default: SCAN(Py_UCS4); break;
        }
        offset += len;
    }
    start[n_docs] = offset;
    PyBuffer_Release(&view);
    PyObject *pos = PyBytes_FromStringAndSize((const char *)hits.pos, hits.n * (Py_ssize_t)sizeof(int64_t));
    PyObject *val = PyBytes_FromStringAndSize((const char *)hits.val, hits.n);
    free(hits.pos);
    free(hits.val);
    if (!pos || !val) {
        Py_XDECREF(pos);
        Py_XDECREF(val);
        Py_DECREF(starts);
        return NULL;
    }
    return Py_BuildValue("NNN", pos, val, starts);
nomem:
    PyErr_NoMemory();
fail:
    PyBuffer_Release(&view);
    free(hits.pos);
    free(hits.val);
    Py_DECREF(starts);
    return NULL;
}

/* One counting loop per string kind. */
#define COUNT(type)                                                            \
    do {                                                                       \
        const type *p = (const type *)data;                                    \
        for (Py_ssize_t i = 0; i < len; i++) row[table[p[i]]]++;               \
    } while (0)

static PyObject *table_counts(PyObject *self, PyObject *args) {
    PyObject *texts, *table_obj;
    Py_ssize_t n_values;
    if (!PyArg_ParseTuple(args, "O!On", &PyList_Type, &texts, &table_obj, &n_values)) return NULL;
    if (n_values < 1 || n_values > 256) {
        PyErr_SetString(PyExc_ValueError, "n_values: between 1 and 256");
        return NULL;
    }
    Py_buffer view;
    if (get_table(table_obj, &view) < 0) return NULL;
    const uint8_t *table = view.buf;
    for (Py_ssize_t c = 0; c < 0x110000; c++)
        if (table[c] >= n_values) {
            PyBuffer_Release(&view);
            PyErr_SetString(PyExc_ValueError, "table: a value is not below n_values");
            return NULL;
        }
    Py_ssize_t n_docs = PyList_GET_SIZE(texts);
    PyObject *out = PyBytes_FromStringAndSize(NULL, n_docs * n_values * (Py_ssize_t)sizeof(int64_t));
    if (!out) {
        PyBuffer_Release(&view);
        return NULL;
    }
    int64_t *counts = (int64_t *)PyBytes_AS_STRING(out);
    memset(counts, 0, (size_t)(n_docs * n_values) * sizeof(int64_t));
    for (Py_ssize_t d = 0; d < n_docs; d++) {
        PyObject *text = PyList_GET_ITEM(texts, d);
        if (text == Py_None) continue; /* a null document is an empty one */
        if (!PyUnicode_Check(text)) {
            PyBuffer_Release(&view);
            Py_DECREF(out);
            PyErr_SetString(PyExc_TypeError, "texts must be str or None");
            return NULL;
        }
        int64_t *row = counts + d * n_values;
        const void *data = PyUnicode_DATA(text);
        Py_ssize_t len = PyUnicode_GET_LENGTH(text);
        switch (PyUnicode_KIND(text)) {
        case PyUnicode_1BYTE_KIND: COUNT(Py_UCS1); break;
        case PyUnicode_2BYTE_KIND: COUNT(Py_UCS2); break;
        default: COUNT(Py_UCS4); break;
        }
    }
    PyBuffer_Release(&view);
    return out;
}

/* Append the UTF-8 bytes of code point c (not a surrogate) to buf. */
static inline Py_ssize_t put_utf8(char *buf, Py_ssize_t n, Py_UCS4 c) {
    if (c < 0x80) {
        buf[n++] = (char)c;
    } else if (c < 0x800) {
        buf[n++] = (char)(0xC0 | (c >> 6));
        buf[n++] = (char)(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        buf[n++] = (char)(0xE0 | (c >> 12));
        buf[n++] = (char)(0x80 | ((c >> 6) & 0x3F));
        buf[n++] = (char)(0x80 | (c & 0x3F));
    } else {
        buf[n++] = (char)(0xF0 | (c >> 18));
        buf[n++] = (char)(0x80 | ((c >> 12) & 0x3F));
        buf[n++] = (char)(0x80 | ((c >> 6) & 0x3F));
        buf[n++] = (char)(0x80 | (c & 0x3F));
    }
    return n;
}

/* char_lines(text) -> (lines, tokens) or None: for each line of text (split at \n) that has a character
 * which is not white space (str.isspace), those characters separated by single spaces, as UTF-8 bytes;
 * tokens = the characters of all of them + one per line. That is, per line, `" ".join("".join(
 * line.split())).encode()`. None when the text holds a surrogate (which UTF-8 cannot encode). */
static PyObject *char_lines(PyObject *self, PyObject *args) {
    PyObject *text;
    if (!PyArg_ParseTuple(args, "U", &text)) return NULL;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t len = PyUnicode_GET_LENGTH(text);
    /* one line at a time: the buffer grows to the longest line's bytes, not the text's */
    Py_ssize_t cap = 4096;
    char *buf = malloc((size_t)cap);
    PyObject *lines = PyList_New(0);
    long long tokens = 0;
    if (!buf || !lines) {
        free(buf);
        Py_XDECREF(lines);
        return PyErr_NoMemory();
    }
    Py_ssize_t n = 0, chars = 0;
    for (Py_ssize_t i = 0; i <= len; i++) {
        Py_UCS4 c = i < len ? PyUnicode_READ(kind, data, i) : '\n';
        if (c == '\n') {
            if (chars) {
                PyObject *line = PyBytes_FromStringAndSize(buf, n);
                if (!line || PyList_Append(lines, line) < 0) {
                    Py_XDECREF(line);
                    goto fail;
                }
                Py_DECREF(line);
                tokens += chars + 1;
            }
            n = chars = 0;
            continue;
        }
        if (Py_UNICODE_ISSPACE(c)) continue;
        if (c >= 0xD800 && c < 0xE000) {
            free(buf);
            Py_DECREF(lines);
            Py_RETURN_NONE;
        }
        if (n + 5 > cap) { /* a space and at most 4 bytes */
            char *bigger = realloc(buf, (size_t)(2 * cap));
            if (!bigger) {
                PyErr_NoMemory();
                goto fail;
            }
            buf = bigger;
            cap *= 2;
        }
        if (chars) buf[n++] = ' ';
        n = put_utf8(buf, n, c);
        chars++;
    }
    free(buf);
    return Py_BuildValue("NL", lines, tokens);
fail:
    free(buf);
    Py_DECREF(lines);
    return NULL;
}


/* str.isspace for one character; no white space lies above U+3000, where nearly all Han text is, so those
 * characters skip the call into Python's Unicode database. */
static inline int is_space(Py_UCS4 c) {
    return c > 0x3000 ? 0 : Py_UNICODE_ISSPACE(c);
}

/* char_counts(text, marks) -> (bad, latin1_upper, marked, control, non_space): what ingest's mojibake and
 * control-character checks count (charset.char_counts_python is the definition): U+FFFD and C1 characters;
 * U+00A0-U+00FF; characters of the BMP whose byte in `marks` (65,536 bytes) is not 0; C0 and C1 controls
 * other than \t and \n (and U+007F); characters that are not white space (str.isspace). */
static PyObject *char_counts(PyObject *self, PyObject *args) {
    PyObject *text;
    Py_buffer marks;
    if (!PyArg_ParseTuple(args, "Uy*", &text, &marks)) return NULL;
    if (marks.len != 0x10000) {
        PyBuffer_Release(&marks);
        PyErr_SetString(PyExc_ValueError, "marks: one byte per BMP code point (65,536)");
        return NULL;
    }
    const uint8_t *mark = marks.buf;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t len = PyUnicode_GET_LENGTH(text);
    long long bad = 0, latin = 0, marked = 0, control = 0, space = 0;
    for (Py_ssize_t i = 0; i < len; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c < 0x100) {
            if (c >= 0xA0) latin++;
            else if (c >= 0x80) bad++;
            if (c < 0x20 ? (c != '\t' && c != '\n') : (c >= 0x7F && c < 0xA0)) control++;
        } else if (c == 0xFFFD) {
            bad++;
        }
        if (c < 0x10000 && mark[c]) marked++;
        if (is_space(c)) space++;
    }
    PyBuffer_Release(&marks);
    return Py_BuildValue("LLLLL", bad, latin, marked, control, (long long)len - space);
}

/* tidy(text) -> str: extract.tidy_python in one pass. \r\n, \r, \v, \f, U+2028 and U+2029 end a line; \t,
 * U+00A0 and U+3000 are spaces; in each line a run of spaces becomes one and white space (str.isspace) at
 * either end goes; the non-empty lines are joined by \n, by \n\n where empty lines were between them. */
static inline Py_UCS4 tidy_map(Py_UCS4 c) {
    switch (c) {
    case 0x0B: case 0x0C: case 0x2028: case 0x2029: return '\n';
    case '\t': case 0xA0: case 0x3000: return ' ';
    default: return c;
    }
}

static PyObject *tidy(PyObject *self, PyObject *args) {
    PyObject *text;
    if (!PyArg_ParseTuple(args, "U", &text)) return NULL;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t len = PyUnicode_GET_LENGTH(text);
    /* the result is never longer, and needs no wider characters: a buffer of the text's own kind */
    void *out = PyMem_Malloc((size_t)(len ? len : 1) * (size_t)kind);
    if (!out) return PyErr_NoMemory();
    Py_ssize_t n = 0;           /* characters written */
    Py_ssize_t line_start = -1; /* where the current line's characters begin in out; -1: none yet */
    int have_line = 0;          /* a non-empty line has been written */
    int blank = 0;              /* an empty line since the last non-empty one */
    for (Py_ssize_t i = 0; i <= len; i++) {
        Py_UCS4 c = '\n';
        if (i < len) {
            c = PyUnicode_READ(kind, data, i);
            if (c == '\r') {
                if (i + 1 < len && PyUnicode_READ(kind, data, i + 1) == '\n') i++;
                c = '\n';
            } else {
                c = tidy_map(c);
            }
        }
        if (c == '\n') {
            if (line_start >= 0) { /* the line ends: its trailing white space goes */
                while (n > line_start && is_space(PyUnicode_READ(kind, out, n - 1))) n--;
                have_line = 1;
                blank = 0;
                line_start = -1;
            } else if (have_line) {
                blank = 1;
            }
            continue;
        }
        if (line_start < 0) {
            if (is_space(c)) continue; /* the line's leading white space */
            if (have_line) {
                PyUnicode_WRITE(kind, out, n, '\n');
                n++;
                if (blank) {
                    PyUnicode_WRITE(kind, out, n, '\n');
                    n++;
                }
            }
            line_start = n;
        } else if (c == ' ' && PyUnicode_READ(kind, out, n - 1) == ' ') {
            continue; /* a run of spaces is one */
        }
        PyUnicode_WRITE(kind, out, n, c);
        n++;
    }
    PyObject *result = PyUnicode_FromKindAndData(kind, out, n);
    PyMem_Free(out);
    return result;
}

static PyMethodDef methods[] = {
    {"table_hits", table_hits, METH_VARARGS,
     "table_hits(texts, table) -> (positions, values, starts) as bytes of int64, uint8 and int64\n\n"
     "The offsets (in the texts' joined code points) and table values of every character whose entry in\n"
     "`table` (one uint8 per code point) is not 0, and each text's start offset (n + 1; None is empty)."},
    {"table_counts", table_counts, METH_VARARGS,
     "table_counts(texts, table, n_values) -> bytes of int64, n_docs x n_values\n\n"
     "Per text, how many of its characters have each value in `table` (one uint8 per code point, every\n"
     "value below n_values); None counts as empty."},
    {"char_lines", char_lines, METH_VARARGS,
     "char_lines(text) -> (lines, tokens) or None\n\n"
     "Per line with a non-space character: its non-space characters joined by single spaces, as UTF-8\n"
     "bytes; tokens counts those characters plus one per line. None when the text holds a surrogate."},
    {"char_counts", char_counts, METH_VARARGS,
     "char_counts(text, marks) -> (bad, latin1_upper, marked, control, non_space)\n\n"
     "What ingest's mojibake and control-character checks count, in one pass (charset.char_counts_python)."},
    {"tidy", tidy, METH_VARARGS,
     "tidy(text) -> str\n\n"
     "ingest's whitespace clean-up (extract.tidy_python) in one pass: \\n line ends, one space for a run\n"
     "of spaces, lines stripped, at most one empty line between lines, none at either end."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_textscan", NULL, -1, methods};

PyMODINIT_FUNC PyInit__textscan(void) { return PyModule_Create(&module); }
