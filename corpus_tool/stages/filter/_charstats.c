/* Character statistics of one text, read straight from the str: the compiled twin of DocView's numpy
 * features (code points -> class bits -> counts and runs), which stay the reference and the fallback.
 * tests/test_filter_native.py checks both give the same values.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>

enum { SPACE = 1, HAN = 2, PUNCT = 4, ALNUM = 8 };

static int get_bits(PyObject *obj, Py_buffer *view) {
    if (PyObject_GetBuffer(obj, view, PyBUF_SIMPLE) < 0) return -1;
    if (view->len < 0x110000) {
        PyErr_SetString(PyExc_ValueError, "bits: need one byte per code point");
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

/* One loop per string kind (1, 2 or 4 bytes a character): no kind switch per character. */
#define COUNT_LOOP(type)                                        \
    do {                                                        \
        const type *p = (const type *)data;                     \
        for (Py_ssize_t i = 0; i < len; i++) {                  \
            uint8_t c = table[p[i]];                            \
            vis += !(c & SPACE);                                \
            han += (c & (SPACE | HAN)) == HAN;                  \
            punct += (c & (SPACE | PUNCT)) == PUNCT;            \
        }                                                       \
    } while (0)

static PyObject *counts(PyObject *self, PyObject *args) {
    PyObject *text, *bits_obj;
    if (!PyArg_ParseTuple(args, "UO", &text, &bits_obj)) return NULL;
    Py_buffer bits;
    if (get_bits(bits_obj, &bits) < 0) return NULL;
    const uint8_t *table = bits.buf;
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t len = PyUnicode_GET_LENGTH(text), vis = 0, han = 0, punct = 0;
    switch (PyUnicode_KIND(text)) {
    case PyUnicode_1BYTE_KIND: COUNT_LOOP(Py_UCS1); break;
    case PyUnicode_2BYTE_KIND: COUNT_LOOP(Py_UCS2); break;
    default: COUNT_LOOP(Py_UCS4); break;
    }
    PyBuffer_Release(&bits);
    return Py_BuildValue("nnn", vis, han, punct);
}

static int is_sep(Py_UCS4 cp, PyObject *seps) {
    int kind = PyUnicode_KIND(seps);
    const void *data = PyUnicode_DATA(seps);
    for (Py_ssize_t j = 0; j < PyUnicode_GET_LENGTH(seps); j++)
        if (PyUnicode_READ(kind, data, j) == cp) return 1;
    return 0;
}

static PyObject *runs(PyObject *self, PyObject *args) {
    PyObject *text, *bits_obj, *seps;
    Py_ssize_t max_run;
    if (!PyArg_ParseTuple(args, "UOnU", &text, &bits_obj, &max_run, &seps)) return NULL;
    Py_buffer bits;
    if (get_bits(bits_obj, &bits) < 0) return NULL;
    const uint8_t *table = bits.buf;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t len = PyUnicode_GET_LENGTH(text), longest = 0;
    PyObject *long_runs = PyList_New(0);
    for (Py_ssize_t i = 0; long_runs && i < len;) {
        Py_UCS4 cp = PyUnicode_READ(kind, data, i);
        Py_ssize_t j = i + 1;
        while (j < len && PyUnicode_READ(kind, data, j) == cp) j++;
        Py_ssize_t n = j - i;
        i = j;
        if (table[cp] & SPACE) continue;
        if (n > longest && !is_sep(cp, seps)) longest = n;
        if (n > max_run) {
            PyObject *item = Py_BuildValue("(In)", (unsigned int)cp, n);
            if (!item || PyList_Append(long_runs, item) < 0) Py_CLEAR(long_runs);
            Py_XDECREF(item);
        }
    }
    PyBuffer_Release(&bits);
    if (!long_runs) return NULL;
    return Py_BuildValue("nN", longest, long_runs);
}

/* Does a character match the regex class [^\W\d_] (a letter of any script): \w less digits and '_'. */
static inline int is_letter(Py_UCS4 ch) { return Py_UNICODE_ISALNUM(ch) && !Py_UNICODE_ISDECIMAL(ch); }

static PyObject *letterless_lines(PyObject *self, PyObject *args) {
    PyObject *text;
    Py_ssize_t max_chars;
    if (!PyArg_ParseTuple(args, "Un", &text, &max_chars)) return NULL;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t len = PyUnicode_GET_LENGTH(text), line = 0;
    PyObject *out = PyList_New(0);
    for (Py_ssize_t start = 0; out && start <= len; line++) {
        Py_ssize_t end = start;
        while (end < len && PyUnicode_READ(kind, data, end) != '\n') end++;
        Py_ssize_t first = start, last = end - 1; /* the stripped line */
        while (first < end && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, first))) first++;
        while (last >= first && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, last))) last--;
        if (first < end && last - first + 1 <= max_chars) {
            int letter = 0;
            for (Py_ssize_t i = first; i <= last && !letter; i++) letter = is_letter(PyUnicode_READ(kind, data, i));
            if (!letter) {
                PyObject *k = PyLong_FromSsize_t(line);
                if (!k || PyList_Append(out, k) < 0) Py_CLEAR(out);
                Py_XDECREF(k);
            }
        }
        start = end + 1;
    }
    return out;
}

/* The non-empty stripped lines, as list(filter(None, map(str.strip, text.split("\n")))): one pass that
 * makes only the strings it returns (str.strip removes what Py_UNICODE_ISSPACE calls whitespace). */
static PyObject *stripped_lines(PyObject *self, PyObject *text) {
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "stripped_lines: expected a str");
        return NULL;
    }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t len = PyUnicode_GET_LENGTH(text);
    PyObject *out = PyList_New(0);
    for (Py_ssize_t start = 0; out && start <= len;) {
        Py_ssize_t end = PyUnicode_FindChar(text, '\n', start, len, 1);
        if (end == -2) {
            Py_CLEAR(out);
            break;
        }
        if (end < 0) end = len;
        Py_ssize_t first = start, stop = end;
        while (first < stop && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, first))) first++;
        while (stop > first && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, stop - 1))) stop--;
        if (stop > first) {
            PyObject *line = PyUnicode_Substring(text, first, stop);
            if (!line || PyList_Append(out, line) < 0) Py_CLEAR(out);
            Py_XDECREF(line);
        }
        start = end + 1;
    }
    return out;
}

static PyMethodDef methods[] = {
    {"stripped_lines", stripped_lines, METH_O,
     "stripped_lines(text) -> [line, ...]\n\n"
     "The lines of text.split('\\n') stripped (str.strip), the empty ones left out."},
    {"letterless_lines", letterless_lines, METH_VARARGS,
     "letterless_lines(text, max_chars) -> [line number, ...]\n\n"
     "The lines of text.split('\\n') that are not blank, at most max_chars long once stripped, and hold no\n"
     "letter (regex [^\\W\\d_]) of any script."},
    {"counts", counts, METH_VARARGS,
     "counts(text, bits) -> (visible, han, punct): characters that are not whitespace, Han, punctuation or\n"
     "symbol, by the filter's class table `bits` (one uint8 per code point)."},
    {"runs", runs, METH_VARARGS,
     "runs(text, bits, max_run, seps) -> (longest, [(code point, length), ...])\n\n"
     "Runs of one repeated non-whitespace character: the longest one whose character is not in `seps`, and\n"
     "every run longer than max_run, in text order."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_charstats", NULL, -1, methods};

PyMODINIT_FUNC PyInit__charstats(void) { return PyModule_Create(&module); }
