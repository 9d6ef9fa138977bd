/* A trie of words, matched leftmost-longest without overlaps: the compiled twin of
 * wordlists.literal_trie_regex (the regex stays the reference and the fallback). At each position the
 * longest word starting there is taken and the scan goes on after it; where no word starts, one character
 * on. That is what the trie-shaped regex's findall returns (tests/test_filter_native.py compares them).
 *
 * Edges live in one open-addressing table keyed by (node, code point); a node is a word's end or not.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    PyObject_HEAD
    uint64_t *keys; /* (node + 1) << 21 | code point; 0 = empty */
    int32_t *child;
    Py_ssize_t table_size; /* a power of two */
    uint8_t *is_end;       /* per node */
    Py_ssize_t n_nodes;
    uint8_t *starts;       /* a bit per code point: does a word start with it (most positions stop here) */
} Trie;

static inline Py_ssize_t slot_of(const Trie *t, uint64_t key) {
    return (Py_ssize_t)((key * 0x9E3779B97F4A7C15ULL) >> 32) & (t->table_size - 1);
}

static inline int32_t step(const Trie *t, int32_t node, Py_UCS4 cp) {
    uint64_t key = ((uint64_t)(node + 1) << 21) | cp;
    for (Py_ssize_t at = slot_of(t, key);; at = (at + 1) & (t->table_size - 1)) {
        if (t->keys[at] == key) return t->child[at];
        if (!t->keys[at]) return -1;
    }
}

static void trie_dealloc(Trie *t) {
    free(t->keys);
    free(t->child);
    free(t->is_end);
    free(t->starts);
    Py_TYPE(t)->tp_free((PyObject *)t);
}

static PyObject *trie_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    PyObject *words;
    static char *kwlist[] = {"words", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!", kwlist, &PyList_Type, &words)) return NULL;
    Py_ssize_t total = 1;
    for (Py_ssize_t w = 0; w < PyList_GET_SIZE(words); w++) {
        PyObject *word = PyList_GET_ITEM(words, w);
        if (!PyUnicode_Check(word)) {
            PyErr_SetString(PyExc_TypeError, "words must be str");
            return NULL;
        }
        total += PyUnicode_GET_LENGTH(word);
    }
    Trie *t = (Trie *)type->tp_alloc(type, 0);
    if (!t) return NULL;
    t->table_size = 16;
    while (t->table_size < 2 * total) t->table_size <<= 1;
    t->keys = calloc((size_t)t->table_size, sizeof(uint64_t));
    t->child = calloc((size_t)t->table_size, sizeof(int32_t));
    t->is_end = calloc((size_t)total, 1);
    t->starts = calloc(0x110000 / 8, 1);
    if (!t->keys || !t->child || !t->is_end || !t->starts) {
        Py_DECREF(t);
        return PyErr_NoMemory();
    }
    t->n_nodes = 1;
    for (Py_ssize_t w = 0; w < PyList_GET_SIZE(words); w++) {
        PyObject *word = PyList_GET_ITEM(words, w);
        int kind = PyUnicode_KIND(word);
        const void *data = PyUnicode_DATA(word);
        Py_ssize_t len = PyUnicode_GET_LENGTH(word);
        if (!len) continue; /* the empty word matches nothing, as in the regex */
        int32_t node = 0;
        Py_UCS4 first = PyUnicode_READ(kind, data, 0);
        t->starts[first >> 3] |= (uint8_t)(1u << (first & 7));
        for (Py_ssize_t i = 0; i < len; i++) {
            Py_UCS4 cp = PyUnicode_READ(kind, data, i);
            uint64_t key = ((uint64_t)(node + 1) << 21) | cp;
            Py_ssize_t at = slot_of(t, key);
            while (t->keys[at] && t->keys[at] != key) at = (at + 1) & (t->table_size - 1);
            if (!t->keys[at]) {
                t->keys[at] = key;
                t->child[at] = (int32_t)t->n_nodes++;
            }
            node = t->child[at];
        }
        t->is_end[node] = 1;
    }
    return (PyObject *)t;
}

