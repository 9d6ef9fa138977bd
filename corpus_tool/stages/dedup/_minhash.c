/* The character path of dedup's batch signatures, compiled: light normalisation of each text's code points
 * (hashing.normalize_code_points), the seeded n-gram hashes (hashing.shingle_hashes) and the one-permutation
 * MinHash bins (hashing.signatures before densification), in one pass per text instead of numpy arrays of
 * every code point and every shingle. Integer-exact: the same wrapping uint64 products and sums, the same
 * splitmix64, the same bin and value bits, so the signatures are the numpy code's to the bit
 * (tests/test_dedup_native.py compares them; hashing.py keeps numpy as the reference and the fallback).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NGRAM 64

static inline uint64_t splitmix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static int get_buffer(PyObject *obj, Py_buffer *view, Py_ssize_t need, const char *what) {
    if (PyObject_GetBuffer(obj, view, PyBUF_SIMPLE) < 0) return -1;
    if (view->len < need) {
        PyBuffer_Release(view);
        PyErr_Format(PyExc_ValueError, "%s: need %zd bytes", what, need);
        return -1;
    }
    return 0;
}

/* Normalised code points of one text into norm[0..], returning how many. */
#define NORMALIZE(type)                                                        \
    do {                                                                       \
        const type *p = (const type *)data;                                    \
        for (Py_ssize_t i = 0; i < len; i++) {                                 \
            uint32_t c = p[i];                                                 \
            if (c < 0x10000) {                                                 \
                if (!keep[c]) continue;                                        \
                c = mapping[c];                                                \
            }                                                                  \
            norm[m++] = c;                                                     \
        }                                                                      \
    } while (0)

/* char_signatures(texts, mapping, keep, ngram, position, salt, bin_salt, num_perm)
 *   -> (norm, lengths, sig, filled, n_shingles) as bytes: uint32 code points of all texts, int64 per text,
 *      uint32 and uint8 per text and bin (0xFFFFFFFF / 0 where no shingle fell), int32 per text. */
