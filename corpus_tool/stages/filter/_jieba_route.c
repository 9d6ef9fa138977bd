/* jieba's segmentation of one block of text, compiled, for jieba_window.JiebaWindow: the dictionary's best
 * route (`Tokenizer.get_DAG` then `Tokenizer.calc`) and the HMM's best states for a run of single
 * characters (`finalseg.viterbi`). The route uses the same dictionary (jieba's FREQ dict, looked up with
 * the same substrings), the same arithmetic in the same order ((log(freq or 1) - logtotal) + route[x + 1],
 * C's log being the one math.log calls) and the same tie rule as Python's max over (value, x) tuples (the
 * larger x wins a tie). So both are jieba's own answers; tests/test_jieba_window.py checks them against
 * jieba on real and generated text.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdlib.h>

#define MEMO_MAX 200000 /* fragments remembered per memo dict */

/* FREQ.get(s[k:i + 1]): a new reference or NULL (absent); -1 in *err on a Python error. `memo` (a dict, or
 * NULL) remembers the answers for fragments seen before (None for absent): jieba's FREQ holds half a
 * million words, so most of its lookups miss the CPU caches, while the fragments of real text repeat. */
static PyObject *lookup(PyObject *freq, PyObject *memo, PyObject *s, Py_ssize_t k, Py_ssize_t i, int *err) {
    PyObject *frag = PyUnicode_Substring(s, k, i + 1);
    if (!frag) {
        *err = -1;
        return NULL;
    }
    PyObject *v = memo ? PyDict_GetItemWithError(memo, frag) : NULL;
    if (v) {
        Py_DECREF(frag);
        if (v == Py_None) return NULL;
        Py_INCREF(v);
        return v;
    }
    if (PyErr_Occurred()) goto fail;
    v = PyDict_GetItemWithError(freq, frag);
    if (!v && PyErr_Occurred()) goto fail;
    if (memo && PyDict_GET_SIZE(memo) < MEMO_MAX && PyDict_SetItem(memo, frag, v ? v : Py_None) < 0) goto fail;
    Py_DECREF(frag);
    Py_XINCREF(v);
    return v;
fail:
    Py_DECREF(frag);
    *err = -1;
    return NULL;
}

/* Append a DAG edge (its end and log(freq)), growing both arrays; -1 when out of memory. */
static int push(Py_ssize_t **ends, double **logf, Py_ssize_t *used, Py_ssize_t *cap, Py_ssize_t end, double f) {
    if (*used == *cap) {
        Py_ssize_t *e2 = realloc(*ends, (size_t)(2 * *cap) * sizeof(Py_ssize_t));
        if (e2) *ends = e2;
        double *l2 = realloc(*logf, (size_t)(2 * *cap) * sizeof(double));
        if (l2) *logf = l2;
        if (!e2 || !l2) {
            PyErr_NoMemory();
            return -1;
        }
        *cap *= 2;
    }
    (*ends)[*used] = end;
    (*logf)[*used] = log(f);
    (*used)++;
    return 0;
}

static PyObject *route(PyObject *self, PyObject *args) {
    PyObject *s, *freq, *memo = NULL;
    double logtotal;
    if (!PyArg_ParseTuple(args, "UO!d|O!", &s, &PyDict_Type, &freq, &logtotal, &PyDict_Type, &memo)) return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    /* dag[k]: the ends i (ascending) of the dictionary words s[k:i + 1]; weight[k][j]: log(freq) of each */
    Py_ssize_t *dag_start = malloc((size_t)(n + 1) * sizeof(Py_ssize_t));
    Py_ssize_t cap = 4 * n + 4, used = 0;
    Py_ssize_t *ends = malloc((size_t)cap * sizeof(Py_ssize_t));
    double *logf = malloc((size_t)cap * sizeof(double));
    double *best = malloc((size_t)(n + 1) * sizeof(double));
    Py_ssize_t *best_end = malloc((size_t)(n + 1) * sizeof(Py_ssize_t));
    PyObject *out = NULL;
    int err = 0;
    if (!dag_start || !ends || !logf || !best || !best_end) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        dag_start[k] = used;
        for (Py_ssize_t i = k; i < n; i++) {
            PyObject *v = lookup(freq, memo, s, k, i, &err);
            if (err) goto done;
            if (!v) break; /* not even a prefix of a word: the DAG stops here */
            int truthy = PyObject_IsTrue(v);
            double f = 0.0;
            if (truthy > 0) f = PyFloat_AsDouble(v);
            Py_DECREF(v);
            if (truthy < 0 || (truthy > 0 && f == -1.0 && PyErr_Occurred())) goto done;
            if (!truthy) continue; /* a prefix only */
            if (push(&ends, &logf, &used, &cap, i, f) < 0) goto done;
        }
        if (used == dag_start[k]) { /* no word starts here: the character alone, FREQ.get(...) or 1 */
            PyObject *v = lookup(freq, memo, s, k, k, &err);
            if (err) goto done;
            double f = 1.0;
            if (v) {
                int truthy = PyObject_IsTrue(v);
                if (truthy > 0) f = PyFloat_AsDouble(v);
                Py_DECREF(v);
                if (truthy < 0 || PyErr_Occurred()) goto done;
            }
            if (push(&ends, &logf, &used, &cap, k, f) < 0) goto done;
        }
    }
    dag_start[n] = used;
    best[n] = 0.0;
    for (Py_ssize_t k = n - 1; k >= 0; k--) {
        double bv = 0.0;
        Py_ssize_t bx = -1;
        for (Py_ssize_t j = dag_start[k]; j < dag_start[k + 1]; j++) {
            double v = (logf[j] - logtotal) + best[ends[j] + 1];
            if (bx < 0 || v > bv || (v == bv && ends[j] > bx)) {
                bv = v;
                bx = ends[j];
            }
        }
        best[k] = bv;
        best_end[k] = bx;
    }
    out = PyList_New(n);
    for (Py_ssize_t k = 0; out && k < n; k++) {
        PyObject *x = PyLong_FromSsize_t(best_end[k]);
        if (!x) {
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, k, x);
    }
