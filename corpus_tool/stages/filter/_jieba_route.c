/* jieba's best route through one block of text: `Tokenizer.get_DAG` then `Tokenizer.calc`, compiled, for
 * jieba_window.JiebaWindow. Same dictionary (jieba's FREQ dict, looked up with the same substrings), same
 * arithmetic in the same order ((log(freq or 1) - logtotal) + route[x + 1], C's log being the one
 * math.log calls), same tie rule as Python's max over (value, x) tuples (the larger x wins a tie). So the
 * route is jieba's own; tests/test_jieba_window.py checks it against jieba on real and generated text.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdlib.h>

/* FREQ.get(s[k:i + 1]): a new reference or NULL (absent); -1 in *err on a Python error. */
static PyObject *lookup(PyObject *freq, PyObject *s, Py_ssize_t k, Py_ssize_t i, int *err) {
    PyObject *frag = PyUnicode_Substring(s, k, i + 1);
    if (!frag) {
        *err = -1;
        return NULL;
    }
    PyObject *v = PyDict_GetItemWithError(freq, frag);
    Py_DECREF(frag);
    if (!v && PyErr_Occurred()) *err = -1;
    Py_XINCREF(v);
    return v;
}

static PyObject *route(PyObject *self, PyObject *args) {
    PyObject *s, *freq;
    double logtotal;
    if (!PyArg_ParseTuple(args, "UO!d", &s, &PyDict_Type, &freq, &logtotal)) return NULL;
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
            PyObject *v = lookup(freq, s, k, i, &err);
            if (err) goto done;
            if (!v) break; /* not even a prefix of a word: the DAG stops here */
            int truthy = PyObject_IsTrue(v);
            double f = 0.0;
            if (truthy > 0) f = PyFloat_AsDouble(v);
            Py_DECREF(v);
            if (truthy < 0 || (truthy > 0 && f == -1.0 && PyErr_Occurred())) goto done;
            if (!truthy) continue; /* a prefix only */
            if (used == cap) {
                cap *= 2;
                Py_ssize_t *e2 = realloc(ends, (size_t)cap * sizeof(Py_ssize_t));
                if (e2) ends = e2;
                double *l2 = realloc(logf, (size_t)cap * sizeof(double));
                if (l2) logf = l2;
                if (!e2 || !l2) {
                    PyErr_NoMemory();
                    goto done;
                }
            }
            ends[used] = i;
            logf[used] = log(f);
            used++;
        }
        if (used == dag_start[k]) { /* no word starts here: the character alone, FREQ.get(...) or 1 */
            if (used == cap) {
                cap *= 2;
                Py_ssize_t *e2 = realloc(ends, (size_t)cap * sizeof(Py_ssize_t));
                if (e2) ends = e2;
                double *l2 = realloc(logf, (size_t)cap * sizeof(double));
                if (l2) logf = l2;
                if (!e2 || !l2) {
                    PyErr_NoMemory();
                    goto done;
                }
            }
            PyObject *v = lookup(freq, s, k, k, &err);
            if (err) goto done;
            double f = 1.0;
            if (v) {
                int truthy = PyObject_IsTrue(v);
                if (truthy > 0) f = PyFloat_AsDouble(v);
                Py_DECREF(v);
                if (truthy < 0 || PyErr_Occurred()) goto done;
            }
            ends[used] = k;
            logf[used] = log(f);
            used++;
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

static PyMethodDef methods[] = {
    {"route", route, METH_VARARGS,
     "route(block, freq, logtotal) -> [end, ...]\n\n"
     "For each position of `block`, the last position of the word that jieba's best route (get_DAG, calc with\n"
     "dictionary `freq` and log(total) `logtotal`) takes there: route[k][1] of Tokenizer.calc."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_jieba_route", NULL, -1, methods};

PyMODINIT_FUNC PyInit__jieba_route(void) { return PyModule_Create(&module); }