static PyObject *char_signatures(PyObject *self, PyObject *args) {
    PyObject *texts, *map_obj, *keep_obj, *pos_obj;
    Py_ssize_t ngram, num_perm;
    unsigned long long salt, bin_salt;
    if (!PyArg_ParseTuple(args, "O!OOnOKKn", &PyList_Type, &texts, &map_obj, &keep_obj, &ngram, &pos_obj, &salt,
                          &bin_salt, &num_perm))
        return NULL;
    if (ngram < 1 || ngram > MAX_NGRAM || num_perm < 1 || num_perm > (1 << 20)) {
        PyErr_SetString(PyExc_ValueError, "ngram must be in [1, 64] and num_perm in [1, 2**20]");
        return NULL;
    }
    Py_buffer mview, kview, pview;
    if (get_buffer(map_obj, &mview, 0x10000 * 4, "mapping") < 0) return NULL;
    if (get_buffer(keep_obj, &kview, 0x10000, "keep") < 0) {
        PyBuffer_Release(&mview);
        return NULL;
    }
    if (get_buffer(pos_obj, &pview, ngram * 8, "position") < 0) {
        PyBuffer_Release(&mview);
        PyBuffer_Release(&kview);
        return NULL;
    }
    const uint32_t *mapping = mview.buf;
    const uint8_t *keep = kview.buf;
    uint64_t mult[MAX_NGRAM];
    memcpy(mult, pview.buf, (size_t)ngram * 8);
    PyBuffer_Release(&pview);

    Py_ssize_t n_docs = PyList_GET_SIZE(texts), total = 0;
    for (Py_ssize_t d = 0; d < n_docs; d++) {
        PyObject *t = PyList_GET_ITEM(texts, d);
        if (!PyUnicode_Check(t)) {
            PyBuffer_Release(&mview);
            PyBuffer_Release(&kview);
            PyErr_SetString(PyExc_TypeError, "texts must be str");
            return NULL;
        }
        total += PyUnicode_GET_LENGTH(t);
    }
    PyObject *norm_b = PyBytes_FromStringAndSize(NULL, total * 4);
    PyObject *len_b = PyBytes_FromStringAndSize(NULL, n_docs * 8);
    PyObject *sig_b = PyBytes_FromStringAndSize(NULL, n_docs * num_perm * 4);
    PyObject *fill_b = PyBytes_FromStringAndSize(NULL, n_docs * num_perm);
    PyObject *nsh_b = PyBytes_FromStringAndSize(NULL, n_docs * 4);
    PyObject *out = NULL;
    if (!norm_b || !len_b || !sig_b || !fill_b || !nsh_b) goto done;
    uint32_t *norm_all = (uint32_t *)PyBytes_AS_STRING(norm_b);
    int64_t *lengths = (int64_t *)PyBytes_AS_STRING(len_b);
    uint32_t *sig = (uint32_t *)PyBytes_AS_STRING(sig_b);
    uint8_t *filled = (uint8_t *)PyBytes_AS_STRING(fill_b);
    int32_t *n_shingles = (int32_t *)PyBytes_AS_STRING(nsh_b);
    memset(sig, 0xFF, (size_t)(n_docs * num_perm) * 4);
    memset(filled, 0, (size_t)(n_docs * num_perm));
    Py_ssize_t offset = 0;
    for (Py_ssize_t d = 0; d < n_docs; d++) {
        PyObject *t = PyList_GET_ITEM(texts, d);
        const void *data = PyUnicode_DATA(t);
        Py_ssize_t len = PyUnicode_GET_LENGTH(t), m = 0;
        uint32_t *norm = norm_all + offset;
        switch (PyUnicode_KIND(t)) {
        case PyUnicode_1BYTE_KIND: NORMALIZE(Py_UCS1); break;
        case PyUnicode_2BYTE_KIND: NORMALIZE(Py_UCS2); break;
        default: NORMALIZE(Py_UCS4); break;
        }
        lengths[d] = m;
        offset += m;
        uint32_t *dsig = sig + d * num_perm;
        uint8_t *dfill = filled + d * num_perm;
        /* a text shorter than ngram (but not empty) is one shingle of all its tokens */
        Py_ssize_t count = m >= ngram ? m - ngram + 1 : (m > 0 ? 1 : 0), span = m >= ngram ? ngram : m;
        for (Py_ssize_t s = 0; s < count; s++) {
            uint64_t h = 0;
            for (Py_ssize_t j = 0; j < span; j++) h += (uint64_t)norm[s + j] * mult[j];
            uint64_t mixed = splitmix64(splitmix64(h + salt) ^ bin_salt);
            uint64_t bin = ((mixed >> 32) * (uint64_t)num_perm) >> 32;
            uint32_t value = (uint32_t)(mixed & 0xFFFFFFFFULL);
            if (value < dsig[bin]) dsig[bin] = value;
            dfill[bin] = 1;
        }
        n_shingles[d] = (int32_t)count;
    }
    if (_PyBytes_Resize(&norm_b, offset * 4) < 0) goto done;
    out = Py_BuildValue("OOOOO", norm_b, len_b, sig_b, fill_b, nsh_b);
done:
    PyBuffer_Release(&mview);
    PyBuffer_Release(&kview);
    Py_XDECREF(norm_b);
    Py_XDECREF(len_b);
    Py_XDECREF(sig_b);
    Py_XDECREF(fill_b);
    Py_XDECREF(nsh_b);
    return out;
}

static PyMethodDef methods[] = {
    {"char_signatures", char_signatures, METH_VARARGS,
     "char_signatures(texts, mapping, keep, ngram, position, salt, bin_salt, num_perm)\n"
     "-> (norm, lengths, sig, filled, n_shingles) as bytes\n\n"
     "The normalised code points of every text (uint32, concatenated) and their count per text (int64),\n"
     "the undensified one-permutation MinHash bins (uint32, 0xFFFFFFFF where empty), which bins were\n"
     "filled (uint8) and the shingles per text (int32)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_minhash", NULL, -1, methods};

PyMODINIT_FUNC PyInit__minhash(void) { return PyModule_Create(&module); }