done:
    free(dag_start);
    free(ends);
    free(logf);
    free(best);
    free(best_end);
    return out;
}

/* jieba.finalseg.viterbi(block, 'BMES', start_p, trans_p, emit_p)[1] as a str of state letters. States are
 * indexed B, M, E, S; `start` and `trans` (4 and 16 floats, row = from) are jieba's tables with
 * MIN_FLOAT where a transition is missing, `emit` the four emission dicts. Each step adds in jieba's
 * order ((V[t - 1][y0] + trans) + emit) and breaks ties as max over (value, state letter) does. */
#define MIN_FLOAT (-3.14e100)
static const char LETTER[4] = {'B', 'M', 'E', 'S'};
static const int PREV[4][2] = {{2, 3}, {1, 0}, {0, 1}, {3, 2}}; /* PrevStatus: B 'ES', M 'MB', E 'BM', S 'SE' */

static int emissions(PyObject *emit, PyObject *ch, double out[4]) {
    for (int y = 0; y < 4; y++) {
        PyObject *v = PyDict_GetItemWithError(PyTuple_GET_ITEM(emit, y), ch);
        if (!v && PyErr_Occurred()) return -1;
        out[y] = v ? PyFloat_AsDouble(v) : MIN_FLOAT;
        if (out[y] == -1.0 && PyErr_Occurred()) return -1;
    }
    return 0;
}

static PyObject *hmm_states(PyObject *self, PyObject *args) {
    PyObject *s, *start_obj, *trans_obj, *emit;
    if (!PyArg_ParseTuple(args, "UO!O!O!", &s, &PyTuple_Type, &start_obj, &PyTuple_Type, &trans_obj,
                          &PyTuple_Type, &emit))
        return NULL;
    if (PyTuple_GET_SIZE(start_obj) != 4 || PyTuple_GET_SIZE(trans_obj) != 16 || PyTuple_GET_SIZE(emit) != 4) {
        PyErr_SetString(PyExc_ValueError, "need 4 start, 16 transition values and 4 emission dicts");
        return NULL;
    }
    for (int y = 0; y < 4; y++)
        if (!PyDict_Check(PyTuple_GET_ITEM(emit, y))) {
            PyErr_SetString(PyExc_TypeError, "emission tables must be dicts");
            return NULL;
        }
    double start[4], trans[4][4];
    for (int y = 0; y < 4; y++) start[y] = PyFloat_AsDouble(PyTuple_GET_ITEM(start_obj, y));
    for (int k = 0; k < 16; k++) trans[k / 4][k % 4] = PyFloat_AsDouble(PyTuple_GET_ITEM(trans_obj, k));
    if (PyErr_Occurred()) return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    if (n == 0) return PyUnicode_FromString("");
    unsigned char *back = malloc((size_t)n * 4);
    char *letters = malloc((size_t)n + 1);
    PyObject *out = NULL;
    double v[4], w[4], em[4];
    if (!back || !letters) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t t = 0; t < n; t++) {
        PyObject *ch = PyUnicode_Substring(s, t, t + 1);
        if (!ch) goto done;
        int bad = emissions(emit, ch, em);
        Py_DECREF(ch);
        if (bad) goto done;
        if (t == 0) {
            for (int y = 0; y < 4; y++) v[y] = start[y] + em[y];
            continue;
        }
        for (int y = 0; y < 4; y++) {
            int a = PREV[y][0], b = PREV[y][1];
            double va = (v[a] + trans[a][y]) + em[y], vb = (v[b] + trans[b][y]) + em[y];
            int take_b = vb > va || (vb == va && LETTER[b] > LETTER[a]);
            w[y] = take_b ? vb : va;
            back[t * 4 + y] = (unsigned char)(take_b ? b : a);
        }
        for (int y = 0; y < 4; y++) v[y] = w[y];
    }
    int state = v[3] >= v[2] ? 3 : 2; /* max over (V, y) for y in 'ES': S wins a tie */
    letters[n] = 0;
    for (Py_ssize_t t = n - 1; t >= 0; t--) {
        letters[t] = LETTER[state];
        if (t) state = back[t * 4 + state];
    }
    out = PyUnicode_FromStringAndSize(letters, n);
done:
    free(back);
    free(letters);
    return out;
}

static PyMethodDef methods[] = {
    {"hmm_states", hmm_states, METH_VARARGS,
     "hmm_states(block, start, trans, emit) -> 'BMES...'\n\n"
     "The state of each character on jieba.finalseg's best HMM path (viterbi(...)[1]), as letters."},
    {"route", route, METH_VARARGS,
     "route(block, freq, logtotal, memo=None) -> [end, ...]\n\n"
     "For each position of `block`, the last position of the word that jieba's best route (get_DAG, calc with\n"
     "dictionary `freq` and log(total) `logtotal`) takes there: route[k][1] of Tokenizer.calc. `memo`, a dict,\n"
     "remembers freq's answers (None: absent) for the next calls; it must be emptied if freq changes."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_jieba_route", NULL, -1, methods};

PyMODINIT_FUNC PyInit__jieba_route(void) { return PyModule_Create(&module); }