/* The end (exclusive) of the longest word starting at i, or -1 (i's character starts a word). */
static inline Py_ssize_t longest_at(const Trie *t, int kind, const void *data, Py_ssize_t len, Py_ssize_t i) {
    int32_t node = 0;
    Py_ssize_t best = -1;
    for (Py_ssize_t j = i; j < len; j++) {
        node = step(t, node, PyUnicode_READ(kind, data, j));
        if (node < 0) break;
        if (t->is_end[node]) best = j + 1;
    }
    return best;
}

/* The next position at or after i whose character starts a word, or len: one loop per string kind. */
#define SKIP_LOOP(type)                                                         \
    do {                                                                        \
        const type *p = (const type *)data;                                     \
        while (i < len && !(t->starts[p[i] >> 3] & (1u << (p[i] & 7)))) i++;    \
    } while (0)

static inline Py_ssize_t next_start(const Trie *t, int kind, const void *data, Py_ssize_t len, Py_ssize_t i) {
    switch (kind) {
    case PyUnicode_1BYTE_KIND: SKIP_LOOP(Py_UCS1); break;
    case PyUnicode_2BYTE_KIND: SKIP_LOOP(Py_UCS2); break;
    default: SKIP_LOOP(Py_UCS4); break;
    }
    return i;
}

typedef struct {
    int kind;
    const void *data;
    Py_ssize_t len;
} Text;

/* The str's characters, or -1 (a TypeError) when it is not a str. */
static int text_of(PyObject *obj, Text *t, const char *method) {
    if (!PyUnicode_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s() needs a str", method);
        return -1;
    }
    t->kind = PyUnicode_KIND(obj);
    t->data = PyUnicode_DATA(obj);
    t->len = PyUnicode_GET_LENGTH(obj);
    return 0;
}

static PyObject *trie_findall(Trie *t, PyObject *text) {
    Text x;
    if (text_of(text, &x, "findall") < 0) return NULL;
    int kind = x.kind;
    const void *data = x.data;
    Py_ssize_t len = x.len;
    PyObject *hits = PyList_New(0);
    for (Py_ssize_t i = next_start(t, kind, data, len, 0); hits && i < len;) {
        Py_ssize_t end = longest_at(t, kind, data, len, i);
        if (end < 0) {
            i = next_start(t, kind, data, len, i + 1);
            continue;
        }
        PyObject *hit = PyUnicode_Substring(text, i, end);
        if (!hit || PyList_Append(hits, hit) < 0) Py_CLEAR(hits);
        Py_XDECREF(hit);
        i = next_start(t, kind, data, len, end);
    }
    return hits;
}

static PyObject *trie_search(Trie *t, PyObject *text) {
    Text x;
    if (text_of(text, &x, "search") < 0) return NULL;
    int kind = x.kind;
    const void *data = x.data;
    Py_ssize_t len = x.len;
    for (Py_ssize_t i = next_start(t, kind, data, len, 0); i < len; i = next_start(t, kind, data, len, i + 1))
        if (longest_at(t, kind, data, len, i) >= 0) Py_RETURN_TRUE;
    Py_RETURN_FALSE;
}

static PyMethodDef trie_methods[] = {
    {"findall", (PyCFunction)trie_findall, METH_O,
     "findall(text) -> [word, ...]: the words found, leftmost-longest and without overlaps."},
    {"search", (PyCFunction)trie_search, METH_O, "search(text) -> bool: does any word occur in text."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject TrieType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "corpus_tool.stages.filter._wordtrie.Trie",
    .tp_basicsize = sizeof(Trie),
    .tp_dealloc = (destructor)trie_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Trie(words): a word list matched leftmost-longest (findall, search).",
    .tp_methods = trie_methods,
    .tp_new = trie_new,
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_wordtrie", NULL, -1, NULL};

PyMODINIT_FUNC PyInit__wordtrie(void) {
    if (PyType_Ready(&TrieType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    Py_INCREF(&TrieType);
    if (PyModule_AddObject(m, "Trie", (PyObject *)&TrieType) < 0) {
        Py_DECREF(&TrieType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
